"""Video files through PyAV (FFmpeg's libraries, the ``video`` extra): frames with their presentation
timestamps (a variable-frame-rate clip keeps them), the frame rate, and the audio track carried into
the output.

PyAV rather than imageio-ffmpeg: imageio-ffmpeg pipes raw frames through an ffmpeg process and
cannot carry an audio track or per-frame timestamps; PyAV reads and writes the container itself,
so audio packets are copied unchanged (re-encoded only where the output container cannot hold the
codec, e.g. AAC into WebM) and each frame keeps its time.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np

from ..core.files import require_file
from ..errors import InputError, NeuralStyleError, one_line, setting
from .atomic import atomic_write

#: Video containers and the video codec each is written with (yuv420p).
VIDEO_CODECS = {".mp4": "libx264", ".mov": "libx264", ".mkv": "libx264", ".avi": "libx264", ".webm": "libvpx-vp9"}
VIDEO_EXTENSIONS = tuple(VIDEO_CODECS)
#: Audio codecs each container takes as they are (None: any); others are re-encoded to AUDIO_ENCODER.
AUDIO_COPY = {".mp4": {"aac", "mp3", "alac", "opus", "ac3", "eac3", "flac"}, ".mov": {"aac", "mp3", "alac", "ac3"},
              ".mkv": None, ".avi": {"mp3", "ac3", "aac"}, ".webm": {"opus", "vorbis"}}
AUDIO_ENCODER = {".webm": "libopus"}  # elsewhere "aac"
#: Timestamps are written in this time base (the MPEG 90 kHz clock).
TIME_BASE = Fraction(1, 90000)
#: Containers that count frames at one rate (no per-frame timestamps).
CONSTANT_RATE = (".avi",)
INSTALL = "pip install 'neural-style[video]'"


def require_av(what: str):
    """The ``av`` module, or InputError naming ``what`` needs it and how to install it."""
    try:
        import av
    except ImportError as exc:
        raise InputError(f"{what} needs PyAV: {INSTALL}") from exc
    return av


@dataclass
class VideoClip:
    """A decoded video.

    Attributes:
        frames: (H, W, 3) uint8 RGB frames, in presentation order.
        timestamps: each frame's presentation time in seconds, the first at 0.
        fps: the stream's average frame rate (frames per second).
        audio: the audio track's codec name, or None when the file has none.
        source: the file read.
        last_duration: the last frame's duration in seconds, as the file records it (None: not
            recorded; 1/fps is assumed).
        start: where the first frame is in the file, in seconds (0 unless a part was taken:
            :func:`clip_part`); the audio track is taken from there.
    """

    frames: List[np.ndarray]
    timestamps: List[float]
    fps: float
    audio: Optional[str] = None
    source: Optional[Path] = None
    last_duration: Optional[float] = None
    start: float = 0.0

    @property
    def durations_ms(self) -> List[int]:
        """Each frame's duration in milliseconds (:func:`durations_from_timestamps`)."""
        return durations_from_timestamps(self.timestamps, self.fps, self.last_duration)

    @property
    def end(self) -> float:
        """When the last frame ends, in seconds from the first frame's start."""
        return self.timestamps[-1] + _last_duration(self.fps, self.last_duration)


def durations_from_timestamps(timestamps: Sequence[float], fps: float, last: Optional[float] = None) -> List[int]:
    """Per-frame durations in milliseconds: the gaps between timestamps, the last ``last`` seconds
    (None: 1/fps), rounded as :func:`quantise_durations` rounds them (30 fps: 33, 34, 33 ms, which add up
    to the clip's length, not 33 ms each)."""
    gaps = [b - a for a, b in zip(timestamps, timestamps[1:])] + [_last_duration(fps, last)]
    return quantise_durations([1000 * gap for gap in gaps], 1)


def quantise_durations(durations_ms: Sequence[float], step_ms: int) -> List[int]:
    """Frame durations as whole multiples of a file format's time unit (1 ms; GIF: 10 ms), rounding the
    time where each frame ends rather than each duration, so the total stays within half a unit of the
    true length (a GIF of 30 fps: 30, 40, 30 ms, not 30 ms each, which plays 10% fast).

    Args:
        durations_ms: each frame's duration in milliseconds, >= 0.
        step_ms: the unit, in milliseconds, > 0.

    Returns:
        One duration per frame in milliseconds, a multiple of ``step_ms`` and at least ``step_ms`` (a
        frame shorter than half a unit gets one unit; the frames after it keep their own ends).
    """
    ends = np.round(np.cumsum(np.asarray(durations_ms, dtype=np.float64)) / step_ms)
    starts = np.concatenate([[0.0], ends[:-1]])
    return [step_ms * max(1, int(end - start)) for start, end in zip(starts, ends)]


def _last_duration(fps: float, recorded: Optional[float]) -> float:
    """The last frame's duration in seconds: as recorded, else 1/fps (0.1 s without a rate)."""
    return recorded or (1.0 / fps if fps > 0 else 0.1)


def timestamps_from_durations(durations_ms: Sequence[int]) -> List[float]:
    """Presentation times in seconds of frames lasting ``durations_ms`` (the first at 0)."""
    return [float(t) / 1000 for t in np.concatenate([[0], np.cumsum(durations_ms)[:-1]])] if len(durations_ms) else []


def read_video(path, max_frames: Optional[int] = None) -> VideoClip:
    """Decode a video's first video stream.

    Args:
        path: a video file (.mp4, .mov, .mkv, .avi, .webm or anything FFmpeg reads).
        max_frames: stop after this many frames (None: all).

    Returns:
        A :class:`VideoClip`.

    Raises:
        InputError: PyAV missing, a missing, unreadable or damaged file, no video stream, or no frames.
    """
    av = require_av(f"reading '{path}'")
    path = Path(path)
    require_file(path, f"video '{path}'", "a video file")
    frames: List[np.ndarray] = []
    times: List[float] = []
    last = None
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InputError(f"'{path}' has no video stream: pass a video")
            stream = container.streams.video[0]
            audio = codec_name(container.streams.audio[0]) if container.streams.audio else None
            rate = stream.average_rate or stream.guessed_rate
            for frame in container.decode(stream):
                frames.append(upright(frame.to_ndarray(format="rgb24"), getattr(frame, "rotation", 0)))
                times.append(float(frame.pts * frame.time_base) if frame.pts is not None else math.nan)
                last = float(frame.duration * frame.time_base) if frame.duration and frame.time_base else None
                if max_frames and len(frames) >= max_frames:
                    break
    except InputError:
        raise
    except Exception as exc:  # av.error.* for damaged or foreign files; OSError for unreadable ones
        raise InputError(f"video '{path}' cannot be read ({one_line(exc, 100, strerror=True)}): check the file") from exc
    if not frames:
        raise InputError(f"video '{path}' has no frames: pass a video with at least one frame")
    fps = float(rate) if rate else 25.0
    if any(math.isnan(t) for t in times) or any(b <= a for a, b in zip(times, times[1:])):
        times, last = [i / fps for i in range(len(frames))], None  # no usable timestamps: a constant rate
    return VideoClip(frames, [t - times[0] for t in times], fps, audio, path, last)


def check_part_of(path, start: float = 0.0, duration: Optional[float] = None, frames: Optional[int] = None) -> None:
    """InputError when a part (:func:`clip_part`) is asked of what is not a video file (an image, an animated
    image): one line naming the settings."""
    if (start, duration, frames) != (0.0, None, None) and Path(path).suffix.lower() not in VIDEO_EXTENSIONS:
        raise InputError(f"{setting('start')}, {setting('duration')} and {setting('frames')} take a part of a video "
                         f"file, not of '{Path(path).name}': leave them out")


def clip_part(clip: VideoClip, start: float = 0.0, duration: Optional[float] = None,
              frames: Optional[int] = None) -> VideoClip:
    """The frames of ``clip`` from ``start`` seconds, for ``duration`` seconds (None: to the end), at most
    ``frames`` of them (None: all), their times counted from the first; ``start`` records where it began.

    Raises:
        InputError: a part that holds no frame (it begins at or after the clip's end).
    """
    if start == 0 and duration is None and frames is None:
        return clip
    eps = 1e-6
    end = math.inf if duration is None else start + duration
    keep = [i for i, t in enumerate(clip.timestamps) if start - eps <= t < end - eps][:frames]
    if not keep:
        length = clip.timestamps[-1] + (clip.last_duration or 1 / clip.fps)
        raise InputError(f"'{clip.source}' holds no frame from {start:g} s" + (f" for {duration:g} s" if duration else "")
                         + f" (it lasts {length:.3g} s): choose an earlier {setting('start')}")
    first = clip.timestamps[keep[0]]
    last = keep[-1]
    return VideoClip([clip.frames[i] for i in keep], [clip.timestamps[i] - first for i in keep], clip.fps, clip.audio,
                     clip.source, clip.last_duration if last == len(clip.frames) - 1 else
                     clip.timestamps[last + 1] - clip.timestamps[last], first)


def upright(array: np.ndarray, rotation) -> np.ndarray:
    """A decoded frame (H, W, 3) as it is meant to be seen: turned by its display matrix's rotation
    (degrees counter-clockwise, as PyAV reads it; a phone's portrait clip is stored landscape with
    -90 or 90). The frames are read upright, so every output is written upright, without a matrix."""
    turns = int(round((rotation or 0) / 90)) % 4
    return np.ascontiguousarray(np.rot90(array, turns)) if turns else array


def check_frame_sizes(frames: Sequence[np.ndarray], path) -> None:
    """InputError when the frames of ``path`` differ in size (a stream that changes resolution): an
    output holds one size."""
    sizes = sorted({tuple(f.shape[:2]) for f in frames})
    if len(sizes) > 1:
        raise InputError(f"the frames of '{path}' differ in size ({sizes[0][1]}x{sizes[0][0]} and "
                         f"{sizes[1][1]}x{sizes[1][0]}): re-encode the clip at one size")


def write_video(path, frames: Sequence[np.ndarray], *, timestamps: Optional[Sequence[float]] = None,
                fps: float = 25.0, end: Optional[float] = None, audio_from=None, audio_start: float = 0.0) -> Path:
    """Encode (H, W, 3) uint8 frames as a video, atomically.

    Args:
        path: the output, by extension: .mp4, .mov, .mkv, .avi (H.264) or .webm (VP9), in yuv420p
            (odd widths and heights are padded by repeating the last column or row).
        frames: at least one frame, all the same size.
        timestamps: each frame's time in seconds (increasing; a variable rate is kept); None: ``fps``.
        fps: the nominal frame rate (with ``timestamps``, the rate the container announces).
        end: when the last frame ends, in seconds (after its timestamp); None: one more gap like the
            one before it (1/fps for a single frame). Written as the last packet's duration.
        audio_from: a file whose first audio track is written alongside, up to the last frame's end:
            copied as it is where the container takes its codec, else re-encoded (Opus for WebM, AAC).
        audio_start: where in ``audio_from`` the audio begins, in seconds (a part of a clip: its start).

    Raises:
        ValueError: no frames, frames of different sizes, timestamps that do not increase.
        InputError: PyAV missing; NeuralStyleError: the file could not be written.
    """
    av = require_av(f"writing '{path}'")
    path = Path(path)
    if not len(frames):
        raise ValueError("write_video needs at least one frame, got none")
    shapes = {tuple(f.shape) for f in frames}
    if len(shapes) > 1:
        raise ValueError(f"all frames must have the same size, got {sorted(shapes)[:2]}")
    times = list(timestamps) if timestamps is not None else [i / fps for i in range(len(frames))]
    if len(times) != len(frames) or any(b <= a for a, b in zip(times, times[1:])):
        raise ValueError(f"expected {len(frames)} increasing timestamps, got {times[:4]}...")
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

    def write(temporary: Path) -> None:
        with av.open(str(temporary), "w", format=_format(path)) as container:
            stream = _video_stream(container, path, frames[0].shape, fps, time_base)
            audio = (_AudioCarrier(av, container, audio_from, path.suffix.lower(), end, audio_start) if audio_from
                     else None)
            durations = {start: stop - start for start, stop in zip(ticks, ticks[1:])}
            for index, array in enumerate(frames):
                frame = av.VideoFrame.from_ndarray(_even(array), format="rgb24")
                frame.pts, frame.time_base = ticks[index], time_base
                _mux(container, stream.encode(frame), durations)
            _mux(container, stream.encode(), durations)
            if audio is not None:
                audio.copy()
    try:
        return atomic_write(path, write)
    except NeuralStyleError:
        raise
    except Exception as exc:  # av.error.* from the encoder or muxer
        raise NeuralStyleError(f"'{path}' could not be written ({one_line(exc, 100, strerror=True)})") from exc


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


def codec_name(stream) -> str:
    """A stream's codec by its canonical name (``"mp3"``), not its decoder's (``"mp3float"``): what a
    container takes is a codec, whichever decoder reads it."""
    codec = stream.codec_context.codec
    return getattr(codec, "canonical_name", None) or codec.name


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

