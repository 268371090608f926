"""Image input and output: files, Pillow images and arrays to (B, C, H, W) float32 tensors
in [0, 1], resizing, and atomic writing of PNG (8 or 16 bit), JPEG, TIFF and WebP that
keeps the ICC profile and EXIF data where the format allows."""

from __future__ import annotations

import contextlib
import errno
import io
import logging
import os
import secrets
import stat
import struct
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping, Optional, Tuple

import numpy as np
import tifffile
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError

from .. import signals
from ..errors import InputError, NeuralStyleError, format_bytes
from .disk import nearest_existing

OUTPUT_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp")
#: What a folder of images contributes where any still image is read (a style folder, a dataset).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif")
_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF", ".webp": "WEBP"}
_8BIT_MODES = {"1": "L", "L": "L", "LA": "LA", "La": "LA", "PA": "RGBA", "RGBA": "RGBA", "RGBa": "RGBA"}  # else RGB
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_COLOUR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # samples per pixel -> PNG colour type
_EXIF_PREFIX = b"Exif\x00\x00"
_ORIENTATION = 0x0112
_EXIF_ERRORS = (ValueError, SyntaxError, OSError, KeyError, TypeError, struct.error)
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, struct.error, zlib.error)


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


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()).rstrip(".") or type(exc).__name__


def read_image(source, *, what: str = "image", max_pixels: int = 2**28, reduce_to: Optional[int] = None,
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
        _check_size(source.size, what, max_pixels)
        filename = getattr(source, "filename", "")
        return _from_pil(source, what, Path(filename) if filename else None)
    if isinstance(source, torch.Tensor):
        source = _tensor_to_hwc(source)
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
    try:
        with Image.open(source) as image:
            return image.mode in _GREY_MODES
    except Exception:  # unreadable here: the real read reports it
        return False


def image_shape(path) -> Optional[Tuple[int, int]]:
    """(H, W) of an image file from its header, without decoding it (as stored: before EXIF
    orientation); None when Pillow cannot open it (reading it says why)."""
    try:
        with warnings.catch_warnings():  # a size past Pillow's bomb limit: the callers judge it
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
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
    if not isinstance(source, (str, os.PathLike)):
        return 8
    try:
        with open(source, "rb") as stream:
            head = stream.read(64)
        if head.startswith(_PNG_SIGNATURE):
            return 16 if len(head) > 24 and head[24] == 16 else 8
        if head[:4] in (b"II*\0", b"MM\0*"):
            return 16 if _tiff_kind(Path(source).read_bytes()) else 8
    except OSError:
        pass
    return 8


def require_file(path: Path, label: str, kind: str = "an image file") -> None:
    """Refuse a ``path`` that does not exist or is a directory, naming it by ``label`` (e.g.
    "content image 'a.png'") and saying what to give instead (``kind``, e.g. "a video file").

    Raises:
        InputError: one line, as above.
    """
    if not path.exists():
        raise InputError(f"{label} does not exist: check the path")
    if path.is_dir():
        raise InputError(f"{label} is a directory: give the path of {kind}")


def _read_file(path: Path, what: str, max_pixels: int, reduce_to: Optional[int] = None) -> ImageData:
    label = f"{what} '{path}'"
    require_file(path, label)
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = "permission denied" if isinstance(exc, PermissionError) else exc.strerror or exc
        raise InputError(f"{label} cannot be read ({reason}): check the file and its permissions") from exc
    if not data:
        raise InputError(f"{label} is an empty (0-byte) file, not an image: check the file")
    with warnings.catch_warnings():  # max_pixels replaces Pillow's decompression bomb warning
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            if data[:4] in (b"II*\0", b"MM\0*") and _tiff_kind(data):  # Pillow would drop bits or refuse
                return _from_tiff_wide(data, path, label, max_pixels)
            image = Image.open(io.BytesIO(data))
            _check_size(image.size, label, max_pixels)
            if getattr(image, "n_frames", 1) > 1:
                warnings.warn(f"{label} has {image.n_frames} frames: only the first is used", UserWarning,
                              stacklevel=3)
            if _is_png16(data):
                return _from_png16(data, image.size, path)
            width, height = image.size
            image = _decode(image, label, reduce_to)
        except InputError:
            raise
        except UnidentifiedImageError as exc:
            raise InputError(f"{label} is not an image Pillow can read: convert it to PNG or JPEG") from exc
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise InputError(f"{label} is too large ({_one_line(exc)}): downscale it first") from exc
        except _DECODE_ERRORS as exc:
            raise InputError(f"{label} is corrupt or truncated ({_one_line(exc)}): re-export or replace it") from exc
    data = _from_pil(image, label, path)
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


def _check_size(size: Tuple[int, int], label: str, max_pixels: int) -> None:
    width, height = size
    if width == 0 or height == 0:
        raise InputError(f"{label} is empty ({width} x {height} pixels): use an image with pixels in it")
    if width * height > max_pixels:
        size = f"{width} x {height} = {width * height} pixels, limit {max_pixels}"
        raise InputError(f"{label} is too large ({size}): downscale it first")


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
    return _finish(samples, bit_depth, icc_profile, image.info.get("exif"), _orientation(image.getexif), path,
                   _pil_dpi(image))


def _wide_samples(image: Image.Image, label: str) -> np.ndarray:
    """Samples of a 16-bit, 32-bit integer or 32-bit float grey image in [0, 1]: integers over
    0..65535 (refused beyond it: 32-bit integers have no standard range), floats by
    :func:`_float_samples`."""
    samples = np.asarray(image, np.float32 if image.mode == "F" else np.float64)
    if image.mode == "F":
        return _float_samples(samples, label)
    if samples.size and (samples.min() < 0 or samples.max() > 65535):
        raise InputError(f"{label} has 32-bit integer samples ({samples.min():.0f}..{samples.max():.0f}) beyond "
                         "16 bits, which have no standard range: convert it to 16-bit PNG or TIFF")
    return (samples / 65535).astype(np.float32)


def _float_samples(samples: np.ndarray, label: str) -> np.ndarray:
    """Floating-point samples as float32 in [0, 1]: NaN refused, values outside clipped, and one warning
    saying so (the image counts as 16-bit: what an output can keep)."""
    if not np.isfinite(samples).all():
        raise InputError(f"{label} holds NaN or infinite samples: fix the file")
    span = f" (values {samples.min():.4g}..{samples.max():.4g} clipped)" \
        if samples.size and (samples.min() < 0 or samples.max() > 1) else ""
    warnings.warn(f"{label} has {samples.dtype.itemsize * 8}-bit float samples: read as 0..1 at 16-bit "
                  f"precision{span}", UserWarning, stacklevel=6)
    return np.clip(samples, 0, 1).astype(np.float32)


def _pil_dpi(image: Image.Image) -> Optional[Tuple[float, float]]:
    """The resolution Pillow read (PNG pHYs in metres, JPEG JFIF, TIFF), or None."""
    dpi = image.info.get("dpi")
    try:
        x, y = float(dpi[0]), float(dpi[1])
    except (TypeError, ValueError, IndexError):
        return None
    return (x, y) if x > 0 and y > 0 and np.isfinite([x, y]).all() else None


def _from_array(array: np.ndarray, what: str, max_pixels: int, clip: bool = True) -> ImageData:
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[2] not in (1, 2, 3, 4):
        raise InputError(f"{what} array has shape {array.shape}: expected (H, W) or (H, W, C) with C in 1, 2, 3, 4")
    _check_size((array.shape[1], array.shape[0]), what, max_pixels)
    if array.dtype in (np.uint8, np.uint16):
        maximum = np.iinfo(array.dtype).max
        return _finish(array / np.float32(maximum), 16 if maximum > 255 else 8, None, None, 1, None)
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(f"expected a uint8, uint16 or floating-point array, got {array.dtype}")
    if not np.isfinite(array).all():
        raise InputError(f"{what} contains NaN or infinite values: fix the values")
    return _finish(np.clip(array, 0, 1) if clip else array.astype(np.float32), 8, None, None, 1, None)


def _finish(samples, bit_depth, icc_profile, exif, orientation, path, dpi=None) -> ImageData:
    """Make the ImageData: turn upright, reset the EXIF orientation, split off alpha."""
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


def _parse_exif(exif: bytes) -> Image.Exif:
    tags = Image.Exif()
    tags.load(exif)
    return tags


def _orientation(get_tags: Callable[[], Image.Exif]) -> int:
    try:
        return get_tags().get(_ORIENTATION, 1)
    except _EXIF_ERRORS:
        return 1


def _reset_orientation(exif: Optional[bytes]) -> Optional[bytes]:
    if not exif:
        return None
    try:
        tags = _parse_exif(exif)
        tags[_ORIENTATION] = 1
        return tags.tobytes()
    except _EXIF_ERRORS:
        return None  # unreadable EXIF: drop it rather than keep a wrong orientation


@contextlib.contextmanager
def _quiet_tifffile():
    """tifffile logs what it finds wrong in a file: the errors raised here say it in one line."""
    logger = logging.getLogger("tifffile")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _tiff_kind(data: bytes) -> str:
    """``"uint16"`` or ``"float"`` for a TIFF whose first page tifffile reads so (Pillow reads 16-bit
    colour TIFFs as 8 bit and refuses float colour ones), else ``""`` (Pillow then reads it, or says
    what is wrong)."""
    try:
        with _quiet_tifffile(), tifffile.TiffFile(io.BytesIO(data)) as tiff:
            dtype = np.dtype(tiff.pages[0].dtype)
    except Exception:  # tifffile's many errors for damaged files: leave them to Pillow's reader
        return ""
    return "uint16" if dtype == np.uint16 else "float" if dtype.kind == "f" else ""


def _from_tiff_wide(data: bytes, path: Path, label: str, max_pixels: int) -> ImageData:
    """A 16-bit or floating-point TIFF (grey, grey + alpha, RGB or RGBA) read with tifffile: 16 bits
    kept; floats read as 0..1 (see :func:`_float_samples`)."""
    with _quiet_tifffile(), tifffile.TiffFile(io.BytesIO(data)) as tiff:
        page = tiff.pages[0]
        _check_size((page.imagewidth, page.imagelength), label, max_pixels)
        if len(tiff.pages) > 1:
            warnings.warn(f"{label} has {len(tiff.pages)} frames: only the first is used", UserWarning, stacklevel=5)
        array = page.asarray()
        icc = page.tags.get("InterColorProfile")
        orientation = page.tags.get("Orientation")
        dpi = _tiff_dpi(page.tags)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] > 4):
        raise InputError(f"'{path}' is a {array.dtype} TIFF of shape {array.shape}: expected grey or colour "
                         "samples (H, W) or (H, W, C): convert it to PNG")
    samples = array / np.float32(65535) if array.dtype == np.uint16 else _float_samples(array, label)
    icc_profile = bytes(icc.value) if icc is not None else None
    return _finish(samples, 16, icc_profile, None, int(orientation.value) if orientation else 1, path, dpi)


def _tiff_dpi(tags) -> Optional[Tuple[float, float]]:
    """X/YResolution in pixels per inch (ResolutionUnit 2: inch, 3: centimetre), or None."""
    try:
        unit = int(tags["ResolutionUnit"].value) if "ResolutionUnit" in tags else 2
        x, y = (tags[name].value for name in ("XResolution", "YResolution"))
        per_unit = (x[0] / x[1], y[0] / y[1])
    except (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError):
        return None
    scale = {2: 1.0, 3: 2.54}.get(unit)
    return (per_unit[0] * scale, per_unit[1] * scale) if scale and min(per_unit) > 0 else None


def _is_png16(data: bytes) -> bool:
    """True for non-interlaced 16-bit PNGs with colour or alpha, which Pillow reads as 8 bit."""
    return (
        len(data) > 28 and data.startswith(_PNG_SIGNATURE) and data[12:16] == b"IHDR"
        and data[24] == 16 and data[25] in (2, 4, 6) and data[28] == 0
    )


def _png_chunks(data: bytes):
    """Yield (type, payload) for each chunk of a PNG file, checking lengths and CRCs."""
    pos = len(_PNG_SIGNATURE)
    while True:
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])  # struct.error when truncated
        payload, crc = data[pos + 8:pos + 8 + length], data[pos + 8 + length:pos + 12 + length]
        if len(crc) != 4 or zlib.crc32(kind + payload) != struct.unpack(">I", crc)[0]:
            raise ValueError(f"PNG chunk {kind.decode('latin-1')} is truncated or has a bad CRC")
        yield kind, payload
        if kind == b"IEND":
            return
        pos += 12 + length


def _from_png16(data: bytes, size: Tuple[int, int], path: Path) -> ImageData:
    (width, height), channels = size, {2: 3, 4: 2, 6: 4}[data[25]]
    idat, icc_profile, exif, dpi = [], None, None, None
    for kind, payload in _png_chunks(data):
        if kind == b"IDAT":
            idat.append(payload)
        elif kind == b"iCCP":
            icc_profile = zlib.decompress(payload[payload.index(b"\0") + 2:])
        elif kind == b"eXIf":
            exif = _EXIF_PREFIX + payload
        elif kind == b"pHYs" and len(payload) == 9 and payload[8] == 1:  # pixels per metre
            x, y = struct.unpack(">II", payload[:8])
            dpi = (x * 0.0254, y * 0.0254) if x and y else None
    stride = width * channels * 2
    raw = zlib.decompress(b"".join(idat))
    if len(raw) < height * (stride + 1):
        raise ValueError("PNG image data is truncated")
    rows = np.frombuffer(raw, np.uint8, height * (stride + 1)).reshape(height, stride + 1)
    scan = _unfilter(rows[:, 1:].reshape(height, width, 2 * channels), rows[:, 0])
    samples = scan.view(">u2").reshape(height, width, channels) / np.float32(65535)
    return _finish(samples, 16, icc_profile, exif, _orientation(lambda: _parse_exif(exif)), path, dpi)


def _unfilter(scan: np.ndarray, filters: np.ndarray) -> np.ndarray:
    """Undo the PNG row filters 0-4 on scanline bytes (H, W, bytes per pixel).

    Byte (y, x) depends only on (y, x-1), (y-1, x) and (y-1, x-1), so all pixels with
    y + x == t can be reconstructed together: H + W - 1 vectorised steps.
    ``skew[t + 2, y + 1]`` holds pixel (y, t - y); the slots never written stay zero and
    stand for the pixels outside the image.
    """
    if filters.max() > 4:
        raise ValueError(f"unknown PNG filter type {filters.max()}")
    if (filters == 2).all():  # 'up' everywhere, as write_image does: a running sum down the rows
        result = scan.copy()
        for y in range(1, len(result)):
            result[y] += result[y - 1]
        return result
    height, width, bpp = scan.shape
    skew = np.zeros((height + width + 1, height + 1, bpp), np.uint8)
    ys = np.arange(height)
    for t in range(height + width - 1):
        y0, y1 = max(0, t - width + 1), min(height, t + 1)
        a = skew[t + 1, y0 + 1:y1 + 1].astype(np.int16)  # left
        b = skew[t + 1, y0:y1].astype(np.int16)  # up
        c = skew[t, y0:y1].astype(np.int16)  # up-left
        p = a + b - c
        pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
        paeth = np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))
        f = filters[y0:y1, None]
        prediction = np.select([f == 1, f == 2, f == 3, f == 4], [a, b, (a + b) >> 1, paeth], 0)
        skew[t + 2, y0 + 1:y1 + 1] = (scan[ys[y0:y1], t - ys[y0:y1]] + prediction) & 255
    return skew[ys[:, None] + np.arange(width) + 2, ys[:, None] + 1]


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _encode_png16(samples: np.ndarray, icc_profile: Optional[bytes], exif: Optional[bytes],
                  dpi: Optional[Tuple[float, float]] = None) -> bytes:
    """Encode uint16 samples (H, W, C), C in 1-4, as a 16-bit PNG with the 'up' filter."""
    height, width, channels = samples.shape
    rows = samples.astype(">u2").reshape(height, -1).view(np.uint8)
    filtered = rows.copy()
    filtered[1:] -= rows[:-1]
    raw = np.concatenate([np.full((height, 1), 2, np.uint8), filtered], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 16, _PNG_COLOUR_TYPES[channels], 0, 0, 0)
    chunks = [_png_chunk(b"IHDR", header)]
    if icc_profile:
        chunks.append(_png_chunk(b"iCCP", b"ICC Profile\0\0" + zlib.compress(icc_profile)))
    if exif:
        chunks.append(_png_chunk(b"eXIf", exif[len(_EXIF_PREFIX):]))
    if dpi:
        chunks.append(_png_chunk(b"pHYs", struct.pack(">IIB", round(dpi[0] / 0.0254), round(dpi[1] / 0.0254), 1)))
    chunks += [_png_chunk(b"IDAT", zlib.compress(raw.tobytes())), _png_chunk(b"IEND", b"")]
    return _PNG_SIGNATURE + b"".join(chunks)


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


def to_grey(image: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) in [0, 1] to its (B, 1, H, W) luminance (ITU-R 601-2, as :func:`to_tensor`)."""
    weights = torch.tensor([0.299, 0.587, 0.114], dtype=image.dtype, device=image.device).view(1, 3, 1, 1)
    return (image * weights).sum(dim=1, keepdim=True)


def _tensor_to_hwc(image: torch.Tensor) -> np.ndarray:
    if image.dim() == 4 and image.shape[0] == 1:
        image = image[0]
    if image.dim() != 3:
        raise ValueError(f"expected a tensor of shape (C, H, W) or (1, C, H, W), got {tuple(image.shape)}")
    image = image.detach().cpu()
    return (image.float() if image.is_floating_point() else image).permute(1, 2, 0).numpy()


def tensor_to_array(image: torch.Tensor) -> np.ndarray:
    """Convert a float tensor (1, C, H, W) or (C, H, W) to a float32 array (H, W, C) clamped to [0, 1]."""
    if not isinstance(image, torch.Tensor) or not image.is_floating_point():
        got = image.dtype if isinstance(image, torch.Tensor) else type(image).__name__
        raise TypeError(f"expected a floating-point torch.Tensor, got {got}")
    return np.ascontiguousarray(np.clip(_tensor_to_hwc(image), 0, 1))


def _as_hwc(image) -> np.ndarray:
    """A tensor or array image (uint8, uint16 or float) as float32 (H, W, C) in [0, 1], C in 1 or 3."""
    if isinstance(image, torch.Tensor):
        array = tensor_to_array(image)
    elif isinstance(image, np.ndarray):
        array = image[..., None] if image.ndim == 2 else image
        if array.dtype in (np.uint8, np.uint16):
            array = array / np.float32(np.iinfo(array.dtype).max)
        array = np.clip(np.asarray(array, np.float32), 0, 1)
    else:
        raise TypeError(f"expected a torch.Tensor or numpy array, got {type(image).__name__}")
    if array.ndim != 3 or array.shape[2] not in (1, 3):
        raise ValueError(f"expected an image with 1 or 3 channels as (H, W, C), got shape {array.shape}")
    return array


def _quantize(array: np.ndarray, bit_depth: int) -> np.ndarray:
    """Clamp to [0, 1] and round to unsigned integers of the bit depth."""
    return np.round(np.clip(array, 0, 1) * (2**bit_depth - 1)).astype(np.uint8 if bit_depth == 8 else np.uint16)


def to_pil(image) -> Image.Image:
    """Convert a tensor (1, C, H, W) / (C, H, W) or an array (H, W, C) / (H, W), C in 1 or 3,
    float in [0, 1] (or uint8 / uint16), to an 8-bit Pillow image of mode L or RGB."""
    array = _quantize(_as_hwc(image), 8)
    return Image.fromarray(array[..., 0] if array.shape[2] == 1 else array)


def resize_long_side(image: torch.Tensor, long_side: int) -> torch.Tensor:
    """Resize so that max(H, W) == long_side, keeping the aspect ratio (each side >= 1).

    Args:
        image: float tensor (B, C, H, W) or (C, H, W).
        long_side: the new length of the longer side, in pixels.

    Returns:
        The resized tensor clamped to [0, 1], or ``image`` itself if the size is unchanged.
    """
    return resize_to(image, long_side_shape(tuple(image.shape[-2:]), long_side))


def long_side_shape(shape: Tuple[int, int], long_side: int) -> Tuple[int, int]:
    """(H, W) of ``shape`` scaled so that its longer side is ``long_side`` (each side >= 1)."""
    if long_side < 1:
        raise InputError(f"the image size must be at least 1 pixel, got {long_side}: give a positive size")
    height, width = shape
    scale = long_side / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def resize_to(image: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
    """Resize to (H, W): antialiased bicubic when shrinking, plain bicubic when enlarging.

    Args:
        image: float tensor (B, C, H, W) or (C, H, W).
        size: the new (height, width).

    Returns:
        The resized tensor clamped to [0, 1], or ``image`` itself if the size is unchanged.
    """
    size = (int(size[0]), int(size[1]))
    if min(size) < 1:
        raise ValueError(f"expected a size of at least 1 x 1, got {size}")
    if tuple(image.shape[-2:]) == size:
        return image
    batch = image if image.dim() == 4 else image[None]
    shrink = size[0] < image.shape[-2] or size[1] < image.shape[-1]
    resized = F.interpolate(batch, size=size, mode="bicubic", align_corners=False, antialias=shrink).clamp(0, 1)
    return resized if image.dim() == 4 else resized[0]


def check_output_path(path, *, inputs: Iterable = (), extensions=OUTPUT_EXTENSIONS, what: str = "output",
                      outputs: Optional[Mapping] = None) -> Path:
    """Validate an output path before any work: InputError for a directory, an unsupported extension,
    an input, or a folder that cannot be created or written (its nearest existing ancestor is a
    file, or is not writable).

    Args:
        path: the output file.
        inputs: the input files, which must not be overwritten (items that are not paths are ignored).
        extensions: the accepted lower-case extensions (matched case-insensitively).
        what: the role of the file in error messages.
        outputs: the run's other output files, path -> role ("output", "report"): none may be ``path``.

    Returns:
        The path as a Path.
    """
    path = Path(path)
    for other, role in (outputs or {}).items():
        if _same_file(path, Path(other)):
            raise InputError(f"{what} '{path}' is also the {role}: choose another {what} path")
    if path.is_dir():
        example = path / ("output" + extensions[0])
        raise InputError(f"{what} '{path}' is a directory: give a file name such as '{example}'")
    suffix = path.suffix.lower()
    if suffix not in extensions:
        problem = f"an unsupported extension '{suffix}'" if suffix else "no extension"
        raise InputError(f"{what} '{path}' has {problem}: use one of {', '.join(extensions)}")
    for source in inputs:  # a missing input cannot be overwritten (its own error comes when it is read)
        if isinstance(source, (str, os.PathLike)) and Path(source).exists() and _same_file(path, Path(source)):
            raise InputError(f"refusing to overwrite input '{source}': choose another {what} path")
    if path.is_file() and not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise InputError(f"{what} '{path}' exists and is read-only: make it writable (chmod u+w) to replace it, "
                         "or choose another path")
    folder = nearest_existing(path.absolute().parent)
    if not folder.is_dir():
        raise InputError(f"cannot write {what} '{path}': '{folder}' is a file, not a folder: "
                         "choose another output folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"cannot write {what} '{path}': folder '{folder}' is not writable: "
                         "choose another output folder")
    return path


def _same_file(first: Path, second: Path) -> bool:
    if first.exists() and second.exists():
        return os.path.samefile(first, second)
    return first.resolve() == second.resolve()


def _create_temporary(path: Path) -> Path:
    """A new empty file ``.NAME.XXXXXXXX.ext`` beside ``path``, created with mode 0666 so that the
    kernel applies the process umask (the usual permissions of a new file; the umask itself is
    never changed, which would affect other threads)."""
    for _ in range(100):
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}{path.suffix}")
        try:
            os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return temporary
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(path.parent))


def atomic_write(path, write_fn: Callable[[Path], None]) -> Path:
    """Create or replace ``path`` atomically with a file written by ``write_fn``.

    ``write_fn`` writes a temporary file in the same directory (created if missing), which
    is flushed to disk and renamed onto ``path``. On failure the temporary file is removed
    and ``path`` is left untouched; an OSError becomes a NeuralStyleError, other
    exceptions propagate unchanged. Ctrl-C, SIGTERM and SIGHUP wait until the file is written
    (or its temporary removed): a signal between creating the temporary and cleaning it up
    would leave it behind.

    Args:
        path: the file to write.
        write_fn: called with the temporary path; must write the whole file there.

    Returns:
        ``path`` as a Path.
    """
    with signals.deferred():
        return _write_atomically(Path(path), write_fn)


def _write_atomically(path: Path, write_fn: Callable[[Path], None]) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = _create_temporary(path)
    except OSError as exc:
        folder = path.parent
        reason = f"'{folder}' is not a folder" if folder.exists() and not folder.is_dir() else exc.strerror or exc
        raise NeuralStyleError(f"could not write '{path}': {reason}: choose another output folder") from exc
    try:
        write_fn(temporary)
        with open(temporary, "rb+") as stream:
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException as exc:
        temporary.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            reason = exc.strerror or _one_line(exc)
            message = f"could not write '{path}': {reason}: check the permissions and free space"
            raise NeuralStyleError(message) from exc
        raise
    return path


def write_image(path, image, *, bit_depth: int = 8, alpha=None, icc_profile=None, exif=None, dpi=None) -> Path:
    """Write an image atomically (see atomic_write) in the format of its extension.

    PNG and TIFF hold 8 or 16 bits per sample (grey, grey + alpha, RGB, RGBA; 16-bit TIFF
    through tifffile, zlib-compressed). JPEG (quality 95) and lossy WebP (quality 95, alpha
    kept) are 8 bit; what a format cannot hold (alpha in JPEG, 16 bits in JPEG or WebP) is
    said in one warning, as is EXIF data in a 16-bit TIFF (dropped). The ICC profile is embedded in
    every format. Bad paths raise InputError as in check_output_path.

    Args:
        path: the output file; missing parent directories are created.
        image: tensor (1, C, H, W) / (C, H, W) or array (H, W, C) / (H, W), C in 1 or 3,
            in [0, 1]; values are clamped and rounded to the bit depth.
        bit_depth: 8 or 16.
        alpha: optional alpha (H, W), array or tensor, in [0, 1].
        icc_profile: ICC profile bytes to embed, or None.
        exif: EXIF bytes to embed (with or without the "Exif" prefix), or None.
        dpi: (horizontal, vertical) pixels per inch to record (PNG, JPEG, TIFF; WebP cannot hold it,
            which a warning says), or None.

    Returns:
        The path written.
    """
    if bit_depth not in (8, 16):
        raise ValueError(f"bit_depth must be 8 or 16, got {bit_depth}")
    path = check_output_path(path)
    samples = _as_hwc(image)
    if alpha is not None:
        alpha = _as_hwc(alpha)[..., :1]
        if alpha.shape[:2] != samples.shape[:2]:
            raise ValueError(f"alpha has size {alpha.shape[:2]} but the image has size {samples.shape[:2]}")
        samples = np.concatenate([samples, alpha], axis=2)
    if exif and not exif.startswith(_EXIF_PREFIX):
        exif = _EXIF_PREFIX + exif
    fmt = _FORMATS[path.suffix.lower()]
    _say_what_is_lost(path, fmt, samples.shape[2], bit_depth, exif, dpi)
    return atomic_write(path, lambda temporary: _encode(temporary, fmt, samples, bit_depth, icc_profile, exif, dpi))


def _say_what_is_lost(path: Path, fmt: str, channels: int, bit_depth: int, exif, dpi) -> None:
    """One warning line for what the output format cannot hold (alpha in JPEG, 16 bits in JPEG and WebP,
    EXIF in a 16-bit TIFF, the resolution in WebP)."""
    lost = []
    if dpi and fmt == "WEBP":
        lost.append("the resolution (DPI, dropped)")
    if exif and fmt == "TIFF" and bit_depth == 16:
        lost.append("EXIF data at 16 bits (dropped)")
    if fmt == "JPEG" and channels in (2, 4):
        lost.append("the alpha channel (dropped)")
    if bit_depth == 16 and fmt in ("JPEG", "WEBP"):
        lost.append("16 bits per sample (written with 8)")
    if lost:
        keep = ".png" if fmt == "TIFF" else ".png or .tif"
        warnings.warn(f"'{path}' cannot hold {' or '.join(lost)}: use {keep} to keep "
                      f"{'them' if len(lost) > 1 else 'it'}", UserWarning, stacklevel=3)


def _encode(temporary: Path, fmt: str, samples: np.ndarray, bit_depth: int, icc_profile, exif, dpi) -> None:
    if fmt == "JPEG" and samples.shape[2] in (2, 4):
        samples = samples[..., :-1]
    if fmt == "PNG" and bit_depth == 16:
        temporary.write_bytes(_encode_png16(_quantize(samples, 16), icc_profile, exif, dpi))
        return
    if fmt == "TIFF" and bit_depth == 16:  # Pillow writes only grey 16-bit TIFFs: tifffile for all
        array = _quantize(samples, 16)
        alpha = {2: ["unassalpha"], 4: ["unassalpha"]}.get(array.shape[2])
        tifffile.imwrite(temporary, array[..., 0] if array.shape[2] == 1 else array,
                         photometric="minisblack" if array.shape[2] <= 2 else "rgb", extrasamples=alpha,
                         iccprofile=icc_profile, compression="zlib",
                         **({"resolution": tuple(dpi), "resolutionunit": "INCH"} if dpi else {}))
        return
    array = _quantize(samples, 8)
    image = Image.fromarray(array[..., 0] if array.shape[2] == 1 else array)
    options = {"quality": 95} if fmt in ("JPEG", "WEBP") else {}
    options.update({key: value for key, value in (("icc_profile", icc_profile), ("exif", exif)) if value})
    if dpi and fmt != "WEBP":
        options["dpi"] = tuple(dpi)
    image.save(temporary, format=fmt, **options)


def atomic_torch_save(path, obj) -> Path:
    """``torch.save(obj)`` to ``path`` with :func:`atomic_write`. The object is serialised in memory
    first and the bytes written by Python, so that a full disk or a lost permission is an OSError,
    reported as one line naming ``path`` (torch's own writers, to a path or to a Python file, turn
    them into a RuntimeError from their C++ code: "enforce fail at inline_container.cc")."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return atomic_write(path, lambda temporary: Path(temporary).write_bytes(buffer.getbuffer()))
