"""Tests for neural_style.io.animation: GIF and MP4 output."""

import importlib.util
import os
import sys

import imageio.v3 as iio
import numpy as np
import pytest
import torch
from PIL import Image

from neural_style.errors import InputError
from neural_style.io.animation import ANIMATION_EXTENSIONS, check_animation_path, write_animation

HAS_AV = importlib.util.find_spec("av") is not None


@pytest.fixture
def tensor_frames():
    torch.manual_seed(0)
    return [torch.rand(1, 3, 12, 16) for _ in range(3)]


def test_gif_round_trip(tmp_path, tensor_frames):
    path = write_animation(tmp_path / "progress.gif", tensor_frames, fps=5)
    frames = iio.imread(path, index=None)
    assert frames.shape[:3] == (3, 12, 16)
    meta = iio.immeta(path, index=0)
    assert meta["duration"] == 200 and meta["loop"] == 0
    assert os.listdir(tmp_path) == ["progress.gif"]


def test_gif_from_uint8_arrays(tmp_path):
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    frames = [np.full((5, 7, 3), colour, np.uint8) for colour in colours]
    back = iio.imread(write_animation(tmp_path / "a.GIF", frames), index=None)
    assert back.shape[:3] == (3, 5, 7)
    for frame, colour in zip(back, colours):
        np.testing.assert_array_equal(frame[2, 3, :3], colour)


@pytest.mark.skipif(not HAS_AV, reason="PyAV is not installed")
def test_mp4_odd_size(tmp_path):
    from neural_style.io.video import read_video

    frames = [np.full((21, 33, 3), 40 * i, np.uint8) for i in range(3)]
    path = write_animation(tmp_path / "progress.mp4", frames, fps=8)
    clip = read_video(path)
    back = clip.frames
    assert len(back) == 3 and clip.fps == pytest.approx(8)
    assert back[0].shape == (22, 34, 3)  # padded to even, not rescaled
    assert os.listdir(tmp_path) == ["progress.mp4"]


def test_mp4_without_pyav_is_refused_before_work(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "av", None)  # makes the import fail
    with pytest.raises(InputError) as excinfo:
        check_animation_path(tmp_path / "out.mp4")
    message = str(excinfo.value)
    assert "out.mp4" in message and "pip install 'neural-style[video]'" in message and "\n" not in message
    assert check_animation_path(tmp_path / "out.gif") == tmp_path / "out.gif"


def test_unsupported_extension(tmp_path, tensor_frames):
    assert ANIMATION_EXTENSIONS == (".gif", ".webp", ".png", ".mp4", ".mov", ".mkv", ".avi", ".webm")
    with pytest.raises(InputError, match=r"out\.flv.*\.gif, \.webp, \.png, \.mp4, \.mov, \.mkv, \.avi, \.webm"):
        write_animation(tmp_path / "out.flv", tensor_frames)


@pytest.mark.parametrize("extension", [".mov", ".mkv", ".avi", ".webm"])
def test_every_video_container_is_written_and_read_back(tmp_path, tensor_frames, extension):
    pytest.importorskip("av")
    from neural_style.io.video import read_video

    path = write_animation(tmp_path / f"out{extension}", tensor_frames * 3, fps=5)
    clip = read_video(path)
    assert len(clip.frames) == 9 and clip.frames[0].shape == (12, 16, 3)
    assert clip.timestamps == pytest.approx([i / 5 for i in range(9)], abs=1e-3)


def test_refuses_to_overwrite_input(tmp_path):
    source = tmp_path / "in.gif"
    source.write_bytes(b"GIF89a")
    with pytest.raises(InputError, match="refusing to overwrite input"):
        check_animation_path(source, inputs=[source])


def test_bad_frames(tmp_path, tensor_frames):
    with pytest.raises(ValueError, match="at least one frame"):
        write_animation(tmp_path / "a.gif", [])
    with pytest.raises(ValueError, match="same size"):
        write_animation(tmp_path / "a.gif", tensor_frames + [torch.rand(1, 3, 12, 15)])
    with pytest.raises(ValueError, match="fps"):
        write_animation(tmp_path / "a.gif", tensor_frames, fps=0)
    assert os.listdir(tmp_path) == []


def test_failed_write_leaves_nothing_behind(tmp_path, tensor_frames, monkeypatch):
    out = tmp_path / "a.gif"
    out.write_bytes(b"old")

    def broken(*args, **kwargs):
        raise RuntimeError("encoder crashed")

    monkeypatch.setattr(Image.Image, "save", broken)  # GIF, WebP and APNG are written by Pillow
    with pytest.raises(RuntimeError):
        write_animation(out, tensor_frames)
    assert out.read_bytes() == b"old" and os.listdir(tmp_path) == ["a.gif"]


def _played(path):
    """(loop setting, per-frame durations, frame count) as Pillow reads them back."""
    from PIL import ImageSequence

    with Image.open(path) as image:
        durations = [f.load() and f.info.get("duration") for f in ImageSequence.Iterator(image)]  # WebP: after load
        return image.info.get("loop"), durations, image.n_frames


@pytest.mark.parametrize("ext", [".gif", ".webp", ".png"])
@pytest.mark.parametrize("loop", [0, 1, None])
def test_per_frame_durations_and_the_loop_count_survive_a_round_trip(tmp_path, tensor_frames, ext, loop):
    from neural_style.io.animation import Timing, read_frames

    timing = Timing((100, 200, 300), loop)
    path = write_animation(tmp_path / f"a{ext}", tensor_frames, timing=timing)
    frames, back = read_frames(path)
    assert len(frames) == 3 and back.durations == (100, 200, 300) and back.loop == loop
    stored = _played(path)
    assert stored[1] == [100, 200, 300]
    # GIF stores repeats after the first play (none: once); WebP and APNG store plays (0: forever)
    assert stored[0] == (loop if ext == ".gif" else {0: 0, 1: 2, None: 1}[loop])


@pytest.mark.skipif(not HAS_AV, reason="needs PyAV (the video extra)")
@pytest.mark.parametrize("ext", [".mp4", ".mkv"])
def test_a_video_made_of_an_animation_keeps_every_duration(tmp_path, tensor_frames, ext):
    from neural_style.io.animation import Timing
    from neural_style.io.video import read_video

    clip = read_video(write_animation(tmp_path / f"a{ext}", tensor_frames, timing=Timing((100, 200, 300), 1)))
    assert clip.durations_ms == [100, 200, 300]


@pytest.mark.parametrize("ext", [".gif", ".webp", ".png"])
def test_a_30_fps_clip_keeps_its_length_in_every_animated_format(tmp_path, ext):
    from neural_style.io.animation import Timing, read_frames
    from neural_style.io.video import durations_from_timestamps

    # distinct frames (identical neighbours are merged by Pillow), 30 fps: 33/34 ms, GIF's unit is 10 ms
    frames = [np.full((8, 8, 3), 8 * i, np.uint8) for i in range(30)]
    timing = Timing(tuple(durations_from_timestamps([i / 30 for i in range(30)], 30)), 0)
    durations = read_frames(write_animation(tmp_path / f"a{ext}", frames, timing=timing))[1].durations
    assert len(durations) == 30 and sum(durations) == 1000  # 900 ms when GIF cut each 33 ms to 30


def test_timing_must_match_the_frames(tmp_path, tensor_frames):
    from neural_style.io.animation import Timing

    with pytest.raises(ValueError, match="timing has 2 durations for 3 frames"):
        write_animation(tmp_path / "a.gif", tensor_frames, timing=Timing((100, 100)))


def test_transfer_keeps_each_gif_s_durations_and_loop_setting(tmp_path):
    """../shared/cases/transfer: varying durations, play twice (loop 1), play once (no loop extension)."""
    from neural_style.fast.model_file import save_model
    from neural_style.fast.transformer import TransformerNet
    from tests.clitools import assert_ok, invoke

    rng = np.random.default_rng(0)  # textured frames: an untrained network maps flat ones to one image
    frames = [Image.fromarray(rng.integers(0, 255, (35, 67, 3), dtype=np.uint8)) for _ in range(3)]
    cases = {"varying": ([100, 200, 300], 0), "play_twice": ([80] * 3, 1), "play_once": ([80] * 3, None)}
    for name, (durations, loop) in cases.items():
        extra = {} if loop is None else {"loop": loop}
        frames[0].save(tmp_path / f"{name}.gif", save_all=True, append_images=frames[1:], duration=durations, **extra)
    model = save_model(tmp_path / "m.pth", TransformerNet(width=0.25), {"steps": 0})
    assert_ok(invoke("transfer", model, *[tmp_path / f"{n}.gif" for n in cases], "-o", tmp_path / "out", "--quiet"))
    for name in cases:
        assert _played(tmp_path / "out" / f"{name}.gif") == _played(tmp_path / f"{name}.gif")
