"""stylize on clips (Ruder et al.): the temporal term, resuming, the output's timing and audio, bad clips.

A random VGG16 (conftest's ``vgg16_file``) at 32-40 px keeps each frame to a fraction of a second."""

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

from neural_style.errors import InputError
from neural_style.settings import StylizeSettings, VideoSettings
from tests.clitools import assert_error, assert_ok, invoke

cv2 = pytest.importorskip("cv2")
pytest.importorskip("av")

from neural_style.io.video import read_video, write_video  # noqa: E402
from neural_style.video import stylize as video_module  # noqa: E402
from neural_style.video.stylize import frame_path, read_clip, stylize_clip  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def textured(h=60, w=80, seed=0) -> np.ndarray:
    g = torch.Generator().manual_seed(seed)
    noise = torch.rand(1, 3, h // 4, w // 4, generator=g)
    smooth = torch.nn.functional.interpolate(noise, size=(h, w), mode="bicubic", align_corners=False).clamp(0, 1)
    return (smooth[0].permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()


def panning(n=4, h=32, w=40, step=2) -> list:
    big = textured(h + 8, w + 4 * n)
    return [np.ascontiguousarray(big[4:4 + h, step * i: step * i + w]) for i in range(n)]


def gif(path: Path, frames, durations=None, loop=0) -> Path:
    images = [Image.fromarray(f) for f in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=durations or [100] * len(frames),
                   loop=loop)
    return path


@pytest.fixture
def style(tmp_path):
    path = tmp_path / "style.png"
    Image.fromarray(textured(40, 40, seed=5)).save(path)
    return path


def settings(vgg16_file, **kw):
    return StylizeSettings(**{"size": None, "iterations": 4, "weights": str(vgg16_file), "precision": "fp32", **kw})


def frames_of(folder: Path, count: int):
    return [np.asarray(Image.open(frame_path(folder, i))) for i in range(count)]


def stop_at(monkeypatch, frame: int):
    """Make the run stop (as Ctrl-C does) when it comes to ``frame``; returns the real frame function."""
    original = video_module._stylize_frame

    def stop(index, *args):
        if index == frame:
            raise KeyboardInterrupt
        return original(index, *args)

    monkeypatch.setattr(video_module, "_stylize_frame", stop)
    return original


@pytest.mark.slow
def test_a_static_clip_has_no_temporal_term_at_convergence(tmp_path, style, vgg16_file):
    """Identical frames: zero flow, so each frame starts exactly at the previous output, where the temporal
    term is 0; what moves it is only the rest of the optimisation (the first frame's written output is
    clipped to [0, 1] and 8 bits), so it stays a small share of the loss and the frames stay alike."""
    still = textured(32, 40)
    clip = write_video(tmp_path / "static.mp4", [still] * 3)  # (a GIF writer merges equal frames into one)
    frames = list(read_clip(clip).frames())
    previous = torch.rand(1, 3, 32, 40, generator=torch.Generator().manual_seed(0)).mul(255).round().to(torch.uint8)
    state = video_module._State(len(frames), previous, now=frames[1], before=frames[0])
    content = torch.from_numpy(np.array(frames[1])).permute(2, 0, 1)[None].float() / 255
    start, target, weight = video_module._temporal_target(1, state, content)
    assert torch.allclose(start, previous.float() / 255, atol=1e-5) and torch.equal(target, start)  # interpolation
    assert weight.min() == 1 and video_module._temporal_loss(target, weight, 1000)(start).item() == 0

    result = stylize_clip(clip, [style], str(tmp_path / "out") + "/", settings(vgg16_file, iterations=5),
                          VideoSettings(temporal_weight=1000, first_frame_iterations=300))
    assert result.stop_reason == "completed" and result.finished == 3
    later = result.frames[1:]
    assert all(r.consistent == 1.0 for r in later)
    assert all(r.losses["extra"] < 0.02 * r.losses["total"] for r in later), [r.losses for r in later]
    out = [o.astype(int) for o in frames_of(tmp_path / "out", 3)]
    assert max(np.abs(o - out[0]).max() for o in out[1:]) <= 8
    assert max(np.abs(o - out[0]).mean() for o in out[1:]) < 1.0  # under one 8-bit level on average


def test_temporal_weight_zero_stylises_every_frame_on_its_own(tmp_path, style, vgg16_file):
    clip = gif(tmp_path / "pan.gif", panning(3))
    result = stylize_clip(clip, [style], str(tmp_path / "a") + "/", settings(vgg16_file),
                          VideoSettings(temporal_weight=0))
    assert all("extra" not in r.losses and r.consistent == 0 for r in result.frames)
    alone = stylize_clip(gif(tmp_path / "two.gif", panning(3)[2:] + panning(3)[:1]), [style], str(tmp_path / "b") + "/",
                         settings(vgg16_file), VideoSettings(temporal_weight=0))
    assert alone.finished == 2
    np.testing.assert_array_equal(frames_of(tmp_path / "a", 3)[2], frames_of(tmp_path / "b", 1)[0])


def test_the_temporal_term_ties_a_pan_to_its_previous_frame(tmp_path, style, vgg16_file):
    clip = gif(tmp_path / "pan.gif", panning(3))
    result = stylize_clip(clip, [style], str(tmp_path / "o") + "/", settings(vgg16_file),
                          VideoSettings(temporal_weight=50))
    assert [r.index for r in result.frames] == [0, 1, 2]
    for record in result.frames[1:]:
        assert 0.7 < record.consistent < 1.0  # the strip uncovered by the pan is left out
        assert "extra" in record.losses


@pytest.mark.slow
def test_an_interrupted_clip_keeps_a_playable_file_and_resumes_to_the_same_frames(tmp_path, style, vgg16_file,
                                                                                 monkeypatch):
    clip = gif(tmp_path / "pan.gif", panning(4), durations=[100, 200, 300, 400], loop=1)
    whole = stylize_clip(clip, [style], str(tmp_path / "whole") + "/", settings(vgg16_file))
    assert whole.finished == 4
    original = stop_at(monkeypatch, 2)
    out = tmp_path / "out.gif"
    first = stylize_clip(clip, [style], out, settings(vgg16_file))
    assert first.stop_reason == "interrupted" and first.finished == 2
    with Image.open(out) as image:  # playable: the finished frames, with their durations
        assert image.n_frames == 2 and image.info["duration"] == 100
    assert (tmp_path / "out.gif.frames" / "000002.png").is_file()
    monkeypatch.setattr(video_module, "_stylize_frame", original)
    second = stylize_clip(clip, [style], out, settings(vgg16_file))
    assert second.resumed == 2 and [r.index for r in second.frames] == [2, 3] and second.finished == 4
    assert not (tmp_path / "out.gif.frames").exists()  # the output holds every frame now
    with Image.open(out) as image:
        assert image.n_frames == 4 and image.info["loop"] == 1
        durations = []
        for i in range(4):
            image.seek(i)
            durations.append(image.info["duration"])
            got = np.asarray(image.convert("RGB"))
            reference = np.asarray(Image.open(frame_path(tmp_path / "whole", i)).quantize(256).convert("RGB"))
            assert got.shape == reference.shape
        assert durations == [100, 200, 300, 400]


@pytest.mark.slow
def test_a_killed_run_continues_at_the_right_frame(tmp_path, style, vgg16_file, monkeypatch):
    """A real process killed with SIGKILL mid-clip; the rerun makes the frames an uninterrupted run makes.
    Every run on the same number of threads (the command fits its threads to other work, and another
    count sums in another order: a pixel one level off on a busy machine)."""
    monkeypatch.setenv("OMP_NUM_THREADS", str(torch.get_num_threads()))
    frames = panning(5)
    clip = gif(tmp_path / "pan.gif", frames)
    args = ["stylize", str(clip), str(style), "--weights", str(vgg16_file), "--iterations", "4", "--precision",
            "fp32", "--size", "40"]
    assert_ok(invoke(*args, "-q", "-o", str(tmp_path / "whole") + "/"))
    folder = tmp_path / "killed"
    command = [sys.executable, "-m", "neural_style", *args, "-q", "-o", str(folder) + "/"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not frame_path(folder, 1).is_file() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done = len(list(folder.glob("0*.png")))
    assert 2 <= done < 5
    result = invoke(*args, "-o", str(folder) + "/")
    assert_ok(result)
    assert f"continued after frame {done}" in result.stderr
    for i in range(5):
        np.testing.assert_array_equal(np.asarray(Image.open(frame_path(folder, i))),
                                      np.asarray(Image.open(frame_path(tmp_path / "whole", i))))


def test_a_frame_folder_records_the_clip_s_timing(tmp_path, style, vgg16_file):
    clip = gif(tmp_path / "pan.gif", panning(3), durations=[100, 200, 300], loop=1)
    result = invoke("stylize", clip, style, "-o", str(tmp_path / "o") + "/", "--weights", vgg16_file,
                    "--iterations", "2", "--size", "32")
    assert_ok(result)
    assert "o/timing.json" in result.output
    timing = json.loads((tmp_path / "o" / "timing.json").read_text())
    assert timing == {"frame_rate": 5.0, "durations_ms": [100, 200, 300], "timestamps": [0.0, 0.1, 0.3], "loop": 1}


def test_a_frame_folder_under_a_read_only_folder_is_a_usage_error(tmp_path, style, vgg16_file, monkeypatch):
    clip = gif(tmp_path / "pan.gif", panning(2))
    locked = tmp_path / "ro"
    locked.mkdir()
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != locked)  # as chmod 555 (root writes anyway)
    result = invoke("stylize", clip, style, "-o", str(locked / "frames") + "/", "--weights", vgg16_file,
                    "--iterations", "2")
    assert_error(result, 2, "is not a writable folder")
    assert not list(locked.iterdir())


def test_an_interruption_after_one_frame_says_frame_not_frames(tmp_path, style, vgg16_file, monkeypatch):
    stop_at(monkeypatch, 1)
    result = invoke("stylize", gif(tmp_path / "pan.gif", panning(3)), style, "-o", tmp_path / "o.gif",
                    "--weights", vgg16_file, "--iterations", "2", "--size", "32")
    assert "wrote the 1 finished frame to" in result.output


def test_a_folder_of_another_run_is_refused(tmp_path, style, vgg16_file):
    clip = gif(tmp_path / "pan.gif", panning(3))
    stylize_clip(clip, [style], str(tmp_path / "o") + "/", settings(vgg16_file))
    with pytest.raises(InputError, match=r"another run \(style_weight \S+ -> 9\)"):
        stylize_clip(clip, [style], str(tmp_path / "o") + "/", settings(vgg16_file, style_weight=9))
    stray = tmp_path / "stray"
    stray.mkdir()
    (stray / "000001.png").write_bytes(b"x")
    with pytest.raises(InputError, match="numbered frames of no stylize run"):
        stylize_clip(clip, [style], str(stray) + "/", settings(vgg16_file))


def test_video_output_keeps_rate_timestamps_and_audio(tmp_path, style, vgg16_file):
    from tests.media import clip_with_tone

    tone = clip_with_tone(tmp_path / "tone.mp4", n=10)
    times = [0.0, 0.1, 0.3, 0.35]
    source = write_video(tmp_path / "clip.mp4", panning(4), timestamps=times, audio_from=tone)
    out = tmp_path / "out.mp4"
    result = invoke("stylize", source, style, "-o", out, "--weights", vgg16_file, "--iterations", "3",
                    "--precision", "fp32", "--size", "40", "-q")
    assert_ok(result)
    got = read_video(out)
    assert len(got.frames) == 4 and got.audio == "aac"
    assert got.timestamps == pytest.approx(times, abs=1e-3)


def test_report_has_every_frame(tmp_path, style, vgg16_file):
    clip = gif(tmp_path / "pan.gif", panning(3))
    report = tmp_path / "r.json"
    assert_ok(invoke("stylize", clip, style, "-o", tmp_path / "o.gif", "--weights", vgg16_file, "--iterations", "3",
                     "--size", "40", "--first-frame-iterations", "5", "--temporal-weight", "20", "--report", report, "-q"))
    data = json.loads(report.read_text())
    assert data["frames_total"] == data["frames_finished"] == 3 and data["stop_reason"] == "completed"
    assert [f["iterations"] for f in data["frames"]] == [5, 3, 3]
    assert data["video"] == {"temporal_weight": 20.0, "first_frame_iterations": 5, "start": 0.0, "duration": None,
                             "frames": None}
    assert data["content"] == str(clip) and data["styles"] == [str(style)]
    assert all(f["seconds"] > 0 and "style" in f["losses"] for f in data["frames"])
    assert data["settings"]["scales"] is None and [f["scales"] for f in data["frames"]] == [[40]] * 3  # one scale


def _one_frame_mp4(path):
    return write_video(path, panning(1))


def _file(path, data: bytes):
    path.write_bytes(data)
    return path


def _no_frames_mp4(path):
    """An MP4 whose video stream was opened and closed without a frame (the muxer drops the empty track)."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width = stream.height = 16
        container.start_encoding()
    return path


def _two_sizes_mkv(path):
    """Motion JPEG frames of 16x16, 16x16 and 32x24 in one stream (a stream that changes resolution)."""
    import io
    from fractions import Fraction

    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("mjpeg", rate=10)
        stream.width, stream.height, stream.pix_fmt = 16, 16, "yuvj420p"
        for i, (h, w) in enumerate([(16, 16), (16, 16), (24, 32)]):
            jpeg = io.BytesIO()
            Image.fromarray(np.full((h, w, 3), 100 + 40 * i, np.uint8)).save(jpeg, "JPEG")
            packet = av.Packet(jpeg.getvalue())
            packet.stream, packet.pts, packet.dts, packet.duration = stream, i, i, 1
            packet.time_base = Fraction(1, 10)
            container.mux(packet)
    return path


@pytest.mark.parametrize("make, message", [
    (lambda p: _one_frame_mp4(p / "one.mp4"), "holds 1 frame"),
    (lambda p: _file(p / "empty.mp4", b""), "cannot be read"),
    (lambda p: _file(p / "bad.mkv", b"\x1aE\xdf\xa3" + b"\x00" * 64), "cannot be read"),
    (lambda p: _no_frames_mp4(p / "none.mp4"), "has no video stream"),
    (lambda p: _two_sizes_mkv(p / "sizes.mkv"), "differ in size (16x16 and 32x24)"),
])
def test_bad_clips_are_one_line_and_nothing_is_written(tmp_path, style, vgg16_file, make, message):
    clip = make(tmp_path)
    before = clip.read_bytes()
    out = tmp_path / "out.mp4"
    result = invoke("stylize", clip, style, "-o", out, "--weights", vgg16_file, "--size", "40", "-q")
    assert_error(result, 2, message)
    assert not out.exists() and not (tmp_path / "out.mp4.frames").exists()
    assert clip.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == [clip.name, style.name]


@pytest.mark.parametrize("output", ["out.gif", "out.mp4"])
def test_a_missing_or_one_frame_animation_is_named_before_the_output_s_extension(tmp_path, style, output):
    one = tmp_path / "one.gif"
    Image.new("RGB", (16, 16), "red").save(one)
    assert_error(invoke("stylize", one, style, "-o", tmp_path / output), 2,
                 "content '", "one.gif' holds 1 frame: there is no motion to keep coherent", "(-o out.png)")
    assert_error(invoke("stylize", tmp_path / "gone.gif", style, "-o", tmp_path / output), 2,
                 "gone.gif' does not exist: check the path")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["one.gif", style.name])


def test_frames_of_two_sizes_are_refused(tmp_path):
    """A stream that changes resolution part way: the frame of the other size is refused as it is decoded."""
    from neural_style.io.video import decode_video, probe_video

    clip = probe_video(write_video(tmp_path / "clip.mp4", [np.zeros((8, 10, 3), np.uint8)] * 2))
    clip.shape = (8, 8)  # as if the first frame had been 8x8
    with pytest.raises(InputError, match=r"differ in size \(8x8 and 10x8\)"):
        list(decode_video(clip))


def test_still_only_options_are_refused_for_a_clip(tmp_path, style, vgg16_file):
    clip = gif(tmp_path / "pan.gif", panning(2))
    assert_error(invoke("stylize", clip, style, "-o", tmp_path / "o.gif", "--animation", tmp_path / "a.gif",
                        "--weights", vgg16_file), 2, "--animation applies to an image content, not a clip")
    assert not (tmp_path / "o.gif").exists()


def test_a_bad_style_leaves_nothing_behind_and_the_fixed_command_runs(tmp_path, style, vgg16_file):
    clip = gif(tmp_path / "pan.gif", panning(2))
    out = tmp_path / "o.gif"
    args = ["--weights", vgg16_file, "--iterations", "2", "--size", "40", "-q"]
    assert_error(invoke("stylize", clip, tmp_path / "missing.jpg", "-o", out, *args), 2, "missing.jpg")
    assert not (tmp_path / "o.gif.frames").exists() and not out.exists()
    assert_ok(invoke("stylize", clip, style, "-o", out, *args))
    assert out.is_file()


def test_resume_follows_the_pixels_not_the_path(tmp_path, style, vgg16_file, monkeypatch):
    clip = gif(tmp_path / "pan.gif", panning(3))
    original = stop_at(monkeypatch, 1)
    out = str(tmp_path / "o") + "/"
    assert stylize_clip(clip, [style], out, settings(vgg16_file)).finished == 1
    monkeypatch.setattr(video_module, "_stylize_frame", original)
    moved = tmp_path / "elsewhere" / "renamed.gif"
    moved.parent.mkdir()
    moved.write_bytes(clip.read_bytes())
    resumed = stylize_clip(moved, [style], out, settings(vgg16_file))  # the same clip under another path
    assert resumed.resumed == 1 and resumed.finished == 3
    gif(clip, panning(3, step=3))  # another clip under the first name
    with pytest.raises(InputError, match=r"another run \(another clip file\)"):
        stylize_clip(clip, [style], out, settings(vgg16_file))


def test_the_report_of_a_resumed_run_has_every_frame(tmp_path, style, vgg16_file, monkeypatch):
    clip = gif(tmp_path / "pan.gif", panning(4))
    original = stop_at(monkeypatch, 2)
    stylize_clip(clip, [style], tmp_path / "o.gif", settings(vgg16_file))
    monkeypatch.setattr(video_module, "_stylize_frame", original)
    report = tmp_path / "r.json"
    stylize_clip(clip, [style], tmp_path / "o.gif", settings(vgg16_file), report=report)
    data = json.loads(report.read_text())
    assert [f["index"] for f in data["frames"]] == [0, 1, 2, 3] and data["frames_resumed"] == 2


def test_audio_that_the_output_cannot_hold_is_said_and_gif_input_is_quiet(tmp_path, style, vgg16_file):
    from tests.media import clip_with_tone

    tone = clip_with_tone(tmp_path / "tone.mp4", n=10)
    source = write_video(tmp_path / "clip.mp4", panning(2), fps=10, audio_from=tone)
    args = ["--weights", vgg16_file, "--iterations", "2", "--size", "40", "-q"]
    result = invoke("stylize", source, style, "-o", tmp_path / "o.gif", *args)
    assert_ok(result)
    assert result.stderr.splitlines() == [f"warning: '{source}' has an audio track, which '{tmp_path / 'o.gif'}' "
                                          "cannot hold (write a video to keep it)"]
    quiet = invoke("stylize", gif(tmp_path / "pan.gif", panning(2)), style, "-o", tmp_path / "p.gif", *args)
    assert_ok(quiet)
    assert quiet.stderr == ""  # no library warning leaks (Pillow's frames are read-only arrays)


def test_transfer_refuses_a_video_whose_frames_change_size(tmp_path):
    """Found as the frames are decoded (transfer reads a clip once): nothing is written."""
    from tests.fast.test_training import _tiny_model

    model = _tiny_model(tmp_path)
    clip = _two_sizes_mkv(tmp_path / "mixed.mkv")
    result = invoke("transfer", model, clip, "-o", tmp_path / "out.mp4", "-q", "--batch-size", "1")
    assert result.exit_code == 2 and "differ in size (16x16 and 32x24)" in result.stderr, result.stderr
    assert "internal error" not in result.stderr and not (tmp_path / "out.mp4").exists()


def test_a_clip_takes_the_colour_mode_of_its_settings(tmp_path, style, vgg16_file, monkeypatch):
    """colors reaches each frame's run_stylize; original_colors with histogram is refused before any frame."""
    seen = []
    real = video_module.run_stylize

    def spy(content, styles, s, **kwargs):
        seen.append(s.color_mode())
        return real(content, styles, s, **kwargs)

    monkeypatch.setattr(video_module, "run_stylize", spy)
    clip = gif(tmp_path / "pan.gif", panning(2))
    stylize_clip(clip, [style], str(tmp_path / "h") + "/", settings(vgg16_file, iterations=2, colors="histogram"),
                 VideoSettings(temporal_weight=0))
    assert seen == ["histogram", "histogram"]
    with pytest.raises(InputError, match="cannot be combined"):
        stylize_clip(clip, [style], str(tmp_path / "x") + "/",
                     settings(vgg16_file, original_colors=True, colors="histogram"), VideoSettings())
    assert not (tmp_path / "x").exists()
