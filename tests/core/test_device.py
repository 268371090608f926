import os

import pytest
import torch

from neural_style.core import device as device_module
from neural_style.core.device import available_memory, resolve_device, resolve_precision
from neural_style.errors import InputError


def _no_mps(monkeypatch):
    mps = getattr(torch.backends, "mps", None)
    if mps is not None:
        monkeypatch.setattr(mps, "is_available", lambda: False)


def test_auto_and_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    _no_mps(monkeypatch)
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto") == torch.device("cpu")


def test_auto_prefers_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")


@pytest.mark.parametrize("name", ["tpu", "cuda:x", "gpu0", ""])
def test_unknown_device(name):
    with pytest.raises(InputError, match="unknown device"):
        resolve_device(name)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without CUDA")
def test_cuda_without_cuda():
    with pytest.raises(InputError, match="CUDA is not available"):
        resolve_device("cuda:0")


def test_precision_choices():
    cpu = torch.device("cpu")
    assert resolve_precision("fp32", cpu) is None
    assert resolve_precision("bf16", cpu) is torch.bfloat16
    with pytest.raises(InputError, match="fp16 is for GPUs"):
        resolve_precision("fp16", cpu)
    with pytest.raises(InputError, match="unknown precision"):
        resolve_precision("fp64", cpu)


@pytest.mark.parametrize("native, expected", [(True, torch.bfloat16), (False, None)])
def test_auto_precision_follows_native_bf16_on_cpu(native, expected, monkeypatch):
    monkeypatch.setattr(device_module, "_cpu_has_native_bf16", lambda: native)
    assert resolve_precision("auto", torch.device("cpu")) is expected


@pytest.fixture
def fake_cuda(monkeypatch):
    """A simulated CUDA GPU with bf16 support; set ``.capability`` to change its compute capability."""
    gpu = type("FakeGPU", (), {"capability": (8, 0), "asked": []})()

    def capability(device=None):
        gpu.asked.append(device)
        return gpu.capability

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", capability)
    monkeypatch.setattr(device_module, "_cpu_has_native_bf16", lambda: True)
    return gpu


def test_auto_precision_is_fp32_on_gpus(fake_cuda):
    """bf16 has not been measured on a GPU: auto stays fp32 there, even where bf16 is supported."""
    assert resolve_precision("auto", torch.device("cuda")) is None
    assert resolve_precision("auto", torch.device("cuda:1")) is None
    assert resolve_precision("auto", torch.device("mps")) is None


def test_explicit_bf16_on_cuda_needs_ampere(fake_cuda):
    device = torch.device("cuda:0")
    assert resolve_precision("bf16", device) is torch.bfloat16
    assert fake_cuda.asked == [device]
    assert resolve_precision("fp16", device) is torch.float16
    fake_cuda.capability = (7, 5)
    with pytest.raises(InputError, match="bf16 needs a CUDA GPU of compute capability 8.0 or newer, cuda:0 has 7.5"):
        resolve_precision("bf16", device)
    assert resolve_precision("fp16", device) is torch.float16
    assert resolve_precision("fp32", device) is None


def test_available_memory_reads_mem_available(tmp_path, monkeypatch):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16000000 kB\nMemFree:          100000 kB\n"
                       "MemAvailable:    9000000 kB\nBuffers:          200000 kB\n")
    monkeypatch.setattr(device_module, "_MEMINFO", str(meminfo))
    monkeypatch.setattr(os, "sysconf", lambda name: 1)  # MemFree-like free pages are not asked
    assert available_memory(torch.device("cpu")) == 9000000 * 1024


def test_available_memory_falls_back(tmp_path, monkeypatch):
    monkeypatch.setattr(device_module, "_MEMINFO", str(tmp_path / "missing"))
    pages = {"SC_AVPHYS_PAGES": 1000, "SC_PAGE_SIZE": 4096}
    monkeypatch.setattr(os, "sysconf", lambda name: pages[name])
    assert available_memory(torch.device("cpu")) == 1000 * 4096  # no /proc/meminfo: the free pages

    (tmp_path / "old").write_text("MemTotal: 100 kB\nMemFree: 50 kB\n")  # no MemAvailable line (Linux < 3.14)
    monkeypatch.setattr(device_module, "_MEMINFO", str(tmp_path / "old"))
    assert available_memory(torch.device("cpu")) == 1000 * 4096

    def unsupported(name):
        raise ValueError(name)

    monkeypatch.setattr(os, "sysconf", unsupported)
    assert available_memory(torch.device("cpu")) == 1 << 62  # unknown: don't refuse


def test_bf16_on_a_cpu_without_native_bf16_warns_once_in_one_line(monkeypatch):
    import warnings

    from neural_style.core import device as device_module

    monkeypatch.setattr(device_module, "_cpu_has_native_bf16", lambda: False)
    with pytest.warns(UserWarning, match="without native bf16 .* slower than fp32: use precision auto or fp32"):
        assert device_module.resolve_precision("bf16", torch.device("cpu")) is torch.bfloat16
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert device_module.resolve_precision("auto", torch.device("cpu")) is None  # auto picks fp32 silently
    monkeypatch.setattr(device_module, "_cpu_has_native_bf16", lambda: True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert device_module.resolve_precision("bf16", torch.device("cpu")) is torch.bfloat16
