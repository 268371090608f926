"""The decoded image (:class:`ImageData`) and what every decoder shares to build it: the size check
before decoding, floating-point samples, and the EXIF orientation (turned upright, tag reset)."""

import contextlib
import struct
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional, Tuple

import numpy as np
from PIL import Image

from ..errors import InputError

#: What precedes the EXIF block in JPEG's APP1 and Pillow's ``info["exif"]`` (PNG's eXIf chunk omits it).
EXIF_PREFIX = b"Exif\x00\x00"
_ORIENTATION = 0x0112
_EXIF_ERRORS = (ValueError, SyntaxError, OSError, KeyError, TypeError, struct.error)


@dataclass
class ImageData:
    """A decoded image with the metadata worth carrying to the output.

    Attributes:
        pixels: float32 array (H, W, C) in [0, 1], C == 1 (grey) or 3 (colour).
        alpha: float32 array (H, W) in [0, 1], or None.
        bit_depth: 8 or 16, the precision of the source: 16 for 16-bit PNG and grey TIFF,
            modes I;16, I and F, and uint16 arrays; 8 otherwise.
        icc_profile: the embedded ICC profile, or None.
        exif: the EXIF block with its orientation tag reset to 1, or None.
        path: the file the image came from, or None.
        full_size: (H, W) of the file when it was decoded at reduced size (``reduce_to``), else None.
        dpi: (horizontal, vertical) resolution in pixels per inch, as the file states it, or None.
    """

    pixels: np.ndarray
    alpha: Optional[np.ndarray]
    bit_depth: int
    icc_profile: Optional[bytes] = None
    exif: Optional[bytes] = None
    path: Optional[Path] = None
    full_size: Optional[Tuple[int, int]] = None
    dpi: Optional[Tuple[float, float]] = None


#: The most pixels (width * height) an image may have unless a caller gives its own limit: 2^28, a
#: 16384 x 16384 image (a 100-150 megapixel photo is read; Pillow's own bomb limit, 89 megapixels with
#: a warning and 179 with an error, gives way to this one).
MAX_PIXELS = 2**28
_PILLOW_LIMIT = threading.Lock()


@contextlib.contextmanager
def open_image(source) -> Iterator[Image.Image]:
    """``PIL.Image.open(source)`` (which reads the header only) with the project's pixel limit governing
    instead of Pillow's decompression-bomb check: no DecompressionBombWarning or DecompressionBombError;
    whoever decodes the pixels checks the size first (:func:`check_size`) and says it in the project's
    words. The image is closed at the end of the block."""
    with _PILLOW_LIMIT:
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            image = Image.open(source)
        finally:
            Image.MAX_IMAGE_PIXELS = saved
    with image:
        yield image


def peekable(path) -> bool:
    """Whether a file's header can be read before the file itself: a regular file. A pipe (``/dev/stdin``,
    ``<(...)``, a FIFO) is read once, whole, by :func:`~neural_style.io.decode.read_image`: a peek would
    consume it (the real read then finds it empty) or block on a FIFO whose writer is gone."""
    try:
        return Path(path).is_file()
    except (OSError, ValueError):
        return False


def check_size(size: Tuple[int, int], label: str, max_pixels: int) -> None:
    """InputError for an image of no pixels or of more than ``max_pixels`` (width * height)."""
    width, height = size
    if width == 0 or height == 0:
        raise InputError(f"{label} is empty ({width} x {height} pixels): use an image with pixels in it")
    if width * height > max_pixels:
        size = f"{width} x {height} = {width * height} pixels, limit {max_pixels}"
        raise InputError(f"{label} is too large ({size}): downscale it first")


def float_samples(samples: np.ndarray, label: str) -> np.ndarray:
    """Floating-point samples as float32 in [0, 1]: NaN refused, values outside clipped, and one warning
    saying so (the image counts as 16-bit: what an output can keep)."""
    if not np.isfinite(samples).all():
        raise InputError(f"{label} holds NaN or infinite samples: fix the file")
    span = f" (values {samples.min():.4g}..{samples.max():.4g} clipped)" \
        if samples.size and (samples.min() < 0 or samples.max() > 1) else ""
    warnings.warn(f"{label} has {samples.dtype.itemsize * 8}-bit float samples: read as 0..1 at 16-bit "
                  f"precision{span}", UserWarning, stacklevel=6)
    return np.clip(samples, 0, 1).astype(np.float32)


def make_image_data(samples, bit_depth, icc_profile, exif, orientation, path, dpi=None) -> ImageData:
    """The ImageData of decoded ``samples`` ((H, W) or (H, W, C), C in 1-4 (2 and 4 carry alpha), in [0, 1]):
    turned upright by the EXIF ``orientation`` (1-8), the orientation tag of ``exif`` reset to 1 (``exif``
    dropped when it cannot be read), alpha split off; the other arguments are :class:`ImageData`'s fields."""
    samples = samples[..., None] if samples.ndim == 2 else samples
    if orientation in (2, 3, 4, 5, 6, 7, 8):  # EXIF: 5-8 are transposed, then flipped as 1-4
        samples = samples.swapaxes(0, 1) if orientation >= 5 else samples
        dpi = dpi[::-1] if dpi and orientation >= 5 else dpi
        samples = samples[:, ::-1] if orientation in (2, 3, 6, 7) else samples
        samples = samples[::-1] if orientation in (3, 4, 7, 8) else samples
        exif = _reset_orientation(exif)
    samples = np.ascontiguousarray(samples, np.float32)
    alpha = samples[..., -1].copy() if samples.shape[2] in (2, 4) else None
    pixels = samples[..., :-1].copy() if alpha is not None else samples
    return ImageData(pixels, alpha, bit_depth, icc_profile, exif or None, path, dpi=dpi)


def parse_exif(exif: bytes) -> Image.Exif:
    """The tags of an EXIF block (with or without its prefix)."""
    tags = Image.Exif()
    tags.load(exif)
    return tags


def exif_orientation(get_tags: Callable[[], Image.Exif]) -> int:
    """The EXIF orientation (1-8) from the tags ``get_tags`` reads, 1 when they cannot be read."""
    try:
        return get_tags().get(_ORIENTATION, 1)
    except _EXIF_ERRORS:
        return 1


def _reset_orientation(exif: Optional[bytes]) -> Optional[bytes]:
    if not exif:
        return None
    try:
        tags = parse_exif(exif)
        tags[_ORIENTATION] = 1
        return tags.tobytes()
    except _EXIF_ERRORS:
        return None  # unreadable EXIF: drop it rather than keep a wrong orientation
