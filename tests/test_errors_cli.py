"""Issue 10's kinds through the command line: never a traceback, never lost work.

* every number option of every command refuses inf, nan and out-of-range values in one line,
  exit 2, with the words of its settings rule (one shared set of checks);
* the last-resort handler (``internal error ...; run with --debug``), ``--debug`` and
  ``NEURAL_STYLE_DEBUG``; OS errors as one line naming the path;
* SIGTERM and SIGHUP stop like Ctrl-C (best image, report, exit 128 + signal), in a real process;
* the named cases: 1x1 content with L-BFGS, ``transfer --size 100000``, a dataset of unreadable
  files, an unwritable checkpoint folder, a checkpoint that cannot be written.
"""

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from neural_style.cli import cli
from neural_style.cli.options import RuleType as _RuleType
from neural_style.fast import train_run
from neural_style.fast.model_file import save_model
from neural_style.fast.transformer import TransformerNet
from neural_style.style_transfer import runner as stylize_runner

from .clitools import assert_error, assert_ok, invoke, no_crash, snapshot

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def files(tmp_path, content_file, style_file):
    """Valid inputs for every command (so that only the option under test is wrong)."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(2):
        Image.fromarray(np.random.default_rng(i).integers(0, 255, (36, 44, 3), dtype=np.uint8)).save(
            photos / f"p{i}.png")
    model = save_model(tmp_path / "m.pth", TransformerNet(width=0.25), {"steps": 0})
    return {"content": content_file, "style": style_file, "photos": photos, "model": model, "out": tmp_path / "out"}


def command_line(command, files):
    out = files["out"]
    return {
        "stylize": ["stylize", files["content"], files["style"], "-o", out / "o.png", "--size", "48"],  # its size
        "denoise": ["denoise", files["content"], "-o", out / "d.png"],
        "train": ["train", files["style"], "--dataset", files["photos"], "-o", out / "m.pth"],
        "transfer": ["transfer", files["model"], files["content"], "-o", out / "t.png"],
    }[command]


def number_options(command):
    """The options of ``command`` that take a number (checked by a rule or a number callback)."""
    params = cli.commands[command].params
    return [p.opts[0] for p in params if isinstance(p.type, _RuleType)
            or p.opts[0] in ("--iterations", "--tile-size", "--lbfgs-history", "--tv-weight", "--sigma", "--seed",
                             "--save-every", "--style-blend-weights")]


CASES = [(command, option, value) for command in ("stylize", "denoise", "train", "transfer")
         for option in number_options(command) for value in ("inf", "nan", "-1", "1e999", "ten")]


def test_every_command_has_rule_checked_number_options():
    for command in ("stylize", "denoise", "train", "transfer"):
        assert any(isinstance(p.type, _RuleType) for p in cli.commands[command].params), command
    assert len(CASES) > 100


@pytest.mark.parametrize("command, option, value", CASES, ids=[f"{c} {o} {v}" for c, o, v in CASES])
def test_bad_numbers_are_one_line_and_exit_2_in_every_command(command, option, value, files):
    result = invoke(*command_line(command, files), option, value)
    assert result.exit_code == 2, (result.output, result.exception)
    no_crash(result)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "error" in lines[0], result.stderr
    assert option in lines[0] or option.lstrip("-").replace("-", " ") in lines[0], lines[0]
    assert not files["out"].exists()


def test_the_same_bad_value_gets_the_same_words_in_every_command(files):
    lines = {command: invoke(*command_line(command, files), "--tv-beta", "inf").stderr
             for command in ("stylize", "denoise", "train")}
    for command, line in lines.items():  # word for word, only the command's name differs
        assert line == (f"neural-style {command}: error: Invalid value for '--tv-beta': must be a finite number > 0 "
                        f"and <= 10, got inf (see 'neural-style {command} --help')\n"), line
    assert all("must be a finite number > 0 and <= 10, got inf" in line for line in lines.values()), lines


# --- the last resort, --debug, OS errors ----------------------------------------------------

def crash(*args, **kwargs):
    raise ZeroDivisionError("division by zero\nsecond line")


def test_an_unexpected_exception_is_one_line_and_exit_1(files, monkeypatch):
    monkeypatch.setattr(stylize_runner, "run_stylize", crash)
    result = invoke(*command_line("stylize", files))
    assert_error(result, 1, "ZeroDivisionError: division by zero; run with --debug for the traceback",
                 prefix="internal error: ")


@pytest.mark.parametrize("where", ["first", "last", "env"])
def test_debug_shows_the_traceback(files, monkeypatch, where):
    monkeypatch.setattr(stylize_runner, "run_stylize", crash)
    args = command_line("stylize", files)
    if where == "env":
        monkeypatch.setenv("NEURAL_STYLE_DEBUG", "1")
    else:
        args = ["--debug", *args] if where == "first" else [*args, "--debug"]
    result = invoke(*args)
    assert isinstance(result.exception, ZeroDivisionError)


def test_debug_is_in_the_help():
    assert "--debug" in invoke("--help").output


@pytest.mark.parametrize("code, advice", [(errno.ENOSPC, "free some space"), (errno.EACCES, "permissions"),
                                          (errno.EROFS, "read-only")])
def test_os_errors_are_one_line_naming_the_path(files, monkeypatch, code, advice):
    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code), "/somewhere/o.png")

    monkeypatch.setattr(stylize_runner, "run_stylize", fail)
    assert_error(invoke(*command_line("stylize", files)), 1, "'/somewhere/o.png'", os.strerror(code), advice)


# --- signals: a real process ----------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_keep_the_best_image_and_the_report(sig, files, vgg16_file, tmp_path):
    out, report = tmp_path / "o.png", tmp_path / "r.json"
    args = [sys.executable, "-m", "neural_style.cli", "stylize", files["content"], files["style"], "-o", out,
            "--size", "32", "--iterations", "100000", "--weights", vgg16_file, "--save-every", "1",
            "--report", report, "--device", "cpu"]
    proc = subprocess.Popen([str(a) for a in args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.time() + 300  # a loaded CI machine is slow to start torch
    while not (tmp_path / "o-0002.png").exists():  # optimising: at least two iterations done
        assert proc.poll() is None and time.time() < deadline, proc.communicate()
        time.sleep(0.1)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 128 + sig, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith(f"stopped by {signal.Signals(sig).name} at iteration ")
    assert out.is_file() and json.loads(report.read_text())["stop_reason"] == "interrupted"
    assert not list(tmp_path.glob(".*"))  # no temporary file left


# --- the named cases --------------------------------------------------------------------------

def test_stylize_a_1x1_content_with_lbfgs(tmp_path, style_file, vgg16_file):
    Image.new("RGB", (1, 1), (200, 30, 10)).save(tmp_path / "one.png")
    assert_ok(invoke("stylize", tmp_path / "one.png", style_file, "-o", tmp_path / "o.png", "--size", "32",
                     "--iterations", "2", "--weights", vgg16_file, "--quiet"))
    assert Image.open(tmp_path / "o.png").size == (32, 32)


def test_transfer_checks_memory_before_allocating(files):
    result = invoke("transfer", files["model"], files["content"], "-o", files["out"] / "t.png", "--size", "100000")
    assert_error(result, 2, "needs about", "GiB", "use a smaller --size")
    assert not files["out"].exists()


def test_train_on_a_dataset_of_unreadable_files_stops_with_one_line(files, tmp_path, vgg16_file):
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("a.jpg", "b.png"):
        (bad / name).write_bytes(b"not an image")
    result = invoke("train", files["style"], "--dataset", bad, "-o", tmp_path / "m2.pth", "--weights", vgg16_file,
                    "--image-size", "32", "--iterations", "2")
    assert_error(result, 2, "none of the 2 dataset files could be read")
    assert not (tmp_path / "m2.pth").exists()


def test_train_checks_the_checkpoint_folder_before_the_first_step(files, tmp_path, vgg16_file, monkeypatch):
    (tmp_path / "afile").write_text("x")
    steps = []
    monkeypatch.setattr(train_run, "run_training", lambda *a, **k: steps.append(1))
    result = invoke("train", files["style"], "--dataset", files["photos"], "-o", tmp_path / "m2.pth",
                    "--weights", vgg16_file, "--checkpoint-dir", tmp_path / "afile" / "ck")
    assert_error(result, 2, "checkpoint", "is a file, not a folder")
    assert steps == []


def test_a_checkpoint_that_cannot_be_written_keeps_the_model(files, tmp_path, vgg16_file, monkeypatch):
    """A full disk under the checkpoint folder: torch serialises in memory and Python writes the bytes
    (torch's own writers turned ENOSPC into "enforce fail at inline_container.cc")."""
    real_write = Path.write_bytes

    def full_disk(self, data):
        if ".ckpt" in self.name:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", full_disk)
    result = invoke("train", files["style"], "--dataset", files["photos"], "-o", tmp_path / "m2.pth", "--weights",
                    vgg16_file, "--image-size", "32", "--batch-size", "1", "--iterations", "3",
                    "--checkpoint-every", "2", "--width", "0.25", "--quiet", "--report", tmp_path / "r.json")
    assert result.exit_code == 1
    no_crash(result)
    line = result.stderr.splitlines()[-1]  # after the short-training warning
    for fragment in ("error: could not write", "step-000002.ckpt", "training stopped at step 2",
                     "wrote the model so far"):
        assert fragment in line, line
    assert str(tmp_path / "m2.pth") in line and (tmp_path / "m2.pth").is_file()
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["stop_reason"] == "checkpoint-failed" and report["model_written"] and report["steps"] == 2
    assert not [p for p in (tmp_path / "m2-checkpoints").iterdir() if p.suffix == ".ckpt"]


def test_train_interrupted_before_any_step_writes_no_model_and_names_no_missing_file(files, tmp_path, vgg16_file,
                                                                                      monkeypatch):
    from neural_style.fast import training

    def interrupted(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(training.Trainer, "train_step", interrupted)
    result = invoke("train", files["style"], "--dataset", files["photos"], "-o", tmp_path / "m2.pth", "--weights",
                    vgg16_file, "--image-size", "32", "--iterations", "2000", "--width", "0.25", "--quiet",
                    "--report", tmp_path / "r.json")
    assert_error(result, 130, "no step finished: wrote no model; no checkpoint was written yet",
                 prefix="interrupted at step 0")
    assert not (tmp_path / "m2.pth").exists()
    report = json.loads((tmp_path / "r.json").read_text())  # the report says so too
    assert report["stop_reason"] == "interrupted" and report["steps"] == 0 and report["model_written"] is False


# --- batches: every readable file processed, failures named, the report written -------------

@pytest.fixture
def batch(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.png", "c.png"):
        Image.fromarray(np.random.default_rng(1).integers(0, 255, (20, 24, 3), dtype=np.uint8)).save(folder / name)
    (folder / "b.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return folder


def test_denoise_batch_with_a_corrupt_file_processes_the_rest_and_reports_it(batch, tmp_path):
    inputs = [batch / "a.png", batch / "b.jpg", batch / "c.png"]
    result = invoke("denoise", *inputs, "-o", tmp_path / "out", "--report", tmp_path / "r.json", "--quiet")
    assert result.exit_code == 1, result.output
    no_crash(result)
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith("error: ") and "b.jpg" in lines[0], lines
    assert lines[1].startswith("error: 1 of 3 files failed (named above; listed in ") and "other 2" in lines[1]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "c.png"]
    report = json.loads((tmp_path / "r.json").read_text())
    assert [Path(r["input"]).name for r in report["images"]] == ["a.png", "c.png"]
    assert [Path(f["input"]).name for f in report["failures"]] == ["b.jpg"] and report["failures"][0]["error"]
    assert report["stop_reason"] == "completed" and report["unprocessed"] == []


@pytest.mark.parametrize("command", ["stylize", "denoise", "train", "transfer"])
def test_a_stop_while_the_first_image_is_read_still_writes_the_report(command, files, tmp_path, monkeypatch,
                                                                       vgg16_file):
    from neural_style.io import decode

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(decode, "_read_file", stop)
    report = tmp_path / "r.json"
    weights = ["--weights", vgg16_file] if command in ("stylize", "train") else []
    result = invoke(*command_line(command, files), "--report", report, *weights)
    assert result.exit_code == 130 and "Traceback" not in result.stderr
    assert json.loads(report.read_text())["stop_reason"] == "interrupted"


def test_denoise_interrupted_writes_the_report_and_names_the_unprocessed_files(batch, tmp_path, monkeypatch):
    from neural_style.denoising import runner as denoise_runner

    real, calls = denoise_runner.denoise_one, []

    def stop_on_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(denoise_runner, "denoise_one", stop_on_second)
    inputs = [batch / "a.png", batch / "c.png", batch / "a.png"]
    inputs[2] = tmp_path / "d.png"
    Image.open(batch / "a.png").save(inputs[2])
    result = invoke("denoise", *inputs, "-o", tmp_path / "out", "--report", tmp_path / "r.json", "--quiet")
    line = assert_error(result, 130, "wrote 1 of 3 files; not processed: ", "c.png", "d.png", prefix="interrupted")
    assert "listed in" in line
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["stop_reason"] == "interrupted"
    assert [Path(p).name for p in report["unprocessed"]] == ["c.png", "d.png"]
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a.png"]


def test_transfer_folder_with_a_corrupt_file_processes_the_rest_and_reports_it(batch, files, tmp_path):
    result = invoke("transfer", files["model"], batch, "-o", tmp_path / "out", "--report", tmp_path / "r.json",
                    "--quiet")
    assert result.exit_code == 1, result.output
    no_crash(result)
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith("error: ") and "b.jpg" in lines[0], lines
    assert lines[1].startswith("error: 1 of 3 files failed (named above; listed in ") and "other 2" in lines[1]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "c.png"]
    report = json.loads((tmp_path / "r.json").read_text())
    assert [Path(r["input"]).name for r in report["files"]] == ["a.png", "c.png"]
    assert report["network"] == {"width": 0.25, "residual_blocks": 5, "antialias": False}
    assert report["trained"] == {"steps": 0} and report["device"] == "cpu"  # the model file's record; not "auto"
    assert all(r["frames"] == 1 and r["seconds"] > 0 for r in report["files"])
    assert [Path(f["input"]).name for f in report["failures"]] == ["b.jpg"] and report["failures"][0]["error"]
    assert report["stop_reason"] == "completed" and report["unprocessed"] == []


def test_transfer_interrupted_writes_the_report_and_names_the_unprocessed_files(batch, files, tmp_path,
                                                                                monkeypatch):
    from neural_style.fast import transfer_run

    real, calls = transfer_run.transfer_file, []

    def stop_on_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(transfer_run, "transfer_file", stop_on_second)
    (batch / "b.jpg").unlink()
    Image.open(batch / "a.png").save(batch / "d.png")
    result = invoke("transfer", files["model"], batch, "-o", tmp_path / "out", "--report", tmp_path / "r.json",
                    "--quiet")
    line = assert_error(result, 130, "wrote 1 of 3 files; not processed: ", "c.png", "d.png", prefix="interrupted")
    assert "listed in" in line
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["stop_reason"] == "interrupted" and [Path(r["input"]).name for r in report["files"]] == ["a.png"]
    assert [Path(p).name for p in report["unprocessed"]] == ["c.png", "d.png"]
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a.png"]


def test_a_read_only_output_is_refused_not_replaced(files, tmp_path):
    out = tmp_path / "ro.png"
    Image.new("RGB", (8, 8)).save(out)
    out.chmod(0o444)
    before = out.read_bytes()
    result = invoke("denoise", files["content"], "-o", out)
    assert_error(result, 2, f"output '{out}' exists and is read-only", "chmod u+w")
    assert out.read_bytes() == before
    assert out.stat().st_mode & 0o777 == 0o444


def test_small_sizes_enlarge_style_images_instead_of_refusing_them(tmp_path, content_file, vgg16_file):
    """--size 16 with a wide style image (and --style-scale 0.25) runs: styles are only statistics."""
    wide = tmp_path / "wide.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (30, 90, 3), dtype=np.uint8)).save(wide)
    square = tmp_path / "square.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(square)
    for style, extra in ((wide, []), (wide, ["--style-scale", "0.25"])):
        assert_ok(invoke("stylize", square, style, "-o", tmp_path / "o.png", "--size", "16", "--iterations", "2",
                         "--weights", vgg16_file, "--quiet", *extra))


def test_a_content_too_small_at_its_size_names_the_size_that_works(tmp_path, style_file, vgg16_file):
    wide = tmp_path / "wide.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (30, 90, 3), dtype=np.uint8)).save(wide)
    result = invoke("stylize", wide, style_file, "-o", tmp_path / "o.png", "--size", "32", "--weights", vgg16_file)
    assert_error(result, 2, "the content image is 32x11 px as used", "use --size 47 or more")
    assert_ok(invoke("stylize", wide, style_file, "-o", tmp_path / "o.png", "--size", "47", "--iterations", "1",
                     "--weights", vgg16_file, "--quiet"))


# --- kind 5: what users reported -------------------------------------------------------------

def train_args(files, tmp_path, vgg16_file, *extra, output="m2.pth"):
    return ["train", files["style"], "--dataset", files["photos"], "-o", tmp_path / output, "--weights", vgg16_file,
            "--image-size", "32", "--batch-size", "1", "--width", "0.25", *extra]


def test_resume_says_where_it_continues_and_refuses_a_checkpoint_past_the_end(files, tmp_path, vgg16_file):
    first = invoke(*train_args(files, tmp_path, vgg16_file, "--iterations", "4", "--checkpoint-every", "2",
                               "--quiet"))
    assert first.exit_code == 0, first.output
    last = tmp_path / "m2-checkpoints" / "last.ckpt"
    again = invoke(*train_args(files, tmp_path, vgg16_file, "--iterations", "6", "--resume", last))
    assert again.exit_code == 0, again.output
    assert f"resumed from step 4 of 6 ({last})" in again.stderr
    before = (tmp_path / "m2.pth").read_bytes()
    past = invoke(*train_args(files, tmp_path, vgg16_file, "--iterations", "3", "--resume", last))
    assert_error(past, 2, f"checkpoint '{last}' is at step 6, and this run ends at step 3", "--iterations")
    assert (tmp_path / "m2.pth").read_bytes() == before


def test_resuming_at_the_last_step_writes_the_checkpoint_s_network(files, tmp_path, vgg16_file, monkeypatch):
    """How a network of an earlier step is taken out of a longer training: resume its checkpoint with
    --iterations at its step; no step is trained and the model is that network (the same as a run to that step)."""
    monkeypatch.setenv("OMP_NUM_THREADS", str(torch.get_num_threads()))  # both runs on the same threads, under load too
    longer = train_args(files, tmp_path, vgg16_file, "--iterations", "4", "--checkpoint-every", "2", "--quiet")
    assert_ok(invoke(*longer))
    assert_ok(invoke(*train_args(files, tmp_path, vgg16_file, "--iterations", "2", "--quiet", output="at2.pth")))
    step2 = tmp_path / "m2-checkpoints" / "step-000002.ckpt"
    taken = invoke(*train_args(files, tmp_path, vgg16_file, "--iterations", "2", "--resume", step2))
    assert taken.exit_code == 0, taken.output
    assert f"checkpoint '{step2}' is at the last step (2): its network is written as the model" in taken.stderr
    assert "(2 steps, no step trained)" in taken.stderr
    got, straight = torch.load(tmp_path / "m2.pth", weights_only=True), torch.load(tmp_path / "at2.pth", weights_only=True)
    assert got["metadata"]["steps"] == 2
    for name, value in straight["state_dict"].items():
        assert torch.equal(got["state_dict"][name], value), name


def test_a_damaged_checkpoint_is_one_line_naming_it(files, tmp_path, vgg16_file):
    """Checkpoints edited or half-written by other tools: a missing key, a wrong type, a negative step."""
    assert invoke(*train_args(files, tmp_path, vgg16_file, "--iterations", "2", "--quiet")).exit_code == 0
    good = torch.load(tmp_path / "m2-checkpoints" / "last.ckpt", weights_only=True)
    damages = {"no param_groups": lambda st: st["optimizer"].pop("param_groups"),
               "rng state a list": lambda st: st.__setitem__("rng", [1, 2, 3]),
               "negative step": lambda st: st.__setitem__("step", -5),
               "short position": lambda st: st.__setitem__("position", [1])}
    for name, damage in damages.items():
        state = torch.load(tmp_path / "m2-checkpoints" / "last.ckpt", weights_only=True)
        damage(state)
        bad = tmp_path / f"{name.replace(' ', '-')}.ckpt"
        torch.save(state, bad)
        result = invoke(*train_args(files, tmp_path, vgg16_file, "--iterations", "10", "--resume", bad))
        assert_error(result, 2, f"checkpoint '{bad}' is damaged", "resume from another step-*.ckpt")
    assert good["step"] == 2


def test_train_names_the_skipped_files_and_lists_them_in_the_report(files, tmp_path, vgg16_file):
    (files["photos"] / "broken.jpg").write_bytes(b"not an image")
    result = invoke(*train_args(files, tmp_path, vgg16_file, "--iterations", "2000", "--epochs", "1",
                                "--report", tmp_path / "r.json"), "--iterations", "3")
    assert result.exit_code == 0, result.output
    assert "1 unreadable file skipped: broken.jpg; all listed in" in result.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert [Path(p).name for p in report["skipped"]] == ["broken.jpg"]


def unsafe_file(path):
    torch.save(TransformerNet(width=0.25), path)  # a whole pickled module: arbitrary Python objects
    return path


def test_unsafe_pickles_are_refused_saying_they_could_run_code(files, tmp_path, vgg16_file, content_file):
    bad = unsafe_file(tmp_path / "evil.pth")
    for args, what in ((["transfer", bad, content_file, "-o", tmp_path / "t.png"], "refused"),
                       (["stylize", content_file, files["style"], "-o", tmp_path / "s.png", "--weights", bad,
                         "--size", "48"],
                        "refused"),
                       (train_args(files, tmp_path, vgg16_file, "--resume", unsafe_file(tmp_path / "evil.ckpt")),
                        "refused")):
        line = assert_error(invoke(*args), 2, what, "could run code")
        assert not line.endswith(("fr)", "...")), line  # whole, not cut mid-word


def test_library_warnings_become_one_line_of_ours(files, monkeypatch):
    import warnings

    def noisy(*args, **kwargs):
        warnings.warn("Corrupt EXIF data.  Expecting to read 12 bytes but only got 6.\n  second line", UserWarning,
                      stacklevel=2)
        raise KeyboardInterrupt

    monkeypatch.setattr(stylize_runner, "run_stylize", noisy)
    result = invoke(*command_line("stylize", files))
    assert result.stderr.splitlines() == [
        "warning: Corrupt EXIF data.  Expecting to read 12 bytes but only got 6.", "interrupted"]


# --- kind 4: cost in proportion ---------------------------------------------------------------

@pytest.mark.parametrize("keep, left", [("2", [5, 6]), ("0", [1, 2, 3, 4, 5, 6])])
def test_keep_checkpoints_rotates_the_step_files(files, tmp_path, vgg16_file, keep, left):
    result = invoke(*train_args(files, tmp_path, vgg16_file, "--iterations", "6", "--checkpoint-every", "1",
                                "--keep-checkpoints", keep, "--quiet"))
    assert result.exit_code == 0, result.output
    folder = tmp_path / "m2-checkpoints"
    assert sorted(p.name for p in folder.glob("*.ckpt")) == ["last.ckpt"] + [f"step-{s:06d}.ckpt" for s in left]
    assert sorted(p.name for p in folder.glob("step-*.jpg")) == [f"step-{s:06d}.jpg" for s in left]  # with theirs
    from neural_style.fast.checkpoints import read_checkpoint
    assert read_checkpoint(folder / "last.ckpt")["step"] == 6


def test_keep_checkpoints_default_is_a_handful():
    from neural_style.settings import TrainSettings
    assert TrainSettings().keep_checkpoints == 5
    assert "--keep-checkpoints" in invoke("train", "--help").output


# --- kind 3: what a file was is kept, or said -------------------------------------------------

def test_a_16_bit_rgb_image_denoised_to_tif_stays_16_bit(tmp_path):
    import tifffile

    src = tmp_path / "in16.png"
    pixels = (np.random.default_rng(0).random((24, 20, 3)) * 65535).astype(np.uint16)
    from neural_style.io.encode import write_image
    write_image(src, pixels.astype(np.float32) / 65535, bit_depth=16)
    assert_ok(invoke("denoise", src, "-o", tmp_path / "out.tif", "--tv-weight", "0.01", "--quiet"))  # keeps detail
    out = tifffile.imread(tmp_path / "out.tif")
    assert out.dtype == np.uint16 and out.shape == (24, 20, 3)
    assert len(np.unique(out)) > 256  # really 16 bits, not 8 bits scaled up
    assert_ok(invoke("denoise", tmp_path / "out.tif", "-o", tmp_path / "again.tif", "--quiet"))  # and reads back
    assert tifffile.imread(tmp_path / "again.tif").dtype == np.uint16


def test_rgba_to_jpg_says_the_alpha_is_dropped(tmp_path):
    src = tmp_path / "rgba.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (20, 24, 4), dtype=np.uint8), "RGBA").save(src)
    result = invoke("denoise", src, "-o", tmp_path / "out.jpg", "--quiet")
    assert result.exit_code == 0 and result.stderr.splitlines() == [
        f"warning: '{tmp_path / 'out.jpg'}' cannot hold the alpha channel (dropped): use .png or .tif to keep it"]
    assert invoke("denoise", src, "-o", tmp_path / "out.png", "--quiet").stderr == ""


def animated(path, count=3):
    frames = [Image.fromarray(np.random.default_rng(i).integers(0, 255, (20, 24, 3), dtype=np.uint8))
              for i in range(count)]  # not flat: instance normalisation maps every flat frame to one output
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return path


@pytest.mark.parametrize("ext", [".webp", ".png"])
def test_transfer_stylises_every_frame_of_an_animated_webp_or_apng(files, tmp_path, ext):
    src = animated(tmp_path / f"anim{ext}")
    assert_ok(invoke("transfer", files["model"], src, "-o", tmp_path / f"out{ext}", "--quiet"))
    with Image.open(tmp_path / f"out{ext}") as out:
        assert out.n_frames == 3 and out.size == (24, 20)


def test_an_animation_into_a_still_format_says_only_the_first_frame_is_used(files, tmp_path):
    src = animated(tmp_path / "anim.webp")
    result = invoke("transfer", files["model"], src, "-o", tmp_path / "out.jpg", "--quiet")
    assert result.exit_code == 0 and result.stderr.splitlines() == [
        f"warning: '{src}' has 3 frames but '{tmp_path / 'out.jpg'}' holds one: only the first is stylised "
        "(write to .gif, .webp, .png, .tif or a video for all)"]
    result = invoke("denoise", src, "-o", tmp_path / "d.png", "--quiet")
    assert result.exit_code == 0 and result.stderr.splitlines() == [
        f"warning: input image '{src}' has 3 frames: only the first is used"]


@pytest.mark.parametrize("src_ext, dst_ext", [(".gif", ".webp"), (".gif", ".png"), (".webp", ".gif"),
                                              (".png", ".gif"), (".webp", ".png")])
def test_transfer_converts_between_animated_formats_keeping_every_frame_and_its_timing(files, tmp_path, src_ext,
                                                                                        dst_ext):
    frames = [Image.fromarray(np.random.default_rng(i).integers(0, 255, (20, 24, 3), dtype=np.uint8))
              for i in range(3)]
    src = tmp_path / f"anim{src_ext}"
    frames[0].save(src, save_all=True, append_images=frames[1:], duration=[100, 200, 300], loop=0)
    out = tmp_path / f"out{dst_ext}"
    assert_ok(invoke("transfer", files["model"], src, "-o", out, "--quiet"))
    from neural_style.io.animation import read_frames
    written, timing = read_frames(out)
    assert len(written) == 3 and timing.durations == (100, 200, 300) and written[0].shape == (20, 24, 3)


def test_transfer_keeps_every_page_of_a_multi_page_tiff_and_its_16_bits(files, tmp_path):
    import tifffile

    src = tmp_path / "pages.tif"
    rng = np.random.default_rng(4)
    with tifffile.TiffWriter(src) as tiff:
        tiff.write(rng.integers(0, 65535, (20, 24, 3), dtype=np.uint16), photometric="rgb")
        tiff.write(rng.integers(0, 65535, (16, 12), dtype=np.uint16), photometric="minisblack")  # its own size
    out = tmp_path / "out.tif"
    assert_ok(invoke("transfer", files["model"], src, "-o", out, "--quiet"))
    with tifffile.TiffFile(out) as tiff:
        pages = [page.asarray() for page in tiff.pages]
    assert [p.shape for p in pages] == [(20, 24, 3), (16, 12, 3)] and all(p.dtype == np.uint16 for p in pages)
    assert (pages[0] % 257 != 0).any()  # not 8-bit values scaled up (v * 257)
    result = invoke("transfer", files["model"], src, "-o", tmp_path / "first.jpg", "--quiet")
    assert result.exit_code == 0 and f"'{src}' has 2 frames but '{tmp_path / 'first.jpg'}' holds one" in result.stderr
    assert_error(invoke("transfer", files["model"], src, "-o", tmp_path / "anim.png"), 2,
                 "the 2 frames of", "differ in size (", "which an animation cannot hold: write them to a .tif")
    assert_ok(invoke("transfer", files["model"], files["content"], "-o", tmp_path / "still.gif", "--quiet"))
    assert Image.open(tmp_path / "still.gif").n_frames == 1
    result = invoke("transfer", files["model"], src, "-o", tmp_path / "pages.gif", "--quiet")  # what GIF cannot hold
    assert result.exit_code == 2 and "differ in size" in result.stderr
    rgba = tmp_path / "rgba.png"
    Image.fromarray(np.random.default_rng(5).integers(0, 255, (20, 24, 4), dtype=np.uint8)).save(rgba)
    result = invoke("transfer", files["model"], rgba, "-o", tmp_path / "rgba.gif", "--quiet")
    assert result.exit_code == 0 and result.stderr.splitlines() == [
        f"warning: '{tmp_path / 'rgba.gif'}' is written as 8-bit RGB frames, without the alpha channel of '{rgba}' "
        "(a still .png or .tif keeps it)"]


def test_grey_content_and_grey_styles_give_a_grey_output(grey_content_file, tmp_path, vgg16_file, style_file):
    grey_style = tmp_path / "grey-style.png"
    Image.open(style_file).convert("L").save(grey_style)
    base = ["--size", "32", "--iterations", "2", "--weights", vgg16_file, "--quiet"]
    assert_ok(invoke("stylize", grey_content_file, grey_style, "-o", tmp_path / "g.png", *base))
    assert Image.open(tmp_path / "g.png").mode == "L"
    assert_ok(invoke("stylize", grey_content_file, style_file, "-o", tmp_path / "c.png", *base))
    assert Image.open(tmp_path / "c.png").mode == "RGB"  # a colour style: colour out
    assert_ok(invoke("stylize", grey_content_file, style_file, "-o", tmp_path / "k.png", *base, "--original-colors"))
    assert Image.open(tmp_path / "k.png").mode == "L"  # the content's own colours: grey


def test_transfer_with_original_colors_keeps_a_grey_input_grey(files, grey_content_file, tmp_path):
    assert_ok(invoke("transfer", files["model"], grey_content_file, "-o", tmp_path / "k.png", "--original-colors"))
    assert Image.open(tmp_path / "k.png").mode == "L"
    assert_ok(invoke("transfer", files["model"], grey_content_file, "-o", tmp_path / "c.png"))
    assert Image.open(tmp_path / "c.png").mode == "RGB"


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif"])
def test_denoise_and_transfer_keep_the_resolution(files, tmp_path, suffix):
    src = tmp_path / f"dpi{suffix}"
    Image.fromarray(np.random.default_rng(2).integers(0, 255, (20, 24, 3), dtype=np.uint8)).save(src, dpi=(300, 150))
    for command in (["denoise"], ["transfer", files["model"]]):
        out = tmp_path / f"{command[0]}{suffix}"
        assert_ok(invoke(*command, src, "-o", out, "--quiet"))
        assert [round(v) for v in Image.open(out).info["dpi"]] == [300, 150], command
        assert [round(v) for v in Image.open(src).info["dpi"]] == [300, 150]
    result = invoke("denoise", src, "-o", tmp_path / "d.webp", "--quiet")
    assert result.exit_code == 0 and "cannot hold the resolution (DPI, dropped)" in result.stderr


def test_tiff_samples_beyond_8_and_16_bits_are_said_or_refused(tmp_path):
    """32-bit integers have no standard range: refused (they came out all white); floats are clipped
    to 0..1 and written with 16 bits, which a warning says; CMYK read as RGB is said."""
    wide = tmp_path / "wide.tif"
    Image.fromarray(np.full((12, 12), 100000, np.int32), mode="I").save(wide)
    assert_error(invoke("denoise", wide, "-o", tmp_path / "w.tif", "--sigma", "10"), 2,
                 "has 32-bit integer samples (100000..100000) beyond 16 bits", "convert it to 16-bit")
    floats = tmp_path / "float.tif"
    Image.fromarray(np.linspace(-0.5, 1.5, 144, dtype=np.float32).reshape(12, 12), mode="F").save(floats)
    result = invoke("denoise", floats, "-o", tmp_path / "f.tif", "--sigma", "10", "--quiet")
    assert result.exit_code == 0 and result.stderr.splitlines() == [
        f"warning: input image '{floats}' has 32-bit float samples: read as 0..1 at 16-bit precision "
        "(values -0.5..1.5 clipped)"]
    cmyk = tmp_path / "cmyk.jpg"
    Image.fromarray(np.random.default_rng(3).integers(0, 255, (12, 12, 3), dtype=np.uint8)).convert("CMYK").save(cmyk)
    result = invoke("denoise", cmyk, "-o", tmp_path / "c.png", "--sigma", "10", "--quiet")
    assert result.exit_code == 0 and "is CMYK: it is read as RGB" in result.stderr


def test_denoise_and_transfer_take_files_and_folders_the_same_way(batch, files, tmp_path):
    """One input planner: a folder gives its images, duplicate names are refused in both commands."""
    (batch / "b.jpg").unlink()
    for command in (["denoise"], ["transfer", files["model"]]):
        out = tmp_path / f"out-{command[0]}"
        assert_ok(invoke(*command, batch, "-o", out, "--quiet"))
        assert sorted(p.name for p in out.iterdir()) == ["a.png", "c.png"]
        twin = tmp_path / "twin"
        twin.mkdir(exist_ok=True)
        (twin / "a.png").write_bytes((batch / "a.png").read_bytes())
        assert_error(invoke(*command, batch, twin, "-o", tmp_path / "x"), 2, "two inputs are named 'a.png'")


def test_folders_are_read_as_trees_without_hidden_files_in_every_command(batch, files, tmp_path):
    """denoise and transfer mirror a folder's tree in -o; hidden files (macOS ._NAME) and folders are
    skipped by denoise, transfer and train alike."""
    (batch / "b.jpg").unlink()
    (batch / "sub").mkdir()
    (batch / "sub" / "d.png").write_bytes((batch / "a.png").read_bytes())
    (batch / "sub" / "a.png").write_bytes((batch / "c.png").read_bytes())  # same name, other folder: fine
    (batch / "._a.png").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    (batch / ".cache").mkdir()
    (batch / ".cache" / "e.png").write_bytes(b"not an image")
    for command in (["denoise"], ["transfer", files["model"]]):
        out = tmp_path / f"out-{command[0]}"
        assert_ok(invoke(*command, batch, "-o", out, "--quiet"))
        assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == [
            "a.png", "c.png", "sub/a.png", "sub/d.png"]
    from neural_style.fast.training import find_images
    assert [str(p.relative_to(batch)) for p in find_images(batch)] == ["a.png", "c.png", "sub/a.png", "sub/d.png"]
    for command in (["denoise"], ["transfer", files["model"]]):  # an output folder inside the input folder
        for _ in range(2):  # the rerun does not read the first run's outputs
            assert_ok(invoke(*command, batch, "-o", batch / "out", "--quiet"))
        assert len(list((batch / "out").rglob("*.png"))) == 4


def test_stylize_takes_a_folder_of_style_images(files, tmp_path, vgg16_file):
    styles = tmp_path / "styles"
    (styles / "more").mkdir(parents=True)
    (styles / "a.png").write_bytes(Path(files["style"]).read_bytes())
    (styles / "more" / "b.png").write_bytes(Path(files["style"]).read_bytes())
    (styles / "._a.png").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    base = ["stylize", files["content"], styles, "-o", tmp_path / "o.png", "--size", "32", "--iterations", "1",
            "--weights", vgg16_file, "--quiet"]
    assert_ok(invoke(*base, "--report", tmp_path / "r.json"))
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["settings"]["styles"] == [str(styles / "a.png"), str(styles / "more" / "b.png")]
    assert_error(invoke(*base, "--style-blend-weights", "1,2,3"), 2, "got 3 style blend weights for 2 style images")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_error(invoke(*base[:2], empty, *base[3:]), 2, f"style folder '{empty}' holds no images")


def test_train_never_reads_previews_from_a_dataset_holding_its_output(files, tmp_path, vgg16_file):
    """-o inside the dataset puts the checkpoint folder (and its previews) there: a later run, resumed
    or another, must not train on them (the short-training warning counts the files read)."""
    photos = files["photos"]
    args = ["train", files["style"], "--dataset", photos, "--weights", vgg16_file, "--image-size", "32",
            "--batch-size", "1", "--width", "0.25", "--iterations", "2", "--checkpoint-every", "1"]
    for name in ("m.pth", "m.pth", "other.pth"):  # again (resumed), and another run beside it
        result = invoke(*args, "-o", photos / name, *(["--resume", photos / "m-checkpoints" / "last.ckpt",
                                                       "--iterations", "4"] if (photos / "m.pth").exists()
                                                      and name == "m.pth" else []))
        assert_ok(result)
        assert "(2 files, batch 1)" in result.stderr, result.stderr
    assert len(list((photos / "m-checkpoints").glob("step-*.jpg"))) == 4


@pytest.mark.slow
def test_sigterm_during_training_writes_the_model_and_leaves_consistent_checkpoints(files, tmp_path, vgg16_file):
    from neural_style.fast.checkpoints import read_checkpoint

    out = tmp_path / "m2.pth"
    args = [sys.executable, "-m", "neural_style.cli", *train_args(files, tmp_path, vgg16_file, "--iterations",
                                                                  "1000", "--checkpoint-every", "1",
                                                                  "--keep-checkpoints", "0", "--device", "cpu")]
    proc = subprocess.Popen([str(a) for a in args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    folder, deadline = tmp_path / "m2-checkpoints", time.time() + 300
    while not (folder / "step-000003.ckpt").exists():
        assert proc.poll() is None and time.time() < deadline, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143, stderr
    assert "Traceback" not in stderr and stderr.strip().splitlines()[-1].startswith("stopped by SIGTERM at step ")
    assert out.is_file() and not [p for p in tmp_path.rglob(".*") if p.is_file()]  # no temporary file left
    steps = sorted(folder.glob("step-*.ckpt"))
    assert read_checkpoint(folder / "last.ckpt")["step"] == read_checkpoint(steps[-1])["step"]
    assert f"resume with --resume {folder / 'last.ckpt'}" in stderr


@pytest.fixture
def python_sigint():
    """Python's own Ctrl-C handler (a shell's background job starts with SIGINT ignored, and pytest keeps that)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_deferred_holds_a_signal_until_the_block_ends(python_sigint):
    from neural_style import signals as signals_module

    done = []
    with pytest.raises(KeyboardInterrupt):
        with signals_module.deferred():
            signal.raise_signal(signal.SIGINT)
            done.append("after the signal, still inside")
    assert done == ["after the signal, still inside"]
    with signals_module.interrupt_on_termination(), pytest.raises(signals_module.Terminated) as info:
        with signals_module.deferred():
            signal.raise_signal(signal.SIGTERM)
            done.append("held")
    assert info.value.signum == signal.SIGTERM and done[-1] == "held"


def test_train_checks_memory_before_the_first_step(files, tmp_path, vgg16_file):
    for option in (["--image-size", "60000"], ["--width", "1e6"]):
        result = invoke(*train_args(files, tmp_path, vgg16_file, "--iterations", "2000"), *option)
        assert_error(result, 2, "a training step at --image-size", "needs about",
                     "use a smaller --image-size, --batch-size or --width")
        assert not (tmp_path / "m2.pth").exists()
    result = invoke(*train_args(files, tmp_path, vgg16_file, "--iterations", "2000", "--style-size", "100000"))
    assert_error(result, 2, "the style image at 100000 px", "use a smaller --style-size")
    result = invoke(*train_args(files, tmp_path, vgg16_file, "--iterations", "2000", "--style-scale", "3000"))
    assert_error(result, 2, "the style image at ", "use a smaller --style-scale")
    result = invoke(*train_args(files, tmp_path, vgg16_file, "--style-size", "64", "--style-scale", "2"))
    assert_error(result, 2, "--style-size 64 and --style-scale 2 are two sizes for the style image: give one of them")


def test_train_style_scale_is_stylize_s_relative_size():
    from neural_style.settings import TrainSettings
    assert TrainSettings(image_size=64, style_scale=1.5).style_side() == 96
    assert TrainSettings(image_size=64).style_side() == 64
    assert TrainSettings(image_size=64, style_size=40).style_side() == 40


def test_stylize_keeps_16_bits_when_every_input_has_them(tmp_path, vgg16_file, content_file, style_file):
    from neural_style.io.decode import read_image
    from neural_style.io.encode import write_image

    content16, style16 = tmp_path / "c16.png", tmp_path / "s16.png"
    write_image(content16, read_image(content_file).pixels, bit_depth=16)
    write_image(style16, read_image(style_file).pixels, bit_depth=16)
    base = ["--size", "32", "--iterations", "2", "--weights", vgg16_file, "--quiet"]
    for style, out, depth in ((style16, "a.png", 16), (style16, "b.tif", 16), (style_file, "c.png", 8),
                              (style16, "d.jpg", 8)):
        assert_ok(invoke("stylize", content16, style, "-o", tmp_path / out, *base))
        assert read_image(tmp_path / out).bit_depth == depth, out
    assert_ok(invoke("stylize", content16, style16, "-o", tmp_path / "e.png", "--bit-depth", "8", *base))
    assert read_image(tmp_path / "e.png").bit_depth == 8


# --- found by a fresh user's trial ---------------------------------------------------------------

def test_huge_finite_values_overflowing_the_lambda_rule_are_one_line(files):
    from neural_style.denoising.solver import run_denoise
    from neural_style.errors import InputError

    for command in ("denoise", "train", "stylize"):  # an order past any use: refused by its rule, not "lower --lr"
        result = invoke(*command_line(command, files), "--tv-beta", "1e300")
        assert_error(result, 2, "'--tv-beta': must be a finite number > 0 and <= 10, got 1e+300", prefix="")
    with pytest.raises(InputError, match="sigma must be 'auto' or a finite number >= 0 and <= 1, got 1e"):
        run_denoise(torch.rand(1, 1, 8, 8), sigma=1e300)  # --sigma stops at 255, and the API at 1 (the same bound)


def test_a_full_disk_while_writing_an_animation_is_one_line_and_nothing_more(files, tmp_path, monkeypatch):
    real_save = Image.Image.save

    def full(self, fp, format=None, **params):
        if format == "GIF":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_save(self, fp, format, **params)

    monkeypatch.setattr(Image.Image, "save", full)
    src = tmp_path / "in.gif"
    frames = [Image.fromarray(np.random.default_rng(i).integers(0, 255, (20, 24, 3), dtype=np.uint8)) for i in range(3)]
    real_save(frames[0], src, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    result = invoke("transfer", files["model"], src, "-o", tmp_path / "o.gif")
    assert_error(result, 1, "could not write", "o.gif", "No space left on device")
    assert not list(tmp_path.glob(".o.gif*")) and not (tmp_path / "o.gif").exists()


def test_a_full_disk_during_export_is_one_line(files, tmp_path, monkeypatch):
    def full(program, f, *args, **kwargs):
        assert hasattr(f, "write")  # a Python file: its OSError reaches us (a path aborted in C++)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(torch.export, "save", full)
    assert_error(invoke("export", files["model"], "-o", tmp_path / "m.pt2"), 1, "could not write",
                 "No space left on device")
    assert list(tmp_path.glob("*.pt2")) == []


def test_outputs_never_overwrite_a_model_checkpoint_weights_or_reference(files, tmp_path, vgg16_file):
    model_copy = tmp_path / "mm.png"
    model_copy.write_bytes(files["model"].read_bytes())
    assert_error(invoke("transfer", model_copy, files["content"], "-o", model_copy), 2, "refusing to overwrite input")
    weights = tmp_path / "w.pth"
    weights.write_bytes(vgg16_file.read_bytes())
    result = invoke("train", files["style"], "--dataset", files["photos"], "-o", weights, "--weights", weights)
    assert_error(result, 2, "refusing to overwrite input")
    reference = tmp_path / "r.png"
    reference.write_bytes(files["content"].read_bytes())
    assert_error(invoke("denoise", files["content"], "-o", reference, "--reference", reference), 2,
                 "refusing to overwrite input")
    assert reference.read_bytes() == files["content"].read_bytes()


def test_denoise_of_one_file_interrupted_exits_130_not_0(files, monkeypatch):
    from neural_style.core import optimize

    real = optimize.optimize_image

    def interrupted(*args, **kwargs):
        result = real(*args, **dict(kwargs, iterations=2))
        result.stop_reason = "interrupted"
        return result

    monkeypatch.setattr("neural_style.denoising.solver.optimize_image", interrupted)
    result = invoke("denoise", files["content"], "-o", files["out"] / "d.png", "--tv-beta", "1.5", "--quiet")
    assert_error(result, 130, "wrote 1 of 1 file (the last with its best image so far)", prefix="interrupted")
    assert (files["out"] / "d.png").is_file()


def test_transfer_keeps_16_bits(files, tmp_path):
    from neural_style.io.decode import read_image
    from neural_style.io.encode import write_image

    src = tmp_path / "c16.png"
    write_image(src, read_image(files["content"]).pixels, bit_depth=16)
    for out, depth in (("o.png", 16), ("o.tif", 16)):
        assert_ok(invoke("transfer", files["model"], src, "-o", tmp_path / out, "--quiet"))
        assert read_image(tmp_path / out).bit_depth == depth
    result = invoke("transfer", files["model"], src, "-o", tmp_path / "o.jpg", "--quiet")
    assert result.exit_code == 0 and "cannot hold 16 bits per sample" in result.stderr


def test_a_denoise_batch_failure_names_its_file(batch, tmp_path):
    Image.new("RGB", (2, 2)).save(batch / "tiny.png")  # too few pixels to estimate the noise
    result = invoke("denoise", batch / "a.png", batch / "tiny.png", "-o", tmp_path / "out", "--quiet")
    assert result.exit_code == 1 and "tiny.png" in result.stderr.splitlines()[0]


def test_stylize_carries_the_content_alpha_icc_and_exif(tmp_path, vgg16_file, style_file):
    from neural_style.io.decode import read_image

    src = tmp_path / "rgba.png"
    rgba = np.random.default_rng(0).integers(0, 255, (40, 48, 4), dtype=np.uint8)
    rgba[..., 3] = np.linspace(0, 255, 48, dtype=np.uint8)[None]
    exif = Image.Exif()
    exif[0x013B] = "artist"
    Image.fromarray(rgba, "RGBA").save(src, icc_profile=b"fake icc", exif=exif.tobytes())
    assert_ok(invoke("stylize", src, style_file, "-o", tmp_path / "o.png", "--size", "32", "--iterations", "2",
                     "--weights", vgg16_file, "--quiet"))
    out = read_image(tmp_path / "o.png")
    assert out.alpha is not None and out.alpha.shape == (27, 32) and out.alpha[:, -1].mean() > out.alpha[:, 0].mean()
    assert out.icc_profile == b"fake icc" and out.exif is not None


def test_an_animation_path_equal_to_the_output_is_called_the_output_not_an_input(tmp_path, content_file, style_file,
                                                                                 vgg16_file):
    out = tmp_path / "o.png"
    result = invoke("stylize", content_file, style_file, "-o", out, "--animation", out, "--weights", vgg16_file)
    assert_error(result, 2, f"animation '{out}' is also the output: choose another animation path")
    assert not out.exists()


def test_a_thin_content_gets_size_advice_from_its_file_shape(tmp_path, style_file, vgg16_file):
    thin = tmp_path / "thin.png"
    Image.fromarray(np.full((1, 100, 3), 128, np.uint8)).save(thin)
    result = invoke("stylize", thin, style_file, "-o", tmp_path / "o.png", "--size", "64", "--weights", vgg16_file)
    assert_error(result, 2, "the content image is 64x1 px as used", "use --size 1550 or more, or crop or pad")


def test_a_second_signal_while_stopping_changes_neither_the_word_nor_the_code():
    """SIGTERM, then SIGHUP 0.1 s later (a scheduler, then a closed terminal): both say SIGTERM, 143."""
    from neural_style import signals as signals_module

    with signals_module.interrupt_on_termination():
        with pytest.raises(signals_module.Terminated):
            signal.raise_signal(signal.SIGTERM)
        with pytest.raises(signals_module.Terminated) as second:
            signal.raise_signal(signal.SIGHUP)
        assert signals_module.exit_code(second.value) == 143
        assert signals_module.stop_word(second.value) == "stopped by SIGTERM"


def test_a_library_warning_repeated_for_every_file_is_shown_once(batch, tmp_path, monkeypatch):
    """Pillow warns "Corrupt EXIF data" at every decode of such a file (filters change in between)."""
    import warnings as warnings_module

    from neural_style.denoising import runner as denoise_runner

    real = denoise_runner.denoise_one

    def warn_then_denoise(*args, **kwargs):
        for _ in range(3):
            with warnings_module.catch_warnings():  # as read_image's own filters do: the registry resets
                warnings_module.simplefilter("default")
                warnings_module.warn("Corrupt EXIF data.  Expecting to read 12 bytes but only got 8.\nsecond line",
                                     UserWarning, stacklevel=1)
        return real(*args, **kwargs)

    monkeypatch.setattr(denoise_runner, "denoise_one", warn_then_denoise)
    result = invoke("denoise", batch / "a.png", batch / "c.png", "-o", tmp_path / "out", "--quiet")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == ["warning: Corrupt EXIF data.  Expecting to read 12 bytes but only got 8."]


def test_a_file_name_with_a_line_break_stays_one_line(tmp_path):
    odd = tmp_path / "two\nlines.png"
    result = invoke("denoise", odd, "-o", tmp_path / "o.png")
    line = assert_error(result, 2, "does not exist")
    assert "two\\nlines.png" in line


def test_odd_file_names_are_printed_as_one_readable_line_in_every_message(batch, tmp_path):
    """Success lines too: a line break is written \\n, a name that is not UTF-8 as its bytes \\xNN."""
    odd = batch / os.fsdecode(b"two\nlines-\xff\xfd.png")
    (batch / "a.png").rename(odd)
    result = invoke("denoise", odd, batch / "b.jpg", "-o", tmp_path / "out")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 3 and all("\udcff" not in line for line in lines)
    assert lines[0].startswith(str(batch / "two\\nlines-\\xff\\xfd.png") + ": ")
    assert (tmp_path / "out" / odd.name).is_file()


def test_a_missing_init_equal_to_the_output_is_called_missing(tmp_path, content_file, style_file, vgg16_file):
    out = tmp_path / "r5.png"
    result = invoke("stylize", content_file, style_file, "-o", out, "--init", out, "--weights", vgg16_file,
                    "--iterations", "1", "--size", "32")
    assert result.exit_code == 2 and "refusing to overwrite" not in result.stderr
    assert "does not exist" in result.stderr and not out.exists()


def test_a_fresh_run_never_takes_over_another_run_s_checkpoints(files, tmp_path, vgg16_file):
    first = invoke(*train_args(files, tmp_path, vgg16_file, "--iterations", "4", "--checkpoint-every", "2"))
    assert_ok(first)
    folder = tmp_path / "m2-checkpoints"
    before = snapshot(folder)
    again = invoke(*train_args(files, tmp_path, vgg16_file, "--iterations", "2", "--checkpoint-every", "1"))
    assert_error(again, 2, f"checkpoint folder '{folder}' holds another run's checkpoints",
                 f"--resume {folder / 'last.ckpt'}")
    assert snapshot(folder) == before
    assert_error(invoke(*train_args(files, tmp_path, vgg16_file, "--checkpoint-dir", files["photos"])), 2,
                 "is the dataset folder")
    assert_ok(invoke(*train_args(files, tmp_path, vgg16_file, "--iterations", "6", "--checkpoint-every", "2",
                                 "--resume", folder / "last.ckpt")))


def test_export_checks_memory_for_its_check_image_and_says_when_torch_export_fails(files, tmp_path, monkeypatch):
    from neural_style.core import device

    monkeypatch.setattr(device, "available_memory", lambda dev: 64 * 2**20)
    image = tmp_path / "big.png"
    Image.fromarray(np.zeros((600, 800, 3), np.uint8)).save(image)
    assert_error(invoke("export", files["model"], "-o", tmp_path / "m.pt2", "--check-image", image), 2,
                 "checking the export on a 800x600 px image", "pass a smaller --check-image")
    monkeypatch.undo()
    narrow = save_model(tmp_path / "narrow.pth", TransformerNet(width=0.01), {"steps": 0})
    assert_error(invoke("export", narrow, "-o", tmp_path / "n.pt2"), 1, "torch.export cannot export this network",
                 "export it to .onnx instead")


def test_an_output_ending_in_a_separator_is_a_folder_even_for_one_input(files, tmp_path):
    for command in (["denoise"], ["transfer", files["model"]]):
        out = f"{tmp_path / command[0]}{os.sep}"
        assert_ok(invoke(*command, files["content"], "-o", out, "--quiet"))
        assert (tmp_path / command[0] / Path(files["content"]).name).is_file()


@pytest.mark.slow
def test_export_writes_a_report(files, tmp_path):
    assert_ok(invoke("export", files["model"], "-o", tmp_path / "m.pt2", "--report", tmp_path / "e.json", "--quiet"))
    report = json.loads((tmp_path / "e.json").read_text())
    assert report["command"] == "export" and report["format"] == "pt2" and report["max_abs_diff"] < 1e-3
    assert report["network"] == {"width": 0.25, "residual_blocks": 5, "antialias": False}
    assert_error(invoke("export", files["model"], "-o", tmp_path / "m.pt2", "--report", tmp_path / "m.pt2"), 2,
                 "is also the export")


def test_a_report_that_cannot_be_written_still_says_what_was_kept(files, tmp_path, monkeypatch, vgg16_file):
    from neural_style.errors import NeuralStyleError
    from neural_style.io import report as report_module

    def full_disk(path, write):
        raise NeuralStyleError(f"could not write '{path}': No space left on device: check the permissions and "
                               "free space")

    monkeypatch.setattr(report_module, "atomic_write", full_disk)
    out = tmp_path / "o.png"
    result = invoke("stylize", files["content"], files["style"], "-o", out, "--size", "32", "--iterations", "2",
                    "--weights", vgg16_file, "--report", tmp_path / "r.json")
    assert_error(result, 1, "could not write", "r.json", f"; wrote {out}")
    assert out.is_file()


def test_second_trial_cases(files, tmp_path, monkeypatch):
    """transfer --size keeps alpha (resized); animated RGBA to .tif says alpha and durations go; a
    16-bit multi-page TIFF read as one image says so; a checkpoint given as a model is named; -o equal
    to the input folder is named; --bit-depth 16 names the output as given."""
    import tifffile

    rgba = tmp_path / "rgba.png"
    Image.fromarray(np.random.default_rng(6).integers(0, 255, (40, 48, 4), dtype=np.uint8)).save(rgba)
    assert_ok(invoke("transfer", files["model"], rgba, "-o", tmp_path / "a32.png", "--size", "32", "--quiet"))
    with Image.open(tmp_path / "a32.png") as out:
        assert out.mode == "RGBA" and out.size == (32, 27)
    frames = [Image.fromarray(np.random.default_rng(i).integers(0, 255, (20, 24, 4), dtype=np.uint8))
              for i in range(3)]
    anim = tmp_path / "anim.png"
    frames[0].save(anim, save_all=True, append_images=frames[1:], duration=[100, 200, 300])
    result = invoke("transfer", files["model"], anim, "-o", tmp_path / "pages.tif", "--quiet")
    assert result.exit_code == 0 and result.stderr.splitlines() == [
        f"warning: '{tmp_path / 'pages.tif'}' is written as RGB pages, without the alpha channel or the frame "
        f"durations of '{anim}'"]
    multi16 = tmp_path / "multi16.tif"
    tifffile.imwrite(multi16, np.random.default_rng(7).integers(0, 65535, (3, 20, 24, 3), dtype=np.uint16),
                     photometric="rgb")
    result = invoke("denoise", multi16, "-o", tmp_path / "d.tif", "--sigma", "10", "--regularizer", "tv", "--quiet")
    assert result.exit_code == 0 and result.stderr.splitlines() == [
        f"warning: input image '{multi16}' has 3 frames: only the first is used"]
    checkpoint = tmp_path / "x.ckpt"
    from neural_style.fast.checkpoints import write_checkpoint
    write_checkpoint(checkpoint, {"step": 1})
    assert_error(invoke("transfer", checkpoint, rgba, "-o", tmp_path / "t.png"), 2, "is a training checkpoint, not a model")
    folder = tmp_path / "same"
    folder.mkdir()
    (folder / "a.png").write_bytes(rgba.read_bytes())
    assert_error(invoke("denoise", folder, "-o", folder), 2, f"output folder '{folder}' is also an input folder")
    assert_error(invoke("stylize", files["content"], files["style"], "-o", tmp_path / "k" / "s.jpg", "--bit-depth",
                        "16"), 2, f"got '{tmp_path / 'k' / 's.jpg'}'")


def test_export_refuses_a_huge_check_image_from_its_header(files, tmp_path, monkeypatch):
    from neural_style.core import device
    from neural_style.io import decode

    monkeypatch.setattr(device, "available_memory", lambda dev: 64 * 2**20)
    image = tmp_path / "big.png"
    Image.fromarray(np.zeros((600, 800, 3), np.uint8)).save(image)
    monkeypatch.setattr(decode, "_read_file", lambda *a, **k: pytest.fail("decoded before the memory check"))
    assert_error(invoke("export", files["model"], "-o", tmp_path / "m.pt2", "--check-image", image), 2,
                 "checking the export on a 800x600 px image")


def test_a_video_s_audio_track_is_said_to_be_dropped(files, tmp_path):
    pytest.importorskip("av")
    from tests.media import clip_with_tone

    src = clip_with_tone(tmp_path / "clip.mp4", n=3)
    result = invoke("transfer", files["model"], src, "-o", tmp_path / "out.gif", "--quiet")
    assert result.exit_code == 0 and result.stderr.splitlines() == [
        f"warning: '{src}' has an audio track (aac), which '{tmp_path / 'out.gif'}' cannot hold (write a video to "
        "keep it)"]


def test_resuming_on_another_dataset_is_said(files, tmp_path, vgg16_file):
    assert_ok(invoke(*train_args(files, tmp_path, vgg16_file, "--iterations", "2", "--checkpoint-every", "2")))
    (files["photos"] / "p2.png").write_bytes((files["photos"] / "p0.png").read_bytes())
    result = invoke(*train_args(files, tmp_path, vgg16_file, "--iterations", "4", "--resume",
                                tmp_path / "m2-checkpoints" / "last.ckpt"))
    assert result.exit_code == 0 and "dataset: 2 -> 3 files (another data order)" in result.stderr


def test_transfer_says_what_it_wrote_in_words_that_fit_the_count(files, tmp_path):
    one = invoke("transfer", files["model"], files["content"], "-o", tmp_path / "t.png")
    assert_ok(one)
    assert one.stderr.strip().splitlines()[-1] == f"wrote {tmp_path / 't.png'}"
    many = invoke("transfer", files["model"], files["photos"], "-o", tmp_path / "out")
    assert_ok(many)
    assert many.stderr.strip().splitlines()[-1] == f"wrote 2 files to {tmp_path / 'out'}"


def test_an_output_folder_that_becomes_read_only_mid_run_is_a_runtime_error(files, tmp_path, monkeypatch,
                                                                            vgg16_file):
    """Before any work an unwritable folder is a usage error (exit 2); once the run is under way it is the
    system's fault (exit 1), for every writer (the image, an animation, TIFF pages)."""
    from neural_style.io import outputs as outputs_module
    from neural_style.style_transfer import runner
    folder = files["out"]
    folder.mkdir()
    real_access, real_run = outputs_module.os.access, runner.run_stylize

    def run_then_lock(*args, **kwargs):
        result = real_run(*args, **kwargs)
        monkeypatch.setattr(outputs_module.os, "access",
                            lambda path, mode: False if os.fspath(path) == os.fspath(folder) else real_access(path, mode))
        return result

    monkeypatch.setattr(runner, "run_stylize", run_then_lock)
    result = invoke(*command_line("stylize", files), "--iterations", "1", "--weights", vgg16_file)
    assert_error(result, 1, f"cannot write output '{folder / 'o.png'}': folder '{folder}' is not writable")
