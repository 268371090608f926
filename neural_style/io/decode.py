"""Reading images: files, Pillow images, arrays and tensors to :class:`~neural_style.io.imagedata.ImageData`
(float32 in [0, 1], upright, with the metadata worth keeping) and to (1, C, H, W) tensors, refusing
what cannot be read in one line, and checking the memory decoding needs before it starts."""

import contextlib
import io
import os
import struct
import warnings
import zlib
from pathlib import Path
from typing import Optional, Tuple

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ..core.files import require_file
from ..core.tensors import long_side_shape, resize_to, tensor_to_hwc
from ..errors import InputError, format_bytes, one_line
from .imagedata import (
    MAX_PIXELS,
    ImageData,
    check_size,
    exif_orientation,
    float_samples,
    make_image_data,
    open_image,
    peekable,
)
from .png16 import PNG_SIGNATURE, is_png16, read_png16
from .tiff import read_tiff_wide, tiff_kind

#: What a folder of images contributes where any still image is read (a style folder, a dataset).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif")
_8BIT_MODES = {"1": "L", "L": "L", "LA": "LA", "La": "LA", "PA": "RGBA", "RGBA": "RGBA", "RGBa": "RGBA"}  # else RGB
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, struct.error, zlib.error)


def read_image(source, *, what: str = "image", max_pixels: int = MAX_PIXELS, reduce_to: Optional[int] = None,
               clip: bool = True) -> ImageData:
    """Decode an image; InputError for a missing, unreadable, corrupt, empty or too large file.

    Args:
        source: a path; a PIL.Image.Image; an array (H, W) or (H, W, C), C in 1-4 (2 and 4
            carry alpha), uint8, uint16 or float in [0, 1]; a tensor (C, H, W) or
            (1, C, H, W) in [0, 1]; or an ImageData, returned as is.
        what: the role of the image in error messages, e.g. "content image".
        max_pixels: the largest width * height accepted, checked before decoding.
        reduce_to: the long side the caller will resize a file to: a file at least twice as large
            is decoded at reduced size (JPEG's DCT scaling via ``Image.draft``, else ``Image.reduce``
            by a whole factor), never below ``reduce_to``. Without it, the memory the decoded
            pixels need is checked against the free memory before decoding.
        clip: clip a float array or tensor to [0, 1] (True), or keep its values as given (False:
            noisy data straying outside [0, 1], for denoising).

    Returns:
        The ImageData, turned upright according to its EXIF orientation.
    """
    if isinstance(source, ImageData):
        return source
    if isinstance(source, (str, os.PathLike)):
        with _naming_file(f"{what} '{source}'"):
            return _read_file(Path(source), what, max_pixels, reduce_to)
    if isinstance(source, Image.Image):
        check_size(source.size, what, max_pixels)
        filename = getattr(source, "filename", "")
        return _from_pil(source, what, Path(filename) if filename else None)
    if isinstance(source, torch.Tensor):
        source = tensor_to_hwc(source)
    if isinstance(source, np.ndarray):
        return _from_array(source, what, max_pixels, clip)
    raise TypeError(f"expected a path, PIL image, numpy array or tensor, got {type(source).__name__}")


@contextlib.contextmanager
def _naming_file(label: str):
    """Warnings raised while reading a file (Pillow's "Corrupt EXIF data", ...) re-raised naming it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for warning in caught:
        text = str(warning.message)
        warnings.warn(text if label in text else f"{label}: {text}", warning.category, stacklevel=4)


_GREY_MODES = ("1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F")


def is_grey(source) -> bool:
    """Whether an image (anything :func:`read_image` takes) has a single colour channel, judged from
    a file's header without decoding it; False for what cannot be read (reading it says why)."""
    if isinstance(source, ImageData):
        return source.pixels.shape[2] == 1
    if isinstance(source, Image.Image):
        return source.mode in _GREY_MODES
    if isinstance(source, torch.Tensor):
        return source.dim() in (3, 4) and source.shape[-3] in (1, 2)
    if isinstance(source, np.ndarray):
        return source.ndim == 2 or (source.ndim == 3 and source.shape[2] in (1, 2))
    if not peekable(source):
        return False
    try:
        with open_image(source) as image:
            return image.mode in _GREY_MODES
    except Exception:  # unreadable here: the real read reports it
        return False


def image_shape(path) -> Optional[Tuple[int, int]]:
    """(H, W) of an image file from its header, without decoding it (as stored: before EXIF
    orientation); None when Pillow cannot open it (reading it says why) or it is a pipe (read once, later)."""
    if not peekable(path):
        return None
    try:
        with open_image(path) as image:  # a size past Pillow's bomb limit: the callers judge it
            width, height = image.size
    except Exception:  # unreadable here: the real read reports it
        return None
    return height, width


def source_bit_depth(source) -> int:
    """16 for a 16-bit source (PNG or TIFF file judged from its header, ImageData, uint16 array), else 8."""
    if isinstance(source, ImageData):
        return source.bit_depth
    if isinstance(source, np.ndarray):
        return 16 if source.dtype == np.uint16 else 8
    if isinstance(source, Image.Image):
        return 16 if source.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F") else 8
    if not isinstance(source, (str, os.PathLike)) or not peekable(source):
        return 8  # a pipe: its ImageData, once read, knows
    try:
        with open(source, "rb") as stream:
            head = stream.read(64)
        if head.startswith(PNG_SIGNATURE):
            return 16 if len(head) > 24 and head[24] == 16 else 8
        if head[:4] in (b"II*\0", b"MM\0*"):
            return 16 if tiff_kind(Path(source).read_bytes()) else 8
    except OSError:
        pass
    return 8


def _read_file(path: Path, what: str, max_pixels: int, reduce_to: Optional[int] = None) -> ImageData:
    label = f"{what} '{path}'"
    require_file(path, label)
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = "permission denied" if isinstance(exc, PermissionError) else one_line(exc, strerror=True)
        raise InputError(f"{label} cannot be read ({reason}): check the file and its permissions") from exc
    if not data:
        raise InputError(f"{label} is an empty (0-byte) file, not an image: check the file")
    with contextlib.ExitStack() as held:  # max_pixels replaces Pillow's decompression bomb check
        try:
            if data[:4] in (b"II*\0", b"MM\0*") and tiff_kind(data):  # Pillow would drop bits or refuse
                return read_tiff_wide(data, path, label, max_pixels)
            image = held.enter_context(open_image(io.BytesIO(data)))
            check_size(image.size, label, max_pixels)
            if getattr(image, "n_frames", 1) > 1:
                warnings.warn(f"{label} has {image.n_frames} frames: only the first is used", UserWarning,
                              stacklevel=3)
            if is_png16(data):
                return read_png16(data, image.size, path)
            width, height = image.size
            image = _decode(image, label, reduce_to)
            data = _from_pil(image, label, path)  # before the file is closed
        except InputError:
            raise
        except UnidentifiedImageError as exc:
            raise InputError(f"{label} is not an image Pillow can read: convert it to PNG or JPEG") from exc
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise InputError(f"{label} is too large ({one_line(exc, whole=True)}): downscale it first") from exc
        except _DECODE_ERRORS as exc:
            reason = one_line(exc, whole=True)
            raise InputError(f"{label} is corrupt or truncated ({reason}): re-export or replace it") from exc
    if image.size != (width, height):  # decoded at reduced size: remember the file's own (turned upright)
        upright = data.pixels.shape[0] == image.size[1]
        data.full_size = (height, width) if upright else (width, height)
    return data


#: Bytes per pixel and channel assumed held at the peak of decoding (an estimate, not measured: the
#: decoded 8-bit pixels, their float32 copy and one more float32 array for conversion or resizing).
DECODE_BYTES = 12


def _decode(image: Image.Image, label: str, reduce_to: Optional[int]) -> Image.Image:
    """Load ``image``: at reduced size when ``reduce_to`` allows it, else after a memory check."""
    width, height = image.size
    factor = max(width, height) // reduce_to if reduce_to else 1
    if factor >= 2 and image.format == "JPEG":
        image.draft(image.mode, (-(-width // factor), -(-height // factor)))  # DCT scaling: 1/2, 1/4, 1/8
    if factor < 2:
        from ..core.device import available_memory  # looked up at call time (tests replace it)

        need = width * height * max(len(image.getbands()), 3) * DECODE_BYTES
        have = available_memory(torch.device("cpu"))
        if need > have:
            raise InputError(f"{label} is {width}x{height} px: decoding it needs about {format_bytes(need)} but "
                             f"{format_bytes(have)} are free: downscale it first")
    image.load()
    factor = max(image.size) // reduce_to if reduce_to else 1
    if factor >= 2:
        try:
            image = image.reduce(factor)  # box filter, on the 8-bit pixels
        except ValueError:  # a mode reduce() does not take: keep the full size
            pass
    return image


def _from_pil(image: Image.Image, label: str, path: Optional[Path]) -> ImageData:
    mode, bit_depth = image.mode, 8
    icc_profile = image.info.get("icc_profile") or None
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        samples, bit_depth = _wide_samples(image, label), 16
    else:
        target = _8BIT_MODES.get(mode, "RGB")  # RGB, RGBX, CMYK, YCbCr...
        if mode == "P" and ("transparency" in image.info or image.palette.mode == "RGBA"):
            target = "RGBA"
        try:
            samples = np.asarray(image if mode == target else image.convert(target), np.float32) / 255
        except ValueError as exc:
            raise InputError(f"{label} has the unsupported colour mode {mode}: convert it to RGB") from exc
        if mode == "CMYK":
            icc_profile = None  # a CMYK profile does not describe the converted RGB pixels
            warnings.warn(f"{label} is CMYK: it is read as RGB (Pillow's conversion, without its colour profile), "
                          "so the output is RGB", UserWarning, stacklevel=4)
    return make_image_data(samples, bit_depth, icc_profile, image.info.get("exif"), exif_orientation(image.getexif), path,
                   _pil_dpi(image))


def _wide_samples(image: Image.Image, label: str) -> np.ndarray:
    """Samples of a 16-bit, 32-bit integer or 32-bit float grey image in [0, 1]: integers over
    0..65535 (refused beyond it: 32-bit integers have no standard range), floats by
    :func:`float_samples`."""
    samples = np.asarray(image, np.float32 if image.mode == "F" else np.float64)
    if image.mode == "F":
        return float_samples(samples, label)
    if samples.size and (samples.min() < 0 or samples.max() > 65535):
        raise InputError(f"{label} has 32-bit integer samples ({samples.min():.0f}..{samples.max():.0f}) beyond "
                         "16 bits, which have no standard range: convert it to 16-bit PNG or TIFF")
    return (samples / 65535).astype(np.float32)


def _pil_dpi(image: Image.Image) -> Optional[Tuple[float, float]]:
    """The resolution Pillow read (PNG pHYs in metres, JPEG JFIF, TIFF), or None."""
    dpi = image.info.get("dpi")
    try:
        x, y = float(dpi[0]), float(dpi[1])
    except (TypeError, ValueError, IndexError):
        return None
    return (x, y) if x > 0 and y > 0 and np.isfinite([x, y]).all() else None


#: Float data may stray this far outside [0, 1] (noise of sigma up to ~255/255 does) and still be read as
#: on the [0, 1] scale; a wider spread is data on another scale (0..255), refused by every entry alike
#: rather than clipped to white or denoised with a lambda meant for [0, 1].
RANGE_MARGIN = 4.0


def check_value_scale(low: float, high: float, what: str = "image") -> None:
    """Refuse float values whose span ``[low, high]`` is not the [0, 1] scale (give or take
    :data:`RANGE_MARGIN`): InputError in one line, with what to pass instead."""
    if low < -RANGE_MARGIN or high > 1 + RANGE_MARGIN:
        raise InputError(f"{what}'s values span [{low:.4g}, {high:.4g}]: expected floats on the [0, 1] scale: divide "
                         "0..255 data by 255, or pass uint8/uint16 arrays")


def _from_array(array: np.ndarray, what: str, max_pixels: int, clip: bool = True) -> ImageData:
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[2] not in (1, 2, 3, 4):
        raise InputError(f"{what} array has shape {array.shape}: expected (H, W) or (H, W, C) with C in 1, 2, 3, 4")
    check_size((array.shape[1], array.shape[0]), what, max_pixels)
    if array.dtype in (np.uint8, np.uint16):
        maximum = np.iinfo(array.dtype).max
        return make_image_data(array / np.float32(maximum), 16 if maximum > 255 else 8, None, None, 1, None)
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(f"expected a uint8, uint16 or floating-point array, got {array.dtype}")
    if not np.isfinite(array).all():
        raise InputError(f"{what} contains NaN or infinite values: fix the values")
    if array.size:
        check_value_scale(float(array.min()), float(array.max()), what)
    return make_image_data(np.clip(array, 0, 1) if clip else array.astype(np.float32), 8, None, None, 1, None)


def to_tensor(source, *, channels: Optional[int] = 3, what: str = "image", device=None,
              reduce_to: Optional[int] = None) -> torch.Tensor:
    """Load an image as a (1, C, H, W) float32 tensor in [0, 1], dropping any alpha.

    Args:
        source: anything read_image accepts, or an ImageData.
        channels: 3 replicates grey to RGB; 1 turns colour into luminance
            (ITU-R 601-2: 0.299 R + 0.587 G + 0.114 B); None keeps the channels.
        what: the role of the image in error messages.
        device: the torch device of the result (default: CPU).
        reduce_to: as for :func:`read_image`; a file decoded at reduced size comes back with its long
            side exactly ``reduce_to`` and the file's aspect (as resizing the full image would give).

    Returns:
        The image tensor.
    """
    if channels not in (1, 3, None):
        raise ValueError(f"channels must be 1, 3 or None, got {channels}")
    data = read_image(source, what=what, reduce_to=reduce_to)
    pixels = data.pixels
    if channels == 3 and pixels.shape[2] == 1:
        pixels = np.repeat(pixels, 3, axis=2)
    elif channels == 1 and pixels.shape[2] == 3:
        pixels = pixels @ np.array([0.299, 0.587, 0.114], np.float32)[:, None]
    tensor = torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1)))[None]
    if data.full_size is not None:  # reduced decoding: exactly the file's aspect at reduce_to
        tensor = resize_to(tensor, long_side_shape(data.full_size, reduce_to))
    return tensor if device is None else tensor.to(device)
