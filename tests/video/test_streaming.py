"""Clips stream through stylize and transfer (issue 27, kind 3): frames are decoded, processed and
encoded one at a time (a batch for transfer), so peak memory does not grow with a clip's length.

Each run is a fresh process (the installed command) whose peak resident memory the kernel reports
(``os.wait4``). The clips are large enough that holding them would show: at 1280x720 each frame is
2.8 MB as uint8, so the 10x longer clip would add over 100 MB per copy held, against a process of
about 700-800 MB (torch). ``benchmarks/clip_memory.py --code OLD_TREE`` runs the same commands with
the code before streaming (commit 3d27265): 1.38x (transfer) and 1.62x (stylize) for 6 and 60 frames.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("av")
pytest.importorskip("cv2")

from neural_style.io.video import probe_video, write_video  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def clip(path: Path, frames: int, height: int = 720, width: int = 1280) -> Path:
    """A panning texture, made and encoded a frame at a time."""
    rng = np.random.default_rng(0)
    texture = np.repeat(np.repeat(rng.integers(0, 256, (height // 8 + 2, width // 8 + frames, 3), np.uint8), 8, 0), 8, 1)

    def made():
        for i in range(frames):
            yield np.ascontiguousarray(texture[:height, 8 * i:8 * i + width])
    return write_video(path, made(), timestamps=[i / 25 for i in range(frames)])


def peak_mib(*args) -> float:
    """Peak resident memory (MiB) of ``neural-style ARGS`` in a fresh process, which must succeed."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "neural_style", *map(str, args), "-q"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0, proc.stderr.read().decode()[-2000:]
    return usage.ru_maxrss / 1024  # kilobytes on Linux


@pytest.mark.slow
def test_transfer_of_a_10x_longer_clip_takes_at_most_1_2x_the_memory(tmp_path):
    from tests.fast.test_training import _tiny_model

    model = _tiny_model(tmp_path)
    short, long = clip(tmp_path / "short.mp4", 6), clip(tmp_path / "long.mp4", 60)
    peaks = [peak_mib("transfer", model, src, "-o", tmp_path / f"out-{src.stem}.mp4", "--size", "160")
             for src in (short, long)]
    assert len(probe_video(tmp_path / "out-long.mp4").timestamps) == 60
    print(f"transfer peak memory: 6 frames {peaks[0]:.0f} MiB, 60 frames {peaks[1]:.0f} MiB, "
          f"ratio {peaks[1] / peaks[0]:.3f}")
    assert peaks[1] <= 1.2 * peaks[0], peaks


@pytest.mark.slow
def test_stylize_of_a_10x_longer_clip_takes_at_most_1_2x_the_memory(tmp_path, style_file, vgg16_file):
    short, long = clip(tmp_path / "short.mp4", 6), clip(tmp_path / "long.mp4", 60)
    common = ["--weights", vgg16_file, "--size", "32", "--iterations", "1", "--first-frame-iterations", "1"]
    peaks = [peak_mib("stylize", src, style_file, "-o", tmp_path / f"out-{src.stem}.mp4", *common)
             for src in (short, long)]
    assert len(probe_video(tmp_path / "out-long.mp4").timestamps) == 60
    print(f"stylize peak memory: 6 frames {peaks[0]:.0f} MiB, 60 frames {peaks[1]:.0f} MiB, "
          f"ratio {peaks[1] / peaks[0]:.3f}")
    assert peaks[1] <= 1.2 * peaks[0], peaks


def test_a_part_decodes_the_frames_of_its_times(tmp_path):
    """The part's frames are those of its timestamps, decoded after a seek to the key frame before it."""
    from neural_style.io.video import clip_part, decode_video

    frames = [np.full((16, 16, 3), 8 * i, np.uint8) for i in range(30)]
    path = write_video(tmp_path / "grey.mp4", frames, fps=10)
    part = clip_part(probe_video(path), start=1.2, duration=0.5)
    got = [int(round(f.mean() / 8)) for f in decode_video(part)]
    assert got == [12, 13, 14, 15, 16] and part.timestamps == pytest.approx([0, 0.1, 0.2, 0.3, 0.4])
    assert part.start == pytest.approx(1.2)
    assert [int(round(f.mean() / 8)) for f in decode_video(clip_part(probe_video(path), frames=3))] == [0, 1, 2]


def test_an_animation_output_whose_frames_do_not_fit_is_refused_before_work(tmp_path, monkeypatch):
    """Pillow's GIF, WebP and APNG writers hold every frame: counted before any work (a video is not)."""
    from neural_style.core import device
    from tests.clitools import assert_error, assert_ok, invoke
    from tests.fast.test_training import _tiny_model

    model = _tiny_model(tmp_path)
    src = clip(tmp_path / "c.mp4", 20, 96, 128)
    monkeypatch.setattr(device, "available_memory", lambda dev: 200_000)  # 20 GIF frames of 128x96: 246 kB
    assert_error(invoke("transfer", model, src, "-o", tmp_path / "o.gif"), 2,
                 "writing 20 frames of 128x96 px to 'o.gif' needs about", "write a video (.mp4) instead")
    assert not (tmp_path / "o.gif").exists()
    monkeypatch.setattr(device, "available_memory", lambda dev: 2**34)
    assert_ok(invoke("transfer", model, src, "-o", tmp_path / "o.gif", "-q"))


def test_running_out_of_memory_anyway_is_one_line(tmp_path, monkeypatch):
    from neural_style.fast import transfer as transfer_module
    from tests.clitools import assert_error, invoke
    from tests.fast.test_training import _tiny_model

    def exhausted(*args, **kwargs):
        raise MemoryError()
    monkeypatch.setattr(transfer_module, "apply_model", exhausted)
    src = clip(tmp_path / "c.mp4", 2, 32, 32)
    assert_error(invoke("transfer", _tiny_model(tmp_path), src, "-o", tmp_path / "o.mp4"), 1,
                 "out of memory: use a smaller --size")
    assert not (tmp_path / "o.mp4").exists()


def test_ctrl_c_while_a_clip_s_next_frame_is_decoded_keeps_the_finished_frames(tmp_path, style_file, vgg16_file,
                                                                               monkeypatch):
    """Frames are decoded between the frames' runs now: a stop there is a stop like any other."""
    from neural_style.settings import StylizeSettings
    from neural_style.video import stylize as video_module

    calls = []
    real = video_module._resized

    def decoded(frame, shape):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(frame, shape)
    monkeypatch.setattr(video_module, "_resized", decoded)
    src = clip(tmp_path / "c.mp4", 5, 32, 32)
    result = video_module.stylize_clip(src, [style_file], tmp_path / "o.mp4",
                                       StylizeSettings(size=32, iterations=1, weights=str(vgg16_file)),
                                       report=tmp_path / "r.json")
    assert result.stop_reason == "interrupted" and result.finished == 2
    assert len(probe_video(tmp_path / "o.mp4").timestamps) == 2
    assert (tmp_path / "r.json").is_file() and (tmp_path / "o.mp4.frames").is_dir()


def test_a_part_begins_with_the_frame_on_screen_at_its_start(tmp_path):
    """--start inside a frame takes that frame (it began before), up to the last frame of the clip."""
    from neural_style.io.video import clip_part, decode_video

    path = write_video(tmp_path / "grey.mp4", [np.full((16, 16, 3), 8 * i, np.uint8) for i in range(20)], fps=10)
    part = clip_part(probe_video(path), start=1.25, duration=0.2)  # 12 (1.2 to 1.3) to 14 (on screen at 1.44)
    assert [int(round(f.mean() / 8)) for f in decode_video(part)] == [12, 13, 14] and part.start == pytest.approx(1.2)
    last = clip_part(probe_video(path), start=1.97)  # inside the last frame (1.9 to 2.0)
    assert len(last.timestamps) == 1 and last.start == pytest.approx(1.9)
    from neural_style.errors import InputError
    with pytest.raises(InputError, match="holds no frame from 2 s"):
        clip_part(probe_video(path), start=2.0)


@pytest.mark.parametrize("text", ["1:70", "-1:00", "1:2:3:4", "a:b", "1.5:10"])
def test_a_time_that_is_not_one_is_refused_in_one_line(text):
    from tests.clitools import assert_error, invoke
    assert_error(invoke("transfer", "m.pth", "c.mp4", "-o", "o.mp4", "--start", text), 2,
                 f"'{text}' is not a time: expected seconds, MM:SS or HH:MM:SS", prefix="neural-style transfer: error:")


def test_times_are_read_as_seconds():
    from neural_style.rules import _time
    assert _time("1:05.5") == 65.5 and _time("1:02:03") == 3723 and _time("0:00") == 0


def test_a_part_takes_from_the_videos_of_a_batch_and_leaves_its_images_whole(tmp_path):
    from PIL import Image

    from tests.clitools import assert_error, invoke
    from tests.fast.test_training import _tiny_model

    model = _tiny_model(tmp_path)
    src = tmp_path / "in"
    src.mkdir()
    clip(src / "c.mp4", 6, 32, 32)
    Image.new("RGB", (20, 16), (90, 40, 200)).save(src / "p.png")
    result = invoke("transfer", model, src, "-o", tmp_path / "out", "--frames", "2", "-q")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == ["warning: --start, --duration and --frames take a part of each video: the 1 "
                                          "other input(s) (images, animations) are stylised whole"]
    assert len(probe_video(tmp_path / "out" / "c.mp4").timestamps) == 2
    assert Image.open(tmp_path / "out" / "p.png").size == (20, 16)
    assert_error(invoke("transfer", model, src / "p.png", "-o", tmp_path / "one.png", "--frames", "2"), 2,
                 "take a part of a video file, not of 'p.png'")
