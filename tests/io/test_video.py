"""Tests for neural_style.io.video: frames, timestamps (variable rates too) and the audio track."""

from pathlib import Path

import numpy as np
import pytest

from neural_style.errors import InputError

av = pytest.importorskip("av")

from neural_style.io.video import (  # noqa: E402  (needs av)
    durations_from_timestamps,
    quantise_durations,
    read_video,
    timestamps_from_durations,
    write_video,
)
from tests.media import clip_with_tone, frames  # noqa: E402

BUNNY = Path(__file__).resolve().parents[3] / "shared" / "video" / "bigbuckbunny.mp4"


def audio_of(path: Path):
    """(codec, seconds of decoded samples, dominant frequency in Hz) of the first audio track, or None."""
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        chunks = [f.to_ndarray().astype(np.float64).mean(0) for f in container.decode(stream)]
        rate = stream.codec_context.sample_rate
    samples = np.concatenate(chunks)
    spectrum = np.abs(np.fft.rfft(samples[rate // 10:]))  # past the encoder's priming
    return stream.codec_context.name, len(samples) / rate, np.fft.rfftfreq(len(samples) - rate // 10, 1 / rate)[
        int(spectrum.argmax())]


@pytest.mark.parametrize("extension", [".mp4", ".mov", ".mkv", ".webm"])
def test_audio_track_is_kept(tmp_path, extension):
    source = clip_with_tone(tmp_path / "tone.mp4")
    out = write_video(tmp_path / f"out{extension}", frames(10), fps=10, audio_from=source)
    codec, seconds, frequency = audio_of(out)
    assert codec == ("opus" if extension == ".webm" else "aac")  # AAC copied; WebM takes Opus: re-encoded
    assert seconds == pytest.approx(1.0, abs=0.1)
    assert frequency == pytest.approx(440, abs=5)


def test_audio_is_cut_at_the_last_frame(tmp_path):
    source = clip_with_tone(tmp_path / "tone.mp4", seconds=3.0)
    out = write_video(tmp_path / "out.mp4", frames(10), fps=10, audio_from=source)
    assert audio_of(out)[1] == pytest.approx(1.0, abs=0.1)


def test_variable_frame_rate_keeps_its_timestamps(tmp_path):
    times = [0.0, 0.04, 0.12, 0.13, 0.5, 0.54]
    out = write_video(tmp_path / "vfr.mkv", frames(6), timestamps=times, fps=25)
    clip = read_video(out)
    assert clip.timestamps == pytest.approx(times, abs=1e-3)
    assert clip.durations_ms[:5] == [40, 80, 10, 370, 40]


def test_avi_holds_a_constant_rate_and_says_so(tmp_path):
    with pytest.warns(UserWarning, match="constant frame rate"):
        out = write_video(tmp_path / "vfr.avi", frames(6), timestamps=[0.0, 0.04, 0.12, 0.13, 0.5, 0.54], fps=25)
    clip = read_video(out)
    assert len(clip.frames) == 6 and np.allclose(np.diff(clip.timestamps), clip.timestamps[1])


def test_avi_warns_of_frame_durations_it_cannot_keep(tmp_path):
    """100/200/300 ms frames land within half a frame of a 5 fps grid: their durations are lost all the same."""
    with pytest.warns(UserWarning, match="constant frame rate"):
        write_video(tmp_path / "a.avi", frames(3), timestamps=[0.0, 0.1, 0.3], end=0.6)


def test_a_constant_rate_into_avi_gives_no_warning(tmp_path, recwarn):
    write_video(tmp_path / "a.avi", frames(4), timestamps=[0.0, 0.04, 0.08, 0.12], fps=25)
    assert not [w for w in recwarn if "constant frame rate" in str(w.message)]


def _smooth_pan(count: int, h: int = 32, w: int = 48) -> list:
    """Frames of a smooth moving gradient: what an encoder predicts with B-frames (noise it does not)."""
    y, x = np.mgrid[0:h, 0:w]
    return [np.stack([(x * 4 + 3 * i) % 256, (y * 6) % 256, ((x + y) * 2 + i) % 256], -1).astype(np.uint8)
            for i in range(count)]


@pytest.mark.parametrize("extension", [".mp4", ".mov", ".mkv", ".webm"])
@pytest.mark.parametrize("make", [frames, _smooth_pan], ids=["noise", "smooth"])
def test_the_last_frame_keeps_its_duration(tmp_path, extension, make):
    out = write_video(tmp_path / f"a{extension}", make(3), timestamps=[0.0, 0.1, 0.3], end=0.6, fps=5)
    clip = read_video(out)
    assert clip.durations_ms == [100, 200, 300] and clip.end == pytest.approx(0.6, abs=1e-3)


def test_end_must_follow_the_last_frame(tmp_path):
    with pytest.raises(ValueError, match="end must come after the last timestamp"):
        write_video(tmp_path / "a.mp4", frames(2), timestamps=[0.0, 0.1], end=0.1)
    assert not list(tmp_path.iterdir())


def test_frames_round_trip_at_their_size(tmp_path):
    source = frames(4, 21, 33)  # odd: padded to even by repeating the last row/column
    clip = read_video(write_video(tmp_path / "a.mp4", source, fps=8))
    assert len(clip.frames) == 4 and clip.frames[0].shape == (22, 34, 3) and clip.fps == pytest.approx(8)
    assert clip.audio is None


@pytest.mark.parametrize("content, message", [
    (b"", "cannot be read"),
    (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100, "cannot be read"),
    (b"not a video at all" * 10, "cannot be read"),
])
def test_damaged_files_are_one_line(tmp_path, content, message):
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as excinfo:
        read_video(path)
    assert "\n" not in str(excinfo.value) and "bad.mp4" in str(excinfo.value)
    assert "Errno" not in str(excinfo.value)  # FFmpeg's error codes mean nothing to a user


def test_a_missing_video_is_named_as_missing(tmp_path):
    with pytest.raises(InputError, match="video '.*gone.mp4' does not exist: check the path"):
        read_video(tmp_path / "gone.mp4")
    with pytest.raises(InputError, match="is a directory"):
        read_video(tmp_path)


def test_a_file_without_video_or_frames_is_one_line(tmp_path):
    audio_only = tmp_path / "tone.m4a"
    with av.open(str(audio_only), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=48000)
        chunk = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        chunk.sample_rate = 48000
        for packet in list(stream.encode(chunk)) + list(stream.encode()):
            container.mux(packet)
    with pytest.raises(InputError, match="no video stream"):
        read_video(audio_only)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="at least one frame"):
        write_video(tmp_path / "a.mp4", [])
    with pytest.raises(ValueError, match="same size"):
        write_video(tmp_path / "a.mp4", frames(2) + frames(1, 10, 10))
    with pytest.raises(ValueError, match="increasing timestamps"):
        write_video(tmp_path / "a.mp4", frames(3), timestamps=[0, 0.1, 0.1])
    assert not list(tmp_path.iterdir())


def test_durations_and_timestamps_convert():
    assert durations_from_timestamps([0, 0.1, 0.3], 10) == [100, 200, 100]
    assert durations_from_timestamps([0, 0.1, 0.3], 10, 0.3) == [100, 200, 300]
    assert timestamps_from_durations([100, 200, 100]) == [0.0, 0.1, 0.3]


def test_durations_round_where_frames_end_so_the_length_is_kept():
    thirty = durations_from_timestamps([i / 30 for i in range(30)], 30)
    assert thirty[:3] == [33, 34, 33] and sum(thirty) == 1000  # rounding each gap would give 33 x 30 = 990
    assert quantise_durations(thirty, 10)[:3] == [30, 40, 30] and sum(quantise_durations(thirty, 10)) == 1000
    assert quantise_durations([100, 200, 300], 10) == [100, 200, 300]
    assert quantise_durations([2, 2, 50], 10) == [10, 10, 50]  # a frame under half a unit still gets one


@pytest.mark.skipif(not BUNNY.is_file(), reason="needs ../shared/video/bigbuckbunny.mp4")
def test_real_clip_keeps_rate_and_audio(tmp_path):
    clip = read_video(BUNNY, max_frames=12)
    assert clip.fps == pytest.approx(25) and clip.audio == "aac" and clip.frames[0].shape == (720, 1280, 3)
    small = [f[::8, ::8] for f in clip.frames]
    out = read_video(write_video(tmp_path / "b.mp4", small, timestamps=clip.timestamps, fps=clip.fps,
                                 audio_from=BUNNY))
    assert out.audio == "aac" and out.timestamps == pytest.approx(clip.timestamps, abs=1e-3)


@pytest.mark.parametrize("extension", [".mp4", ".mov", ".mkv"])
def test_mp3_audio_is_copied_where_the_container_takes_it(tmp_path, extension):
    """MP4, MOV and Matroska hold MP3: its packets are copied, not re-encoded to AAC (issue 27: the check
    compared the decoder's name, mp3float)."""
    from neural_style.io.video import codec_name
    source = clip_with_tone(tmp_path / "tone.mkv", codec="libmp3lame")
    out = write_video(tmp_path / f"out{extension}", frames(10), fps=10, audio_from=source)
    with av.open(str(out)) as container:
        assert codec_name(container.streams.audio[0]) == "mp3"
    _, seconds, frequency = audio_of(out)
    assert seconds == pytest.approx(1.0, abs=0.15) and frequency == pytest.approx(440, abs=5)
    assert read_video(source).audio == "mp3"


@pytest.mark.parametrize("degrees", [90, -90, 180])
def test_a_rotated_clip_is_read_upright(tmp_path, degrees):
    """A phone's portrait clip: stored landscape with a display matrix (issue 27: it came out sideways)."""
    path = tmp_path / "phone.mp4"
    band = np.zeros((24, 32, 3), np.uint8)
    band[:, :8] = 255  # a white band at the left of the stored frame
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 24, "yuv420p"
        stream.set_display_rotation(degrees)
        for i in range(3):
            frame = av.VideoFrame.from_ndarray(band, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    first = read_video(path).frames[0]
    expected = np.rot90(band, {90: 1, -90: 3, 180: 2}[degrees])
    assert first.shape == expected.shape
    assert np.abs(first.astype(int) - expected.astype(int)).mean() < 20  # H.264's loss aside


def test_a_part_of_a_clip_keeps_its_frames_times_and_audio_from_its_start(tmp_path):
    """--start, --duration, --frames (issue 27, kind 3): the frames of the part, timed from its first, and
    the audio from the same moment (the tone switches from 440 to 880 Hz at 1 s)."""
    from neural_style.io.animation import video_timing
    from neural_style.io.video import clip_part
    source = clip_with_tone(tmp_path / "tone.mp4", n=20, fps=10, switch=1.0)
    clip = read_video(source)
    part = clip_part(clip, start=1.0, duration=0.5)
    assert len(part.frames) == 5 and part.timestamps[0] == 0 and part.start == pytest.approx(1.0)
    assert np.array_equal(part.frames[0], clip.frames[10])
    assert len(clip_part(clip, start=0.3, frames=3).frames) == 3
    out = write_video(tmp_path / "part.mp4", part.frames, timestamps=video_timing(part).times, fps=10,
                      audio_from=source, audio_start=part.start)
    _, seconds, frequency = audio_of(out)
    assert seconds == pytest.approx(0.5, abs=0.1) and frequency == pytest.approx(880, abs=10)
    with pytest.raises(InputError, match=r"holds no frame from 5 s \(it lasts 2 s\): choose an earlier start"):
        clip_part(clip, start=5.0)
