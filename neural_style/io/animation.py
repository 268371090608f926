"""Animations: of intermediate results, and of animated inputs, written as GIF, animated WebP or APNG
(Pillow) or a video (PyAV, :mod:`.video`); frames of animated images read back; the pages of multi-page TIFFs
read and written with their bit depth (tifffile)."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import tifffile
import torch
from PIL import Image, ImageSequence

from ..core.tensors import quantize, to_pil
from ..errors import InputError, one_line
from .atomic import atomic_write
from .imagedata import MAX_PIXELS, check_size, open_image, peekable
from .outputs import check_output_path
from .video import VIDEO_CODECS, VideoClip, quantise_durations, require_av, timestamps_from_durations, write_video

ANIMATION_EXTENSIONS = (".gif", ".webp", ".png") + tuple(VIDEO_CODECS)

Frame = Union[np.ndarray, torch.Tensor]


def check_animation_path(path, *, inputs: Iterable = (), outputs: Optional[Mapping] = None,
                         what: str = "animation", when_writing: bool = False) -> Path:
    """Validate an animation output path before any work is done.

    Args:
        path: the output file, ending in .gif, .webp (animated WebP), .png (APNG) or a video container
            (.mp4, .mov, .mkv, .avi: H.264; .webm: VP9).
        inputs: paths of input files, which must not be overwritten.
        outputs: the run's other output files, path -> role, none of which may be ``path``.
        what: the file's role in messages.
        when_writing: as for :func:`~neural_style.io.outputs.check_output_path`.

    Returns:
        The path as a Path.

    Raises:
        InputError: another extension, an input or directory as output, or a video without PyAV.
    """
    path = check_output_path(path, inputs=inputs, extensions=ANIMATION_EXTENSIONS, what=what,
                             outputs=outputs, when_writing=when_writing)
    if path.suffix.lower() in VIDEO_CODECS:
        require_av(f"writing '{path}'")
    return path


@dataclass(frozen=True)
class Timing:
    """How an animated image plays: each frame's duration in milliseconds, and its loop count (0: forever;
    N: N more times after the first, as GIF's NETSCAPE extension counts; None: once, the file has no
    loop setting)."""

    durations: Tuple[int, ...]
    loop: Optional[int] = 0
    #: exact presentation times in seconds, where the source is a video (durations round to ms)
    timestamps: Optional[Tuple[float, ...]] = None

    @property
    def times(self) -> List[float]:
        """Each frame's start in seconds: the exact ``timestamps``, else summed from the durations."""
        return list(self.timestamps) if self.timestamps is not None else timestamps_from_durations(self.durations)

    @property
    def frame_rate(self) -> float:
        """Frames per second over the clip's length."""
        return 1000 * len(self.durations) / sum(self.durations)

    @property
    def end(self) -> float:
        """When the last frame ends, in seconds."""
        return self.times[-1] + self.durations[-1] / 1000

    def head(self, count: int) -> "Timing":
        """The timing of the first ``count`` frames."""
        stamps = self.timestamps[:count] if self.timestamps is not None else None
        return Timing(self.durations[:count], self.loop, stamps)


def write_animation(path, frames: Iterable[Frame], *, fps: float = 10.0, timing: Optional[Timing] = None,
                    audio_from=None, audio_start: float = 0.0) -> Path:
    """Write frames as a GIF, animated WebP, APNG or video, atomically.

    Videos are encoded in yuv420p (H.264, VP9 for .webm), which needs even sizes: odd widths and
    heights are padded by repeating the last column or row.

    Args:
        path: the output file (see :func:`check_animation_path`).
        frames: tensors (1, 3, H, W) / (3, H, W) in [0, 1] or uint8 arrays (H, W, 3), all the same size:
            a sequence, or an iterator that makes them as they are written (with ``timing``): each frame is
            then encoded as it comes (a video holds one at a time; Pillow's writers keep every frame: GIF
            as palette images, a third of RGB), Ctrl-C stops at once, and nothing is written. An iterator that
            ends early gives the frames it made.
        fps: frames per second (ignored where ``timing`` is given).
        timing: per-frame durations and loop count, as :func:`read_frames` gives them (GIF, WebP,
            APNG; a video keeps the durations as timestamps): an animation keeps its timing.
        audio_start: where in ``audio_from`` the audio begins, in seconds.
        audio_from: for a video output, a file whose audio track is written alongside
            (:func:`~neural_style.io.video.write_video`).

    Returns:
        The path written.

    Raises:
        ValueError: no frames, frames of different sizes, fps <= 0, or an iterator without ``timing``.
        InputError: see check_animation_path.
        NeuralStyleError: the file could not be written.
    """
    path = check_animation_path(path, when_writing=True)
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    streaming = not hasattr(frames, "__len__")  # a list, array or tensor of frames, else an iterator
    if streaming and timing is None:
        raise ValueError("write_animation needs the timing of frames given as an iterator")
    if not streaming and not len(frames):
        raise ValueError("write_animation needs at least one frame, got none")
    if timing is None:
        timing = Timing(tuple([max(1, round(1000 / fps))] * len(frames)), 0)
    if not streaming and len(timing.durations) != len(frames):
        raise ValueError(f"timing has {len(timing.durations)} durations for {len(frames)} frames")
    arrays = _same_size(np.asarray(to_pil(frame).convert("RGB")) for frame in frames)
    extension = path.suffix.lower()
    if extension in (".gif", ".webp", ".png"):  # GIF, animated WebP and APNG, through Pillow
        return atomic_write(path, lambda temporary: _save_all(temporary, arrays, timing, extension),
                            interruptible=streaming)
    return write_video(path, arrays if streaming else list(arrays), timestamps=timing.times, fps=timing.frame_rate,
                       end=timing.end, audio_from=audio_from, audio_start=audio_start)


#: Bytes per pixel per frame that Pillow's writers hold until an animation is written: GIF palette
#: frames, WebP and APNG RGB images (APNG's RGBA working copies included).
_HELD_BYTES_PER_PIXEL = {".gif": 1, ".webp": 3, ".png": 4}


def held_bytes(path, frames: int, shape: Tuple[int, int]) -> int:
    """Memory, in bytes, that writing ``frames`` frames of ``shape`` (height, width) to ``path`` holds at
    once: every frame for a GIF, WebP or APNG (Pillow's writers keep them), none for a video, which
    is encoded a frame at a time."""
    return frames * shape[0] * shape[1] * _HELD_BYTES_PER_PIXEL.get(Path(path).suffix.lower(), 0)


def _same_size(arrays: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    """``arrays`` as they come, ValueError at the first of another size than the first's."""
    first = None
    for index, array in enumerate(arrays):
        first = array.shape if first is None else first
        if array.shape != first:
            raise ValueError(f"all frames must have the same size: frame 0 is {first[:2]}, frame {index} is "
                             f"{array.shape[:2]}")
        yield array


def _save_all(path, arrays: Iterator[np.ndarray], timing: Timing, extension: str) -> None:
    """Frames as a GIF, an animated WebP (lossy, quality 95) or an APNG with ``timing``'s durations (a
    GIF's in its 10 ms unit, :func:`~neural_style.io.video.quantise_durations`) and loop count; written with
    Pillow in one call (which pulls the frames as it goes), so a failure leaves no writer behind to fail
    again."""
    first = next(arrays, None)
    if first is None:
        raise ValueError("write_animation needs at least one frame, got none")
    options = {"quality": 95} if extension == ".webp" else {}
    if extension != ".gif":  # WebP and APNG count every play (0: forever); one play is 1
        options["loop"] = 1 if timing.loop is None else timing.loop + 1 if timing.loop else 0
    elif timing.loop is not None:  # None: no loop setting (a GIF without NETSCAPE extension plays once)
        options["loop"] = timing.loop
    # GIF counts in 10 ms (Pillow truncates): round where each frame ends, so the total keeps the length
    durations = quantise_durations(timing.durations, 10) if extension == ".gif" else list(timing.durations)
    fmt = {".gif": "GIF", ".webp": "WEBP", ".png": "PNG"}[extension]
    rest = map(Image.fromarray, arrays)  # Pillow's GIF writer pulls them; its WebP and APNG writers need a list
    Image.fromarray(first).save(path, format=fmt, save_all=True, append_images=rest if fmt == "GIF" else list(rest),
                                duration=durations, **options)


def read_frames(path) -> Tuple[List[np.ndarray], Timing]:
    """All frames of an animated image (GIF, WebP, APNG, multi-page TIFF) as writable (H, W, 3) uint8
    arrays, and its :class:`Timing` (a frame without a duration gets 100 ms), in one pass.
    :func:`animation_timing` and :func:`iter_frames` read the same without keeping every frame.

    Raises:
        InputError: a damaged or unreadable file (one line naming it), or frames that differ in size.
    """
    return _scan(path, keep=True)


def animation_timing(path) -> Timing:
    """The :class:`Timing` of an animated image, read frame by frame without keeping any.

    Raises:
        InputError: as :func:`read_frames`, or frames that differ in size (the pages of a TIFF may: an
            animation holds one size).
    """
    return _scan(path, keep=False)[1]


def _scan(path, keep: bool) -> Tuple[List[np.ndarray], Timing]:
    """One pass over an animated image: its frames (when ``keep``) and its timing."""
    frames, durations, sizes = [], [], []
    with _reading(path) as image:
        loop = _loop_from(image.format, image.info.get("loop"))
        for frame in ImageSequence.Iterator(image):
            if keep:
                frames.append(np.array(frame.convert("RGB")))
            elif image.format == "WEBP":  # Pillow's WebP reader has a frame's duration once it is decoded
                frame.load()
            durations.append(int(frame.info.get("duration") or 100))
            sizes.append(frame.size)
    if len(set(sizes)) > 1:
        (w1, h1), (w2, h2) = sorted(set(sizes))[:2]
        raise InputError(f"the {len(sizes)} frames of '{path}' differ in size ({w1}x{h1} and {w2}x{h2}), which an "
                         "animation cannot hold: write them to a .tif (one page each), or to a still format for the "
                         "first")
    return frames, Timing(tuple(durations), loop)


def iter_frames(path) -> Iterator[np.ndarray]:
    """The frames of an animated image as writable (H, W, 3) uint8 arrays, decoded one at a time.

    Raises:
        InputError: as :func:`read_frames`.
    """
    with _reading(path) as image:
        for frame in ImageSequence.Iterator(image):
            yield np.array(frame.convert("RGB"))


@contextmanager
def _reading(path):
    """The open image of ``path``, its size checked before any frame is decoded; Pillow's errors for a
    damaged file (also while its frames are read) one line naming it."""
    try:
        with open_image(path) as image:
            check_size(image.size, f"animation '{path}'", MAX_PIXELS)
            yield image
    except (OSError, ValueError, SyntaxError, EOFError) as exc:  # what Pillow raises for damaged files
        raise InputError(f"animation '{path}' cannot be read ({one_line(exc, 80)}): check the file") \
            from exc


def video_timing(clip: VideoClip) -> Timing:
    """A video's :class:`Timing`: its frame durations and exact timestamps, played once through (loop 0
    for an animated image made of it)."""
    return Timing(tuple(clip.durations_ms), 0, tuple(clip.timestamps))


def _loop_from(fmt: Optional[str], loop) -> Optional[int]:
    """A file's loop setting as :class:`Timing` counts it (GIF's NETSCAPE count): WebP and APNG store the
    number of plays (0: forever), so one play is None and N plays N - 1 repeats."""
    if fmt == "GIF" or loop is None:
        return loop
    return 0 if loop == 0 else None if loop == 1 else int(loop) - 1


def frame_count(path) -> int:
    """How many frames an image file holds (1 for still images, what Pillow cannot open, and a pipe, which is
    read once, whole, later)."""
    if not peekable(path):
        return 1
    try:
        with open_image(path) as image:
            return int(getattr(image, "n_frames", 1))
    except Exception:  # not an image Pillow reads: reading it reports why
        return 1


TIFF_EXTENSIONS = (".tif", ".tiff")


def read_pages(path) -> Tuple[List[np.ndarray], int]:
    """Every page of a multi-page image as float32 (H, W, 3) arrays in [0, 1] (grey pages repeated to
    3 channels, alpha dropped), and the bit depth to write them back with (16 when a TIFF's pages are
    16-bit, else 8). TIFFs are read with tifffile (16 bits kept), other formats with Pillow.

    Raises:
        InputError: an unreadable file, or TIFF pages that are not 8- or 16-bit grey or colour.
    """
    path = Path(path)
    if path.suffix.lower() not in TIFF_EXTENSIONS:
        frames, _ = read_frames(path)
        return [frame.astype(np.float32) / 255 for frame in frames], 8
    try:
        with tifffile.TiffFile(path) as tiff:
            arrays = [page.asarray() for page in tiff.pages]
    except Exception as exc:  # tifffile's many errors for damaged files
        raise InputError(f"TIFF '{path}' cannot be read ({one_line(exc, 80)}): check the file") from exc
    pages = []
    for index, array in enumerate(arrays):
        array = array[..., None] if array.ndim == 2 else array
        if array.dtype not in (np.uint8, np.uint16) or array.ndim != 3 or array.shape[2] not in (1, 2, 3, 4):
            raise InputError(f"page {index} of '{path}' is {array.dtype} of shape {array.shape}: expected 8- or "
                             "16-bit grey or colour pages: convert them")
        colour = array[..., :3] if array.shape[2] >= 3 else np.repeat(array[..., :1], 3, axis=2)
        pages.append(colour.astype(np.float32) / np.iinfo(array.dtype).max)
    return pages, 16 if any(a.dtype == np.uint16 for a in arrays) else 8


def write_pages(path, pages: Sequence[np.ndarray], bit_depth: int = 8) -> Path:
    """Write (H, W, 3) float pages in [0, 1] (each its own size) as a multi-page TIFF, zlib-compressed,
    at ``bit_depth`` 8 or 16, atomically."""
    path = check_output_path(path, extensions=TIFF_EXTENSIONS, when_writing=True)
    arrays = [quantize(page, bit_depth) for page in pages]

    def write(temporary: Path) -> None:
        with tifffile.TiffWriter(temporary) as tiff:
            for array in arrays:
                tiff.write(array, photometric="rgb", compression="zlib")
    return atomic_write(path, write)
