"""A part of a clip on the command line (issue 27, kind 3): --start, --duration, --frames for stylize and
transfer, times in seconds, MM:SS or HH:MM:SS; refused in one line for an image."""

import json

import pytest

from tests.clitools import assert_error, assert_ok, invoke
from tests.media import clip_with_tone

av = pytest.importorskip("av")


def frame_count(path):
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(container.streams.video[0]))


def test_stylize_takes_a_part_from_a_time_in_minutes_and_seconds(tmp_path, style_file, vgg16_file):
    clip = clip_with_tone(tmp_path / "c.mp4", n=20, fps=10, switch=1.0)
    report = tmp_path / "r.json"
    assert_ok(invoke("stylize", clip, style_file, "-o", tmp_path / "o.mp4", "--weights", vgg16_file, "--iterations",
                     "1", "--first-frame-iterations", "1", "--start", "0:01", "--frames", "3", "--report", report, "-q"))
    assert frame_count(tmp_path / "o.mp4") == 3
    data = json.loads(report.read_text())
    assert data["frames_total"] == 3 and data["video"]["start"] == 1.0 and data["video"]["frames"] == 3


def test_transfer_takes_a_part_and_an_image_refuses_one(tmp_path, content_file, style_file, vgg16_file):
    import neural_style
    photos = tmp_path / "photos"
    photos.mkdir()
    content_file.rename(photos / "p.png")
    neural_style.train(style_file, photos, tmp_path / "m.pth", image_size=32, batch_size=1, iterations=1, width=0.25,
                       weights=str(vgg16_file), callbacks=neural_style.TrainCallbacks(warn=lambda m: None), device="cpu")
    clip = clip_with_tone(tmp_path / "c.mp4", n=20, fps=10)
    assert_ok(invoke("transfer", tmp_path / "m.pth", clip, "-o", tmp_path / "t.mp4", "--start", "0.5", "--duration",
                     "1", "-q"))
    assert frame_count(tmp_path / "t.mp4") == 10
    assert_error(invoke("stylize", photos / "p.png", style_file, "-o", tmp_path / "o.png", "--start", "3"), 2,
                 "--start, --duration and --frames take a part of a video")
    assert_error(invoke("transfer", tmp_path / "m.pth", clip, "-o", tmp_path / "u.mp4", "--duration", "0"), 2,
                 "Invalid value for '--duration': must be a finite number > 0, got 0", prefix="neural-style transfer")
