"""The memory a container's cgroup still allows (issue 27: the checks read the host's free memory, and the
OOM killer ended runs a tile size would have fitted)."""

import torch

from neural_style.core import cgroup, device
from neural_style.core.cgroup import cgroup_available

GIB = 1 << 30


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_v2_limit_less_usage_plus_reclaimable_cache(tmp_path):
    proc = tmp_path / "cgroup"
    write(proc, "0::/kubepods/pod1/ctr\n")
    root = tmp_path / "sys"
    write(root / "kubepods/pod1/ctr/memory.max", f"{3 * GIB}\n")
    write(root / "kubepods/pod1/ctr/memory.current", f"{GIB}\n")
    write(root / "kubepods/pod1/ctr/memory.stat", f"anon 100\ninactive_file {GIB // 2}\nactive_file 7\n")
    assert cgroup_available(proc, root) == 3 * GIB - GIB // 2
    write(root / "kubepods/pod1/memory.max", f"{2 * GIB}\n")  # the pod's limit is tighter
    write(root / "kubepods/pod1/memory.current", f"{GIB}\n")
    assert cgroup_available(proc, root) == GIB
    write(root / "kubepods/pod1/memory.max", "max\n")
    write(root / "kubepods/pod1/ctr/memory.max", "max\n")
    assert cgroup_available(proc, root) is None  # no limit anywhere


def test_v1_and_a_container_that_sees_its_cgroup_as_the_root(tmp_path):
    proc = tmp_path / "cgroup"
    write(proc, "9:name=systemd:/\n4:memory:/docker/abc\n0::/\n")
    root = tmp_path / "sys"
    write(root / "memory/memory.limit_in_bytes", f"{3 * GIB}\n")  # the path itself is not visible in here
    write(root / "memory/memory.usage_in_bytes", f"{2 * GIB}\n")
    write(root / "memory/memory.stat", f"total_inactive_file {GIB}\n")
    assert cgroup_available(proc, root) == 2 * GIB
    write(root / "memory/memory.limit_in_bytes", "9223372036854771712\n")  # v1's "no limit"
    assert cgroup_available(proc, root) is None
    assert cgroup_available(tmp_path / "missing", root) is None


def test_every_memory_check_counts_the_limit(tmp_path, monkeypatch):
    """available_memory (behind the tile planner, the size checks, decoding and denoise) takes the smaller
    of the host's free memory and the cgroup's room."""
    monkeypatch.setattr(device, "_meminfo_available", lambda: 20 * GIB)
    monkeypatch.setattr(device, "cgroup_available", lambda: 3 * GIB)
    assert device.available_memory(torch.device("cpu")) == 3 * GIB
    monkeypatch.setattr(device, "cgroup_available", lambda: None)
    assert device.available_memory(torch.device("cpu")) == 20 * GIB
    assert cgroup.V1_UNLIMITED < 9223372036854771712


def test_stylize_is_refused_before_any_work_under_a_tight_container_limit(content_file, style_file, vgg16_file,
                                                                        tmp_path, monkeypatch):
    from tests.clitools import invoke
    monkeypatch.setattr(device, "cgroup_available", lambda: GIB // 8)  # a 128 MiB container
    result = invoke("stylize", content_file, style_file, "-o", tmp_path / "o.png", "--weights", vgg16_file,
                    "--size", "1536", "--tile-size", "0", "--scales", "none", "--iterations", "1")
    assert result.exit_code == 2, result.stderr
    assert "need about 7.0 GiB on cpu but 128.0 MiB are free: use a smaller --size, --tile-size auto" in result.stderr
    assert not (tmp_path / "o.png").exists()
