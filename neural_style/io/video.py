"""Video files through PyAV (FFmpeg's libraries, the ``video`` extra): frames with their presentation
timestamps (a variable-frame-rate clip keeps them), the frame rate, and the audio track carried into
the output. Reading is in :mod:`.video_read` (its names are here too); writing here, one frame at a
time, so a clip's frames can be made as they are encoded.

PyAV rather than imageio-ffmpeg: imageio-ffmpeg pipes raw frames through an ffmpeg process and
cannot carry an audio track or per-frame timestamps; PyAV reads and writes the container itself,
so audio packets are copied unchanged (re-encoded only where the output container cannot hold the
codec, e.g. AAC into WebM) and each frame keeps its time.
"""

from __future__ import annotations

import contextlib
import warnings
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Optional, Sequence

import numpy as np

from ..errors import NeuralStyleError, one_line
from .atomic import atomic_write
from .video_read import (  # noqa: F401  (the reading half, under its former names)
    INSTALL,
    VIDEO_CODECS,
    VIDEO_EXTENSIONS,
    VideoClip,
    check_frame_sizes,
    check_part_of,
    clip_part,
    codec_name,
    decode_video,
    durations_from_timestamps,
    probe_video,
    quantise_durations,
    read_video,
    require_av,
    timestamps_from_durations,
    upright,
)

#: Audio codecs each container takes as they are (None: any); others are re-encoded to AUDIO_ENCODER.
AUDIO_COPY = {".mp4": {"aac", "mp3", "alac", "opus", "ac3", "eac3", "flac"}, ".mov": {"aac", "mp3", "alac", "ac3"},
              ".mkv": None, ".avi": {"mp3", "ac3", "aac"}, ".webm": {"opus", "vorbis"}}
AUDIO_ENCODER = {".webm": "libopus"}  # elsewhere "aac"
#: Timestamps are written in this time base (the MPEG 90 kHz clock).
TIME_BASE = Fraction(1, 90000)
#: Containers that count frames at one rate (no per-frame timestamps).
CONSTANT_RATE = (".avi",)


def write_video(path, frames: Iterable[np.ndarray], *, timestamps: Optional[Sequence[float]] = None,
                fps: float = 25.0, end: Optional[float] = None, audio_from=None, audio_start: float = 0.0) -> Path:
    """Encode (H, W, 3) uint8 frames as a video, atomically, one frame at a time.

    Args:
        path: the output, by extension: .mp4, .mov, .mkv, .avi (H.264) or .webm (VP9), in yuv420p
            (odd widths and heights are padded by repeating the last column or row).
        frames: at least one frame, all the same size: a sequence, or an iterator that makes them as
            they are encoded (memory then does not grow with the clip; Ctrl-C, SIGTERM and SIGHUP stop
            at once and nothing is written). An iterator needs ``timestamps``; one that ends early gives
            a shorter clip (its last frame lasting until the next timestamp).
        timestamps: each frame's time in seconds (increasing; a variable rate is kept); None: ``fps``.
        fps: the nominal frame rate (with ``timestamps``, the rate the container announces).
        end: when the last frame ends, in seconds (after its timestamp); None: one more gap like the
            one before it (1/fps for a single frame). Written as the last packet's duration.
        audio_from: a file whose first audio track is written alongside, up to the last frame's end:
            copied as it is where the container takes its codec, else re-encoded (Opus for WebM, AAC).
        audio_start: where in ``audio_from`` the audio begins, in seconds (a part of a clip: its start).

    Raises:
        ValueError: no frames, frames of different sizes, timestamps that do not increase, an iterator
            without timestamps or with more frames than timestamps.
        InputError: PyAV missing; NeuralStyleError: the file could not be written. What the iterator
            raises passes unchanged.
    """
    av = require_av(f"writing '{path}'")
    path = Path(path)
    streaming = not hasattr(frames, "__len__")  # a list, array or tensor of frames, else an iterator
    if timestamps is None and streaming:
        raise ValueError("write_video needs the timestamps of frames given as an iterator")
    times = list(timestamps) if timestamps is not None else [i / fps for i in range(len(frames))]
    if not times or (not streaming and not len(frames)):
        raise ValueError("write_video needs at least one frame, got none")
    if (not streaming and len(times) != len(frames)) or any(b <= a for a, b in zip(times, times[1:])):
        raise ValueError(f"expected {len(frames) if not streaming else len(times)} increasing timestamps, "
                         f"got {times[:4]}...")
    if end is None:
        end = times[-1] + (times[-1] - times[-2] if len(times) > 1 else 1.0 / fps)
    if end <= times[-1]:
        raise ValueError(f"end must come after the last timestamp ({times[-1]}), got {end}")
    constant = path.suffix.lower() in CONSTANT_RATE
    if constant:  # AVI counts frames: a variable rate becomes the mean rate
        fps = len(times) / end
        if not _constant_rate(times, end):
            warnings.warn(f"'{path}' holds a constant frame rate: the variable frame timing is written at "
                          f"{fps:.3g} fps (.mp4, .mov, .mkv or .webm keep it)", UserWarning, stacklevel=2)
    time_base = Fraction(fps).limit_denominator(100000) ** -1 if constant else TIME_BASE
    # each frame's start and the last one's end, in time-base ticks (AVI: frame counts)
    ticks = list(range(len(times) + 1)) if constant else [round(t / time_base) for t in (*times, end)]
    out = _Encoder(av, path, fps, time_base, ticks, (audio_from, audio_start, [*times, end]))
    return atomic_write(path, lambda temporary: out.write(temporary, frames), interruptible=streaming)


@contextlib.contextmanager
def _av_errors(path: Path):
    """PyAV's errors (``av.error.*``) as a NeuralStyleError naming the output."""
    try:
        yield
    except NeuralStyleError:
        raise
    except Exception as exc:
        raise NeuralStyleError(f"'{path}' could not be written ({one_line(exc, 100, strerror=True)})") from exc


class _Encoder:
    """The frames of one video into a temporary file; PyAV's errors become one line naming the output,
    the frames' own (made as they come) pass unchanged."""

    def __init__(self, av, path: Path, fps: float, time_base: Fraction, ticks, audio):
        self.av, self.path, self.fps, self.time_base, self.ticks = av, path, fps, time_base, ticks
        self.durations = {start: stop - start for start, stop in zip(ticks, ticks[1:])}
        self.audio_from, self.audio_start, self.ends = audio
        self.audio = None  # the audio track's carrier, added with the video stream at the first frame

    def write(self, temporary: Path, frames: Iterable[np.ndarray]) -> None:
        with _av_errors(self.path):
            container = self.av.open(str(temporary), "w", format=_format(self.path))
        try:
            count = self._frames(container, frames)
            with _av_errors(self.path):
                if self.audio is not None:
                    self.audio.end = self.ends[count]  # the end of the last frame written
                    self.audio.copy()
        except BaseException:
            with contextlib.suppress(Exception):
                container.close()
            raise
        with _av_errors(self.path):
            container.close()

    def _frames(self, container, frames: Iterable[np.ndarray]) -> int:
        stream, shape, count = None, None, 0
        for index, array in enumerate(frames):  # what making a frame raises passes unchanged
            if index >= len(self.ticks) - 1:
                raise ValueError(f"got more frames than the {len(self.ticks) - 1} timestamps")
            if shape is not None and array.shape != shape:
                raise ValueError(f"all frames must have the same size, got {sorted({shape, array.shape})[:2]}")
            with _av_errors(self.path):
                if stream is None:
                    shape, stream = array.shape, _video_stream(container, self.path, array.shape, self.fps,
                                                               self.time_base)
                    self.audio = (_AudioCarrier(self.av, container, self.audio_from, self.path.suffix.lower(), 0.0,
                                                self.audio_start) if self.audio_from else None)
                frame = self.av.VideoFrame.from_ndarray(_even(array), format="rgb24")
                frame.pts, frame.time_base = self.ticks[index], self.time_base
                _mux(container, stream.encode(frame), self.durations)
            count += 1
        if stream is None:
            raise ValueError("write_video needs at least one frame, got none")
        with _av_errors(self.path):
            _mux(container, stream.encode(), self.durations)
        return count


def _constant_rate(times: Sequence[float], end: float) -> bool:
    """Whether frames at ``times`` ending at ``end`` all last the same (within 5%: timestamps on a
    container's clock round)."""
    gaps = np.diff([*times, end])
    return bool(np.all(np.abs(gaps - gaps.mean()) <= 0.05 * gaps.mean()))


def _mux(container, packets, durations: dict) -> None:
    """Mux encoded packets, each with its frame's duration (found by its presentation time): the
    muxer otherwise gives the last frame 1/fps."""
    for packet in packets:
        if packet.pts in durations:
            packet.duration = durations[packet.pts]
        container.mux(packet)


def _format(path: Path) -> str:
    return {".mkv": "matroska", ".mov": "mov", ".mp4": "mp4", ".avi": "avi", ".webm": "webm"}[path.suffix.lower()]


def _video_stream(container, path: Path, shape, fps: float, time_base: Fraction):
    # no B-frames in H.264: AVI stores no presentation times (they would play out of order), and MP4/MOV
    # take the last sample's duration from the last packet in decode order, which B-frames make another
    # frame than the last one shown (its duration would be lost)
    options = {"bf": "0"} if VIDEO_CODECS[path.suffix.lower()] == "libx264" else {}
    stream = container.add_stream(VIDEO_CODECS[path.suffix.lower()], rate=Fraction(fps).limit_denominator(100000),
                                  options=options)
    stream.height, stream.width = shape[0] + shape[0] % 2, shape[1] + shape[1] % 2
    stream.pix_fmt = "yuv420p"
    stream.codec_context.time_base = time_base
    return stream


def _even(array: np.ndarray) -> np.ndarray:
    """yuv420p needs even sizes: repeat the last row / column."""
    h, w = array.shape[:2]
    if h % 2 or w % 2:
        array = np.pad(array, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    return np.ascontiguousarray(array[..., :3])



class _AudioCarrier:
    """The first audio track of ``source``, into ``container`` up to ``end`` seconds: packets copied
    where the container takes the codec, else decoded and re-encoded."""

    def __init__(self, av, container, source, extension: str, end: float, start: float = 0.0):
        self.av, self.container, self.end, self.start = av, container, end, start
        self.input = av.open(str(source))
        self.track = self.input.streams.audio[0] if self.input.streams.audio else None
        if self.track is None:
            self.input.close()
            return
        allowed = AUDIO_COPY[extension]
        self.copying = allowed is None or codec_name(self.track) in allowed
        if self.copying:
            self.output = container.add_stream_from_template(self.track)
        else:
            self.output = container.add_stream(AUDIO_ENCODER.get(extension, "aac"), rate=48000)

    def copy(self) -> None:
        if self.track is None:
            return
        try:
            if self.copying:
                for packet in self.input.demux(self.track):
                    if packet.dts is None or packet.pts is None:
                        continue
                    if packet.pts * packet.time_base < self.start:  # before the part taken
                        continue
                    if packet.pts * packet.time_base >= self.start + self.end:
                        break
                    shift = int(round(self.start / packet.time_base))
                    packet.pts, packet.dts = packet.pts - shift, packet.dts - shift
                    packet.stream = self.output
                    self.container.mux(packet)
            else:
                for frame in self.input.decode(self.track):
                    if frame.pts is not None and frame.pts * frame.time_base < self.start:
                        continue
                    if frame.pts is not None and frame.pts * frame.time_base >= self.start + self.end:
                        break
                    frame.pts = None
                    for packet in self.output.encode(frame):
                        self.container.mux(packet)
                for packet in self.output.encode():
                    self.container.mux(packet)
        finally:
            self.input.close()

