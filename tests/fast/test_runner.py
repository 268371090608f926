"""train, transfer and export from Python (neural_style.train / transfer / export), as the CLI runs them."""

import json
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

import neural_style
from neural_style.fast.checkpoints import LAST
from neural_style.fast.model_file import load_model
from neural_style.settings import TrainSettings


def image_attr(path, name):
    with Image.open(path) as image:
        return getattr(image, name)


@pytest.fixture
def photos(tmp_path):
    root = tmp_path / "photos"
    root.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray(rng.integers(0, 255, (36, 44, 3), dtype=np.uint8)).save(root / f"p{i}.png")
    return root


def test_train_from_python_writes_the_model_checkpoints_previews_and_report(photos, style_file, vgg16_file,
                                                                             tmp_path):
    steps = []
    settings = TrainSettings(image_size=32, batch_size=2, iterations=4, checkpoint_every=2, width=0.25,
                             weights=str(vgg16_file))
    with pytest.warns(UserWarning, match="weakly stylised network"):
        run = neural_style.train(style_file, photos, tmp_path / "m.pth", settings,
                                 neural_style.TrainOutputs(report=tmp_path / "r.json"), device="cpu",
                                 callbacks=neural_style.TrainCallbacks(on_step=steps.append), download_progress=False)
    assert run.result.stop_reason == "completed" and run.result.steps == 4 and run.model_written
    assert [s.iteration for s in steps] == [1, 2, 3, 4] and steps[0].images_per_second > 0
    assert steps[0].image is None and set(steps[0].losses) == {"content", "style", "tv", "total"}
    net, metadata = load_model(tmp_path / "m.pth")
    assert metadata["steps"] == 4 and metadata["settings"]["width"] == 0.25
    folder = tmp_path / "m-checkpoints"
    assert run.checkpoint_dir == folder
    assert sorted(p.name for p in folder.iterdir()) == [LAST, "step-000002.ckpt", "step-000002.jpg",
                                                         "step-000004.ckpt", "step-000004.jpg"]
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["command"] == "train" and report["steps"] == 4 and report["settings"]["iterations"] == 4
    assert list(report) == ["command", "settings", "device", "world_size", "steps", "images_per_second",
                            "skipped_files", "skipped", "history", "model_written", "stop_reason", "environment"]


def test_train_keyword_overrides_and_the_warn_callback(photos, style_file, vgg16_file, tmp_path):
    said = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the warning goes to the callback, not to warnings
        run = neural_style.train(style_file, photos, tmp_path / "m.pth", image_size=32, batch_size=2, iterations=2,
                                 width=0.25, weights=str(vgg16_file),
                                 outputs=neural_style.TrainOutputs(checkpoint_dir=tmp_path / "ck"),
                                 callbacks=neural_style.TrainCallbacks(warn=said.append), device="cpu",
                                 download_progress=False)
    assert run.checkpoint_dir == tmp_path / "ck" and (tmp_path / "ck" / LAST).is_file()
    assert len(said) == 1 and said[0].startswith("2 training steps") and "ask for iterations 2000" in said[0]
    with pytest.raises(TypeError, match="unknown TrainSettings field 'image_sise'"):
        neural_style.train(style_file, photos, tmp_path / "n.pth", image_sise=32)


@pytest.mark.slow
def test_transfer_and_export_from_python(photos, style_file, vgg16_file, tmp_path):
    neural_style.train(style_file, photos, tmp_path / "m.pth", image_size=32, batch_size=2, iterations=1,
                       width=0.25, weights=str(vgg16_file), callbacks=neural_style.TrainCallbacks(warn=lambda m: None),
                       device="cpu")
    frames = []
    batch = neural_style.transfer(tmp_path / "m.pth", [photos / "p0.png", photos / "p1.png"], tmp_path / "out",
                                  size=24, original_colors=True, on_frame=lambda *a: frames.append(a),
                                  report=tmp_path / "r.json")
    assert [dst.name for _, dst in batch.written] == ["p0.png", "p1.png"] and batch.stop_reason == "completed"
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["settings"]["size"] == 24 and report["stop_reason"] == "completed"
    assert list(report) == ["command", "model", "network", "trained", "device", "precision", "settings", "files",
                            "failures", "unprocessed", "stop_reason", "environment"]
    assert image_attr(tmp_path / "out" / "p0.png", 'size') == (24, 20)
    assert frames == [(0, 2, 1, 1), (1, 2, 1, 1)]
    one = neural_style.transfer(tmp_path / "m.pth", str(photos.absolute() / "p0.png"), str(tmp_path / "one") + "/",
                                size=24)  # one str is one input, not its characters
    assert [dst for _, dst in one.written] == [tmp_path / "one" / "p0.png"]
    result = neural_style.export(tmp_path / "m.pth", tmp_path / "m.pt2", report=tmp_path / "e.json")
    assert result["format"] == "pt2" and result["max_abs_diff"] < 1e-5
    assert list(json.loads((tmp_path / "e.json").read_text())) == [
        "command", "model", "network", "trained", "check_image", "path", "format", "max_abs_diff", "checked_with",
        "environment"]
    program = torch.export.load(str(tmp_path / "m.pt2")).module()
    assert program(torch.rand(1, 3, 16, 20)).shape == (1, 3, 16, 20)


@pytest.mark.parametrize("overrides, message", [({"size": 4}, "size must be an integer >= 16"),
                                                ({"batch_size": 0}, "batch_size must be an integer >= 1")])
def test_transfer_refuses_settings_it_cannot_use(tmp_path, overrides, message):
    from neural_style.errors import InputError

    with pytest.raises(InputError, match=message):
        neural_style.transfer(tmp_path / "m.pth", [tmp_path / "a.png"], tmp_path / "out", **overrides)


def test_each_report_is_command_then_its_fields_in_order(tmp_path):
    import dataclasses

    from neural_style.core.stop import StopReason
    from neural_style.fast.reports import ExportReport, TrainReport, TransferReport

    for kind, command in ((TrainReport, "train"), (TransferReport, "transfer"), (ExportReport, "export")):
        names = [f.name for f in dataclasses.fields(kind)]
        values = {name: StopReason.INTERRUPTED if name == "stop_reason" else None for name in names}
        path = kind(**values).write(tmp_path / f"{command}.json")
        written = json.loads(path.read_text())
        assert list(written) == ["command", *names, "environment"] and written["command"] == command
        assert written.get("stop_reason", "interrupted") == "interrupted"


def test_weights_from_the_environment_are_named_in_the_report_and_the_model(photos, style_file, vgg16_file, tmp_path,
                                                                            monkeypatch):
    monkeypatch.setenv("NEURAL_STYLE_WEIGHTS", str(vgg16_file))
    neural_style.train(style_file, photos, tmp_path / "m.pth", image_size=32, batch_size=2, iterations=1, width=0.25,
                       outputs=neural_style.TrainOutputs(report=tmp_path / "r.json"),
                       callbacks=neural_style.TrainCallbacks(warn=lambda m: None), device="cpu")
    assert json.loads((tmp_path / "r.json").read_text())["settings"]["weights"] == str(vgg16_file)
    _, metadata = load_model(tmp_path / "m.pth")
    assert metadata["settings"]["weights"] == str(vgg16_file)


def test_a_network_that_never_changes_is_said(photos, style_file, vgg16_file, tmp_path):
    """Every loss weight 0: no gradient, the model file would be the untrained network; a warning says so
    (issue 27, kind 1: a run that ends where it started)."""
    said = []
    neural_style.train(style_file, photos, tmp_path / "m.pth", image_size=32, batch_size=2, iterations=2, width=0.25,
                       content_weight=0, style_weight=0, tv_weight=0, weights=str(vgg16_file),
                       callbacks=neural_style.TrainCallbacks(warn=said.append), device="cpu")
    assert any(m.startswith("the network did not change in 2 steps: the model file is the untrained network")
               for m in said), said
    said.clear()
    neural_style.train(style_file, photos, tmp_path / "n.pth", image_size=32, batch_size=2, iterations=2, width=0.25,
                       weights=str(vgg16_file), callbacks=neural_style.TrainCallbacks(warn=said.append), device="cpu")
    assert not any("did not change" in m for m in said)


def test_transfer_takes_precision_as_stylize_does(photos, style_file, vgg16_file, tmp_path, monkeypatch):
    """One name for one thing (issue 27, kind 5): --precision reaches the network in transfer too."""
    from neural_style.fast import transfer as transfer_module
    from tests.clitools import assert_ok, invoke
    neural_style.train(style_file, photos, tmp_path / "m.pth", image_size=32, batch_size=2, iterations=1, width=0.25,
                       weights=str(vgg16_file), callbacks=neural_style.TrainCallbacks(warn=lambda m: None), device="cpu")
    seen = []
    real = transfer_module.apply_model
    monkeypatch.setattr(transfer_module, "apply_model", lambda *a, **k: seen.append(k["precision"]) or real(*a, **k))
    assert_ok(invoke("transfer", tmp_path / "m.pth", photos / "p0.png", "-o", tmp_path / "o.png", "--precision",
                     "fp32", "-q"))
    assert seen == ["fp32"]


def test_train_takes_precision_as_stylize_does(photos, style_file, vgg16_file, tmp_path, monkeypatch):
    """One name for one thing (issue 27, kind 5): --precision in train; the network runs under that autocast."""
    from neural_style.fast.transformer import TransformerNet
    seen = []
    real = TransformerNet.forward
    monkeypatch.setattr(TransformerNet, "forward", lambda self, x: seen.append(
        torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu")) or real(self, x))
    for precision, autocast in (("bf16", torch.bfloat16), ("fp32", False)):
        seen.clear()
        neural_style.train(style_file, photos, tmp_path / f"{precision}.pth", image_size=32, batch_size=2, iterations=1,
                           width=0.25, weights=str(vgg16_file), precision=precision, device="cpu",
                           callbacks=neural_style.TrainCallbacks(warn=lambda m: None))
        assert seen and set(seen) == {autocast}, (precision, seen)
        assert load_model(tmp_path / f"{precision}.pth")[1]["settings"]["precision"] == precision


def test_train_amp_is_precision_fp16(photos, style_file, vgg16_file, tmp_path):
    from tests.clitools import assert_error, invoke
    common = ["train", style_file, "--dataset", photos, "-o", tmp_path / "m.pth", "--iterations", "1",
              "--weights", vgg16_file, "--device", "cpu", "-q"]
    assert_error(invoke(*common, "--amp"), 2, "precision fp16 is for GPUs")
    assert_error(invoke(*common, "--precision", "fp16"), 2, "precision fp16 is for GPUs")
    assert_error(invoke(*common, "--amp", "--precision", "bf16"), 2, "--amp is --precision fp16, not bf16",
                 prefix="neural-style train: error: ")
    assert not (tmp_path / "m.pth").exists()


def test_a_checkpoint_written_with_amp_reads_as_its_precision(tmp_path):
    from neural_style.fast.checkpoints import read_checkpoint, write_checkpoint
    for amp, precision in ((False, "fp32"), (True, "fp16")):
        write_checkpoint(tmp_path / "old.ckpt", {"config": {"width": 1.0, "amp": amp}, "step": 3})
        assert read_checkpoint(tmp_path / "old.ckpt")["config"] == {"width": 1.0, "precision": precision}
