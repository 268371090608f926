"""Reading video files through PyAV (the ``video`` extra), one frame at a time.

:func:`probe_video` learns a clip's timing (every frame's presentation time, from the packets,
without decoding), its size and audio track; :func:`decode_video` then yields the frames of the
clip or of a part of it (:func:`clip_part`, which seeks to the part's start), so that memory does
not grow with a clip's length. :func:`read_video` decodes a whole clip into a list.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple

import numpy as np

from ..core.files import require_file
from ..errors import InputError, one_line, setting

#: Video containers and the video codec each is written with (yuv420p).
VIDEO_CODECS = {".mp4": "libx264", ".mov": "libx264", ".mkv": "libx264", ".avi": "libx264", ".webm": "libvpx-vp9"}
VIDEO_EXTENSIONS = tuple(VIDEO_CODECS)
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
    """A video: its frames' timing, and the frames themselves once decoded (``frames`` is empty for
    a clip from :func:`probe_video`: :func:`decode_video` yields them one at a time).

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
        shape: (height, width) of the frames as they are shown (upright).
        keys: which decoded frames are the clip's, in order: their presentation times in the stream's
            time base, or their places in decoding order where the file has no usable timestamps
            (``keyed_by_pts`` False). Set by :func:`probe_video`; :func:`decode_video` reads them.
    """

    frames: List[np.ndarray]
    timestamps: List[float]
    fps: float
    audio: Optional[str] = None
    source: Optional[Path] = None
    last_duration: Optional[float] = None
    start: float = 0.0
    shape: Optional[Tuple[int, int]] = None
    keys: Optional[List[int]] = None
    keyed_by_pts: bool = False

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
    """Decode a video's first video stream, every frame into memory (:func:`probe_video` and
    :func:`decode_video` read one frame at a time).

    Args:
        path: a video file (.mp4, .mov, .mkv, .avi, .webm or anything FFmpeg reads).
        max_frames: stop after this many frames (None: all).

    Returns:
        A :class:`VideoClip`.

    Raises:
        InputError: PyAV missing, a missing, unreadable or damaged file, no video stream, or no frames.
    """
    clip = clip_part(probe_video(path), frames=max_frames)
    frames = list(decode_video(clip))
    return replace(clip, frames=frames, timestamps=clip.timestamps[:len(frames)])


def probe_video(path) -> VideoClip:
    """A video's timing, frame size and audio codec, without decoding more than its first frame: each
    frame's presentation time is read from its packet (a variable frame rate is kept; a file without
    usable times is taken at its frame rate).

    Returns:
        A :class:`VideoClip` with no ``frames``: :func:`decode_video` yields them.

    Raises:
        InputError: as :func:`read_video`.
    """
    av = require_av(f"reading '{path}'")
    path = Path(path)
    require_file(path, f"video '{path}'", "a video file")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InputError(f"'{path}' has no video stream: pass a video")
            stream = container.streams.video[0]
            audio = codec_name(container.streams.audio[0]) if container.streams.audio else None
            rate, time_base = stream.average_rate or stream.guessed_rate, stream.time_base
            packets = [(p.pts, p.duration) for p in container.demux(stream) if p.size]
        first = next(decode_video(VideoClip([], [0.0], 1.0, source=path, keys=[0])), None)
    except InputError:
        raise
    except Exception as exc:  # av.error.* for damaged or foreign files; OSError for unreadable ones
        raise InputError(f"video '{path}' cannot be read ({one_line(exc, 100, strerror=True)}): check the file") from exc
    if not packets or first is None:
        raise InputError(f"video '{path}' has no frames: pass a video with at least one frame")
    fps = float(rate) if rate else 25.0
    pts = sorted(p for p, _ in packets if p is not None)
    if len(pts) < len(packets) or len(set(pts)) < len(pts) or time_base is None:  # no usable times: one rate
        return VideoClip([], [i / fps for i in range(len(packets))], fps, audio, path, None,
                         shape=first.shape[:2], keys=list(range(len(packets))))
    last = dict(packets).get(pts[-1])
    return VideoClip([], [float((p - pts[0]) * time_base) for p in pts], fps, audio, path,
                     float(last * time_base) if last else None, shape=first.shape[:2], keys=pts, keyed_by_pts=True)


def decode_video(clip: VideoClip) -> Iterator[np.ndarray]:
    """The frames of ``clip`` (from :func:`probe_video`, or a part of it: :func:`clip_part`), decoded one
    at a time as (H, W, 3) uint8 RGB arrays, upright. A part is reached by seeking to the key frame
    before it. Stops early where the file holds fewer frames than its packets promised.

    Raises:
        InputError: a damaged file, or frames that differ in size (an output holds one size).
    """
    av = require_av(f"reading '{clip.source}'")
    wanted, found = set(clip.keys), 0
    try:
        with av.open(str(clip.source)) as container:
            stream = container.streams.video[0]
            if clip.keyed_by_pts and clip.start > 0:
                container.seek(clip.keys[0], stream=stream, backward=True)
            for index, frame in enumerate(container.decode(stream)):
                if (frame.pts if clip.keyed_by_pts else index) not in wanted:
                    continue
                array = upright(frame.to_ndarray(format="rgb24"), getattr(frame, "rotation", 0))
                if clip.shape is not None and array.shape[:2] != tuple(clip.shape):
                    raise _sizes_differ(clip.source, clip.shape, array.shape[:2])
                yield array
                found += 1
                if found == len(wanted):
                    return
    except InputError:
        raise
    except Exception as exc:  # av.error.* mid-file
        raise InputError(f"video '{clip.source}' cannot be read ({one_line(exc, 100, strerror=True)}): check the "
                         "file") from exc


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
    The first frame is the one on screen at ``start`` (it may have begun before), the last the one on
    screen just before ``start + duration``. A clip from :func:`probe_video` stays undecoded (its ``keys``
    say which frames to decode).

    Raises:
        InputError: a part that holds no frame (it begins at or after the clip's end).
    """
    if start == 0 and duration is None and frames is None:
        return clip
    eps = 1e-6
    end = math.inf if duration is None else start + duration
    ends = [*clip.timestamps[1:], clip.timestamps[-1] + (clip.last_duration or 1 / clip.fps)]
    keep = [i for i, (t, t_end) in enumerate(zip(clip.timestamps, ends)) if t_end > start + eps and t < end - eps]
    keep = keep[:frames]
    if not keep:
        length = clip.timestamps[-1] + (clip.last_duration or 1 / clip.fps)
        raise InputError(f"'{clip.source}' holds no frame from {start:g} s" + (f" for {duration:g} s" if duration else "")
                         + f" (it lasts {length:.3g} s): choose an earlier {setting('start')}")
    first, last = clip.timestamps[keep[0]], keep[-1]
    return replace(clip, frames=[clip.frames[i] for i in keep if i < len(clip.frames)],
                   timestamps=[clip.timestamps[i] - first for i in keep],
                   last_duration=clip.last_duration if last == len(clip.timestamps) - 1 else
                   clip.timestamps[last + 1] - clip.timestamps[last], start=clip.start + first,
                   keys=None if clip.keys is None else [clip.keys[i] for i in keep])


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
        raise _sizes_differ(path, *sizes[:2])


def _sizes_differ(path, *shapes: Tuple[int, int]) -> InputError:
    (h1, w1), (h2, w2) = sorted(tuple(shape) for shape in shapes)
    return InputError(f"the frames of '{path}' differ in size ({w1}x{h1} and {w2}x{h2}): re-encode the clip at one "
                      "size")


def codec_name(stream) -> str:
    """A stream's codec by its canonical name (``"mp3"``), not its decoder's (``"mp3float"``): what a
    container takes is a codec, whichever decoder reads it."""
    codec = stream.codec_context.codec
    return getattr(codec, "canonical_name", None) or codec.name

