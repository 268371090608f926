"""Fast style network training: loss goes down, exact resume, torchrun with 2 gloo processes, transfer."""

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import torch
from PIL import Image

from neural_style.errors import InputError
from neural_style.fast.model_file import load_model
from neural_style.fast.training import Trainer, find_images
from neural_style.fast.training import run_training as train
from neural_style.settings import TrainSettings as TrainConfig

from ..clitools import assert_error, assert_ok, invoke

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def photos(tmp_path):
    """Eight small photos in a nested tree, plus one unreadable file."""
    root = tmp_path / "photos"
    (root / "sub").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(8):
        yy, xx = np.mgrid[0:40, 0:52] / 52
        img = np.stack([np.sin(6 * xx + i), np.cos(5 * yy - i), xx * yy], -1) * 0.4 + 0.5
        img = np.clip(img + 0.05 * rng.standard_normal(img.shape), 0, 1)
        Image.fromarray((img * 255).astype(np.uint8)).save(root / ("sub" if i % 2 else ".") / f"p{i}.jpg")
    (root / "broken.jpg").write_text("not a photo")
    return root


def config(**kwargs):
    base = dict(image_size=32, batch_size=2, iterations=6, width=0.25, checkpoint_every=3, log_every=1,
                lr=5e-3, style_weight=5.0)
    base.update(kwargs)
    return TrainConfig(**base)


def test_find_images_walks_the_tree_and_refuses_an_empty_folder(photos, tmp_path):
    assert len(find_images(photos)) == 9
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no images"):
        find_images(tmp_path / "empty")


def test_a_few_steps_lower_the_loss_and_skip_unreadable_files(photos, style_file, vgg16_file):
    trainer = Trainer(style_file, photos, config(iterations=30, weights=str(vgg16_file)))
    result = train(trainer)
    first = np.mean([h["total"] for h in result.history[:5]])
    last = np.mean([h["total"] for h in result.history[-5:]])
    assert result.steps == 30 and last < first
    assert result.skipped_files == 1 and result.images_per_second > 0


def test_resume_gives_the_same_weights_as_an_uninterrupted_run(photos, style_file, vgg16_file, tmp_path):
    straight = Trainer(style_file, photos, config(weights=str(vgg16_file)))
    train(straight, checkpoint_dir=tmp_path / "a")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["last.ckpt", "step-000003.ckpt",
                                                                  "step-000006.ckpt"]
    resumed = Trainer(style_file, photos, config(weights=str(vgg16_file)))
    saved_rng = torch.load(tmp_path / "a" / "step-000003.ckpt", weights_only=True)["rng"]
    torch.manual_seed(12345)
    assert resumed.load_checkpoint(tmp_path / "a" / "step-000003.ckpt") == []
    assert resumed.step == 3 and torch.equal(torch.get_rng_state(), saved_rng)
    train(resumed)
    for (name, a), b in zip(straight.net.state_dict().items(), resumed.net.state_dict().values()):
        assert torch.equal(a, b), name


def test_resuming_with_other_settings_lists_them(photos, style_file, vgg16_file, tmp_path):
    first = Trainer(style_file, photos, config(weights=str(vgg16_file)))
    first.save_checkpoint(tmp_path / "c.ckpt")
    other = Trainer(style_file, photos, config(weights=str(vgg16_file), content_weight=7.0, iterations=99))
    assert other.load_checkpoint(tmp_path / "c.ckpt") == [f"content_weight: {first.settings.content_weight} -> 7.0"]
    state = torch.load(tmp_path / "c.ckpt", weights_only=True)
    torch.save({**state, "world_size": 2}, tmp_path / "ddp.ckpt")
    assert first.load_checkpoint(tmp_path / "ddp.ckpt") == ["processes: 2 -> 1 (another data split)"]


def test_a_foreign_checkpoint_is_refused(photos, style_file, vgg16_file, tmp_path):
    trainer = Trainer(style_file, photos, config(weights=str(vgg16_file)))
    bad = tmp_path / "x.ckpt"
    torch.save({"a": torch.zeros(1)}, bad)
    with pytest.raises(InputError, match="not a neural-style checkpoint"):
        trainer.load_checkpoint(bad)


def test_cli_train_then_transfer_image_folder_and_gif(photos, style_file, vgg16_file, tmp_path):
    model = tmp_path / "style.pth"
    result = invoke("train", style_file, "--dataset", photos, "-o", model, "--image-size", "32", "--batch-size", "2",
                    "--iterations", "2", "--width", "0.25", "--checkpoint-every", "1", "--weights", vgg16_file,
                    "--report", tmp_path / "r.json", "-q")
    assert_ok(result)
    net, metadata = load_model(model)
    assert metadata["steps"] == 2 and metadata["skipped_files"] == 1 and len(metadata["style_sha256"]) == 64
    checkpoints = sorted(p.name for p in (tmp_path / "style-checkpoints").iterdir())
    assert checkpoints == ["last.ckpt", "step-000001.ckpt", "step-000001.jpg", "step-000002.ckpt",
                           "step-000002.jpg"]
    assert result.stderr.startswith("warning: 2 training steps (9 files, batch 2) give a weakly stylised network")
    assert "ask for --iterations 2000 or more (or more --epochs)" in result.stderr  # the CLI spells the options

    resumed = invoke("train", style_file, "--dataset", photos, "-o", tmp_path / "again.pth", "--image-size", "32",
                     "--batch-size", "2", "--iterations", "3", "--width", "0.25", "--weights", vgg16_file,
                     "--content-weight", "9", "--resume", tmp_path / "style-checkpoints" / "step-000001.ckpt", "-q")
    assert_ok(resumed)
    assert "differ from the checkpoint's (--content-weight: 4.0 -> 9.0)" in resumed.stderr  # spelled as options
    assert load_model(tmp_path / "again.pth")[1]["steps"] == 3

    photo = next(photos.glob("p0.jpg"))
    assert_ok(invoke("transfer", model, photo, "-o", tmp_path / "one.png", "-q"))
    assert Image.open(tmp_path / "one.png").size == Image.open(photo).size
    assert_ok(invoke("transfer", model, photo, "-o", tmp_path / "small.png", "--size", "26", "-q"))
    assert Image.open(tmp_path / "small.png").size == (26, 20)
    assert_ok(invoke("transfer", model, photos / "sub", "-o", tmp_path / "folder", "-q"))
    assert sorted(p.name for p in (tmp_path / "folder").iterdir()) == ["p1.jpg", "p3.jpg", "p5.jpg", "p7.jpg"]

    gif = tmp_path / "clip.gif"
    rng = np.random.default_rng(1)  # distinct frames: GIF writers merge identical ones
    frames = [rng.integers(0, 256, (20, 24, 3), dtype=np.uint8) for _ in range(3)]
    iio.imwrite(gif, frames, duration=100, loop=0)
    assert_ok(invoke("transfer", model, gif, "-o", tmp_path / "clip-out.gif", "-q"))
    out = iio.imread(tmp_path / "clip-out.gif", index=None)
    assert out.shape[0] == 3 and out.shape[1:3] == (20, 24)


@pytest.mark.parametrize("case", ["empty dataset", "missing style", "bad output ext", "missing resume", "corrupt model"])
def test_cli_errors(case, photos, style_file, vgg16_file, tmp_path):
    (tmp_path / "empty").mkdir()
    corrupt = tmp_path / "bad.pth"
    corrupt.write_bytes(b"\x00junk")
    common = ["--image-size", "32", "--iterations", "1", "--weights", vgg16_file, "-q"]
    args, fragment = {
        "empty dataset": (["train", style_file, "--dataset", tmp_path / "empty", "-o", tmp_path / "m.pth", *common],
                          "holds no images"),
        "missing style": (["train", tmp_path / "no.png", "--dataset", photos, "-o", tmp_path / "m.pth", *common],
                          "no.png"),
        "bad output ext": (["train", style_file, "--dataset", photos, "-o", tmp_path / "m.txt", *common], "m.txt"),
        "missing resume": (["train", style_file, "--dataset", photos, "-o", tmp_path / "m.pth", "--resume",
                            tmp_path / "none.ckpt", *common], "none.ckpt"),
        "corrupt model": (["transfer", corrupt, style_file, "-o", tmp_path / "o.png"], "bad.pth"),
    }[case]
    assert_error(invoke(*args), 2, fragment)


@pytest.mark.slow
@pytest.mark.parametrize("extra", [[], ["--temporal-weight", "10"]], ids=["plain", "temporal"])
def test_torchrun_with_two_gloo_processes(photos, style_file, vgg16_file, tmp_path, extra):
    model = tmp_path / "ddp.pth"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    # --standalone: a rendezvous on a free port (a fixed one fails when another run holds it)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           "-m", "neural_style", "train", str(style_file), "--dataset", str(photos), "-o", str(model),
           "--image-size", "32", "--batch-size", "2", "--iterations", "2", "--width", "0.25",
           "--weights", str(vgg16_file), "--device", "cpu", "-q", *extra]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    err = proc.stderr
    assert proc.returncode == 0, err if len(err) < 6000 else f"{err[:3000]}\n...\n{err[-3000:]}"  # the cause is often first
    _, metadata = load_model(model)
    assert metadata["world_size"] == 2 and metadata["steps"] == 2


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_sigkill_during_training_leaves_every_checkpoint_whole(photos, style_file, vgg16_file, tmp_path):
    """Kill -9 a run that checkpoints every step; every visible checkpoint still loads and resumes."""
    ckpts = tmp_path / "ckpts"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "neural_style", "train", str(style_file), "--dataset", str(photos),
           "-o", str(tmp_path / "m.pth"), "--image-size", "32", "--batch-size", "2", "--iterations", "100000",
           "--width", "0.25", "--weights", str(vgg16_file), "--checkpoint-every", "1", "--checkpoint-dir",
           str(ckpts), "-q"]
    log = tmp_path / "stderr.txt"
    with open(log, "wb") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        try:
            deadline = time.monotonic() + 120
            while not (ckpts / "step-000004.ckpt").exists():
                assert proc.poll() is None, log.read_text()[-2000:]
                assert time.monotonic() < deadline, "no checkpoint within 120 s"
                time.sleep(0.01)
            os.kill(proc.pid, signal.SIGKILL)  # a step later it checkpoints again: often mid-write
        finally:
            proc.kill()
            proc.wait()
    numbered = sorted(ckpts.glob("step-*.ckpt"))
    steps = [torch.load(p, map_location="cpu", weights_only=True)["step"] for p in numbered]
    assert steps == list(range(1, len(steps) + 1)) and len(steps) >= 4
    last = torch.load(ckpts / "last.ckpt", map_location="cpu", weights_only=True)["step"]
    assert last in (steps[-1], steps[-1] - 1)  # the kill may fall between the two writes
    assert_ok(invoke("train", style_file, "--dataset", photos, "-o", tmp_path / "resumed.pth", "--image-size", "32",
                     "--batch-size", "2", "--iterations", str(last + 1), "--width", "0.25", "--weights", vgg16_file,
                     "--resume", ckpts / "last.ckpt", "--checkpoint-dir", tmp_path / "more", "-q"))
    assert load_model(tmp_path / "resumed.pth")[1]["steps"] == last + 1


def _tiny_model(tmp_path, antialias=False):
    from neural_style.fast.model_file import save_model
    from neural_style.fast.transformer import TransformerNet

    torch.manual_seed(0)
    path = tmp_path / "tiny.pth"
    save_model(path, TransformerNet(width=0.25, antialias=antialias), {"steps": 0})
    return path


@pytest.mark.slow
@pytest.mark.parametrize("antialias", [False, True])
def test_export_pt2_round_trip_with_dynamic_sizes(tmp_path, antialias):
    model = _tiny_model(tmp_path, antialias)
    out = tmp_path / "tiny.pt2"
    result = invoke("export", model, "-o", out)
    assert_ok(result)
    assert "max difference 0" in result.stderr
    program = torch.export.load(str(out)).module()
    net, _ = load_model(model)
    for shape in [(1, 3, 32, 48), (3, 3, 40, 24), (2, 3, 8, 8), (1, 3, 37, 21)]:  # odd sizes too
        x = torch.rand(shape)
        got = program(x)
        assert got.shape == shape and torch.allclose(got, net(x), atol=1e-5)


@pytest.mark.slow
def test_export_to_an_upper_case_extension_prints_no_torch_log_line(tmp_path, capfd):
    """torch.export.load logs a warning for a name not ending in lower-case .pt2: the check reads a file object."""
    model = _tiny_model(tmp_path)
    result = invoke("export", model, "-o", tmp_path / "TINY.PT2")
    assert_ok(result)
    assert result.stderr.strip().splitlines() == [f"wrote {tmp_path / 'TINY.PT2'}; max difference 0 (torch.export.load)"]
    assert "Unable to load" not in capfd.readouterr().err


@pytest.mark.parametrize("antialias", [False, True])
def test_export_onnx(tmp_path, antialias):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    model = _tiny_model(tmp_path, antialias)
    out = tmp_path / "tiny.onnx"
    result = invoke("export", model, "-o", out)
    assert_ok(result)
    assert "onnxruntime" in result.stderr
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    net, _ = load_model(model)
    for shape in [(2, 3, 36, 52), (1, 3, 9, 27)]:  # other sizes and batches than the export's sample
        x = torch.rand(shape)
        got = torch.from_numpy(session.run(None, {"image": x.numpy()})[0])
        assert got.shape == shape and torch.allclose(got, net(x), atol=1e-4)


def test_export_errors(tmp_path):
    model = _tiny_model(tmp_path)
    assert_error(invoke("export", model, "-o", tmp_path / "x.tflite"), 2, "x.tflite")
    assert_error(invoke("export", tmp_path / "none.pth", "-o", tmp_path / "x.pt2"), 2, "none.pth")


def test_transfer_mp4_keeps_frames_and_rate(tmp_path):
    pytest.importorskip("av")
    from neural_style.io.video import read_video, write_video

    model = _tiny_model(tmp_path)
    clip = tmp_path / "clip.mp4"
    rng = np.random.default_rng(2)
    frames = [rng.integers(0, 256, (32, 48, 3), dtype=np.uint8) for _ in range(5)]
    write_video(clip, frames, fps=12)
    out = tmp_path / "clip-out.mp4"
    assert_ok(invoke("transfer", model, clip, "-o", out, "-q"))
    got = read_video(out)
    assert len(got.frames) == 5 and got.frames[0].shape == (32, 48, 3)
    assert got.fps == pytest.approx(12, rel=0.01)


def test_transfer_video_keeps_audio_and_variable_timestamps(tmp_path):
    pytest.importorskip("av")
    from neural_style.io.video import read_video, write_video
    from tests.media import clip_with_tone, frames

    model = _tiny_model(tmp_path)
    tone = clip_with_tone(tmp_path / "tone.mp4", n=10)
    times = [0.0, 0.1, 0.15, 0.4, 0.5, 0.9]
    clip = write_video(tmp_path / "clip.mkv", frames(6), timestamps=times, audio_from=tone)
    out = tmp_path / "clip-out.mkv"
    assert_ok(invoke("transfer", model, clip, "-o", out, "-q"))
    got = read_video(out)
    assert got.audio == "aac" and got.timestamps == pytest.approx(times, abs=1e-3)


def test_transfer_bad_videos_are_one_line_and_the_others_are_written(tmp_path):
    pytest.importorskip("av")
    from neural_style.io.video import read_video, write_video
    from tests.media import frames

    model = _tiny_model(tmp_path)
    folder = tmp_path / "clips"
    folder.mkdir()
    (folder / "a-corrupt.mp4").write_bytes(b"not a video" * 20)
    (folder / "b-empty.mkv").write_bytes(b"")
    write_video(folder / "c-good.mp4", frames(3), fps=10)
    result = invoke("transfer", model, folder, "-o", tmp_path / "out", "-q")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "a-corrupt.mp4" in result.stderr and "b-empty.mkv" in result.stderr
    assert all(len(line) < 400 for line in result.stderr.splitlines())
    assert len(read_video(tmp_path / "out" / "c-good.mp4").frames) == 3
    assert not (tmp_path / "out" / "a-corrupt.mp4").exists()


@pytest.mark.parametrize("field, value, message", [
    ("image_size", 8, "image_size must be an integer >= 16"),
    ("batch_size", 0, "batch_size must be an integer >= 1"),
    ("checkpoint_every", 0, "checkpoint_every must be an integer >= 1"),
    ("iterations", 0, "iterations must be an integer >= 1"),
    ("lr", float("nan"), "lr must be a finite number > 0"),
    ("lr", -1.0, "lr must be a finite number > 0"),
    ("tv_beta", float("inf"), "tv_beta must be a finite number > 0"),
    ("content_weight", float("inf"), "content_weight must be a finite number >= 0"),
    ("tv_weight", float("nan"), "tv_weight must be a finite number >= 0"),
    ("width", 0.0, "width must be a finite number > 0"),
])
def test_settings_no_run_can_use_are_one_line_errors(photos, style_file, vgg16_file, tmp_path, field, value, message):
    with pytest.raises(InputError, match=message):
        Trainer(style_file, photos, config(weights=str(vgg16_file), **{field: value}))
    if isinstance(value, float) and not math.isfinite(value):  # the CLI checks them with the same rule
        result = invoke("train", style_file, "--dataset", photos, "-o", tmp_path / "m.pth", "--weights", vgg16_file,
                        f"--{field.replace('_', '-')}", value)
        assert_error(result, 2, f"Invalid value for '--{field.replace('_', '-')}': {message.split(' ', 1)[1]}",
                     prefix="neural-style train: error: ")
        assert not (tmp_path / "m.pth").exists()


def test_a_large_photo_is_decoded_at_reduced_size_never_below_the_crop(tmp_path, monkeypatch):
    from PIL import Image

    from neural_style.fast import training

    path = tmp_path / "wide.png"
    Image.new("RGB", (1200, 400), (10, 20, 30)).save(path)
    asked = []
    real = training.to_tensor

    def spy(source, **kwargs):
        asked.append(kwargs.get("reduce_to"))
        return real(source, **kwargs)

    monkeypatch.setattr(training, "to_tensor", spy)
    sample = training.load_sample(path, 32)
    assert asked == [96] and sample.shape == (3, 32, 32)  # long side 3 x 32 keeps the short side at 32
