"""``denoise --jobs N``: files in worker processes, outputs and report in input order, failures and
interruptions as in one process."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from neural_style.denoising import parallel, runner
from neural_style.denoising.runner import denoise_files, plan_outputs
from neural_style.errors import InputError
from neural_style.settings import DenoiseSettings

from ..clitools import assert_ok, invoke

ROOT = Path(__file__).resolve().parents[2]


def noisy_folder(folder: Path, count: int, size=(40, 48)) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        rng = np.random.default_rng(i)
        step = (np.arange(size[1]) > size[1] // 2)[None, :, None]
        image = np.clip(0.5 + 0.3 * step + rng.normal(0, 0.1, (*size, 3)), 0, 1)
        Image.fromarray(np.round(image * 255).astype(np.uint8)).save(folder / f"f{i:02d}.png")
    return folder


def test_resolve_jobs():
    assert parallel.resolve_jobs(3, 10) == 3 and parallel.resolve_jobs(3, 2) == 2 and parallel.resolve_jobs(1, 5) == 1
    assert parallel.resolve_jobs("auto", 100) == parallel.available_cores()
    assert parallel.resolve_jobs("auto", 1) == 1


def test_parallel_outputs_and_report_match_one_process_in_input_order(tmp_path):
    src = noisy_folder(tmp_path / "in", 5)
    assert_ok(invoke("denoise", src, "-o", tmp_path / "one", "--report", tmp_path / "one.json", "--quiet"))
    assert_ok(invoke("denoise", src, "-o", tmp_path / "two", "--report", tmp_path / "two.json", "--jobs", "2",
                     "--quiet"))
    one, two = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("one", "two"))
    assert one["jobs"] == 1 and two["jobs"] == 2
    assert [r["input"] for r in two["images"]] == [str(p) for p in sorted(src.iterdir())]
    for a, b in zip(one["images"], two["images"]):
        assert (a["sigma"], a["tv_weight"], a["iterations"]) == (b["sigma"], b["tv_weight"], b["iterations"])
    for name in sorted(p.name for p in src.iterdir()):  # one thread in both: the same arithmetic
        assert np.array_equal(np.asarray(Image.open(tmp_path / "one" / name)),
                              np.asarray(Image.open(tmp_path / "two" / name)))


def test_summary_lines_come_in_input_order(tmp_path):
    src = noisy_folder(tmp_path / "in", 4)
    result = invoke("denoise", src, "-o", tmp_path / "out", "--jobs", "2")
    assert_ok(result)
    names = [line.split(":")[0] for line in result.stderr.splitlines() if "sigma" in line]
    assert names == [str(p) for p in sorted(src.iterdir())]


def test_a_corrupt_file_in_a_parallel_batch_is_named_and_the_others_written(tmp_path):
    src = noisy_folder(tmp_path / "in", 4)
    (src / "f01.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    result = invoke("denoise", src, "-o", tmp_path / "out", "--jobs", "2", "--report", tmp_path / "r.json",
                    "--quiet")
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and "f01.png" in lines[0] and lines[1].startswith("error: 1 of 4 files failed")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["f00.png", "f02.png", "f03.png"]
    report = json.loads((tmp_path / "r.json").read_text())
    assert [Path(f["input"]).name for f in report["failures"]] == ["f01.png"]


@pytest.mark.parametrize("jobs", ["0", "-2", "two", "1.5"])
def test_bad_jobs_are_one_line(tmp_path, jobs):
    src = noisy_folder(tmp_path / "in", 1)
    result = invoke("denoise", src, "-o", tmp_path / "out", "--jobs", jobs)
    assert result.exit_code == 2 and "'--jobs'" in result.stderr and "Traceback" not in result.stderr
    with pytest.raises(InputError, match="jobs must be 'auto' or an integer >= 1"):
        denoise_files(plan_outputs([src], tmp_path / "o2"), jobs=0)


def test_ctrl_c_in_the_parent_keeps_the_finished_files_and_names_the_rest(tmp_path):
    """The parent interrupted while taking the first result: the files in flight finish or stop with their best
    so far, the files never started are unprocessed, and no temporary file is left."""
    src = noisy_folder(tmp_path / "in", 8, size=(200, 240))
    seen = []

    def on_file(index, record):
        seen.append(index)
        if len(seen) == 1:
            raise KeyboardInterrupt

    batch = denoise_files(plan_outputs([src], tmp_path / "out"), DenoiseSettings(sigma=0.1, tolerance=0, tv_weight="rule"),
                          jobs=2, on_file=on_file, report=tmp_path / "r.json")
    assert batch.stop_reason == "interrupted" and seen[0] == 1
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == sorted(Path(r["output"]).name for r in batch.records)
    assert len(batch.records) + len(batch.unprocessed) == 8 and batch.unprocessed
    assert not [p for p in tmp_path.rglob(".*") if p.is_file()]  # no temporary file
    assert json.loads((tmp_path / "r.json").read_text())["stop_reason"] == "interrupted"


@pytest.mark.slow
def test_sigint_to_the_process_group_stops_every_worker_cleanly(tmp_path):
    """Ctrl-C in a terminal: SIGINT to the whole foreground group (parent and workers)."""
    src = noisy_folder(tmp_path / "in", 12, size=(300, 400))
    out = tmp_path / "out"
    args = [sys.executable, "-m", "neural_style.cli", "denoise", src, "-o", out, "--jobs", "2", "--tolerance", "0",
            "--iterations", "3000", "--sigma", "20", "--tv-weight", "rule", "--report", tmp_path / "r.json"]
    proc = subprocess.Popen([str(a) for a in args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True,  # SIGINT as a terminal has it (a background
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # job ignores it)
    deadline = time.time() + 300
    while not (out.is_dir() and any(p.suffix == ".png" and not p.name.startswith(".") for p in out.iterdir())):
        assert proc.poll() is None and time.time() < deadline, proc.communicate()
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and stderr.strip().splitlines()[-1].startswith("interrupted: wrote ")
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["unprocessed"] and len(report["images"]) + len(report["unprocessed"]) == 12
    assert sorted(p.name for p in out.iterdir()) == sorted(Path(r["output"]).name for r in report["images"])
    assert not [p for p in tmp_path.rglob(".*") if p.is_file()]


def test_the_worker_stops_only_the_file_it_is_on(monkeypatch):
    """SIGTERM from the parent: a KeyboardInterrupt inside a file (its solver keeps the best so far), never
    while idle or writing; the next file is then skipped."""
    monkeypatch.setattr(parallel, "_state", {"busy": False, "stop": False})
    parallel._stop_requested(signal.SIGTERM, None)  # idle: recorded only
    assert parallel._state == {"busy": False, "stop": True}
    assert parallel._work(3, Path("x.png"), Path("y.png"), DenoiseSettings(), None) == (3, "unprocessed", None)
    parallel._state.update(busy=True, stop=False)
    with pytest.raises(KeyboardInterrupt):
        parallel._stop_requested(signal.SIGTERM, None)
    assert parallel._state == {"busy": False, "stop": True}  # a second signal while writing is not raised
    parallel._stop_requested(signal.SIGTERM, None)


def test_one_process_is_used_for_one_file(tmp_path, monkeypatch):
    src = noisy_folder(tmp_path / "in", 1)
    monkeypatch.setattr(runner, "run_parallel", lambda *a: pytest.fail("no workers for one file"))
    assert denoise_files(plan_outputs([src], tmp_path / "out"), jobs="auto").jobs == 1


def test_jobs_on_an_accelerator_run_in_one_process_with_a_warning(tmp_path, monkeypatch):
    import torch

    src = noisy_folder(tmp_path / "in", 2)
    monkeypatch.setattr(runner, "resolve_device", lambda name: torch.device("cuda"))
    monkeypatch.setattr(runner, "run_parallel", lambda *a: pytest.fail("no workers on an accelerator"))
    said = []
    batch = denoise_files(plan_outputs([src], tmp_path / "out"), DenoiseSettings(tv_weight="rule"), jobs=2,
                          warn=said.append)
    assert batch.jobs == 1 and len(batch.records) == 2
    assert said == ["jobs 2 is for denoising on CPUs: one process denoises on auto"]


def test_the_solver_takes_one_thread_for_small_images_or_a_busy_machine(monkeypatch):
    import torch

    from neural_style.denoising import resources

    small, large = torch.zeros(1, 1, 128, 128), torch.zeros(1, 3, 512, 512)
    monkeypatch.setattr(resources, "other_load", lambda samples: 0.0)
    assert resources.solver_threads(small) == 1 and resources.solver_threads(large) == torch.get_num_threads()
    monkeypatch.setattr(resources, "other_load", lambda samples: 1.0)  # one other busy process
    assert resources.solver_threads(large) == 1


def test_a_worker_that_dies_fails_its_file_by_name_and_the_others_are_written(tmp_path, monkeypatch):
    """The OOM killer or a segfault takes one worker: that file fails naming the process and the signal,
    every other file is written (those whose results died with the pool are done again), exit 1, and the
    report and the files agree (issue 27: exit 130 "interrupted", the dead worker never named)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the workers inherit the stand-in only when forked")
    src = noisy_folder(tmp_path / "in", 5)
    real = parallel.denoise_one

    def dies_on_f02(path, *args, **kwargs):
        if path.name == "f02.png":
            os.kill(os.getpid(), signal.SIGKILL)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(parallel, "denoise_one", dies_on_f02)
    out, report = tmp_path / "out", tmp_path / "r.json"
    result = invoke("denoise", src, "-o", out, "--jobs", "2", "--sigma", "20", "--report", report)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.stderr and "interrupted" not in result.stderr
    assert re.search(r"f02.png': the worker process \d+ denoising it was killed by SIGKILL \(the OOM killer sends "
                     r"it when memory runs out: try fewer --jobs\)", result.stderr), result.stderr
    data = json.loads(report.read_text())
    assert data["stop_reason"] == "completed" and data["unprocessed"] == []
    assert [Path(f["input"]).name for f in data["failures"]] == ["f02.png"]
    assert sorted(Path(r["output"]).name for r in data["images"]) == ["f00.png", "f01.png", "f03.png", "f04.png"]
    assert sorted(p.name for p in out.iterdir()) == ["f00.png", "f01.png", "f03.png", "f04.png"]
