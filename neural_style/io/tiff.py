"""16-bit and floating-point TIFFs, which Pillow reads as 8 bit or refuses, read with tifffile."""

import contextlib
import io
import logging
import warnings
from pathlib import Path
from typing import Optional, Tuple

import numpy as np
import tifffile

from ..errors import InputError
from .imagedata import ImageData, check_size, float_samples, make_image_data


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


def tiff_kind(data: bytes) -> str:
    """``"uint16"`` or ``"float"`` for a TIFF whose first page tifffile reads so (Pillow reads 16-bit
    colour TIFFs as 8 bit and refuses float colour ones), else ``""`` (Pillow then reads it, or says
    what is wrong)."""
    try:
        with _quiet_tifffile(), tifffile.TiffFile(io.BytesIO(data)) as tiff:
            dtype = np.dtype(tiff.pages[0].dtype)
    except Exception:  # tifffile's many errors for damaged files: leave them to Pillow's reader
        return ""
    return "uint16" if dtype == np.uint16 else "float" if dtype.kind == "f" else ""


def read_tiff_wide(data: bytes, path: Path, label: str, max_pixels: int) -> ImageData:
    """A 16-bit or floating-point TIFF (grey, grey + alpha, RGB or RGBA) read with tifffile: 16 bits
    kept; floats read as 0..1 (see :func:`float_samples`)."""
    with _quiet_tifffile(), tifffile.TiffFile(io.BytesIO(data)) as tiff:
        page = tiff.pages[0]
        check_size((page.imagewidth, page.imagelength), label, max_pixels)
        if len(tiff.pages) > 1:
            warnings.warn(f"{label} has {len(tiff.pages)} frames: only the first is used", UserWarning, stacklevel=5)
        array = page.asarray()
        icc = page.tags.get("InterColorProfile")
        orientation = page.tags.get("Orientation")
        dpi = _tiff_dpi(page.tags)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] > 4):
        raise InputError(f"'{path}' is a {array.dtype} TIFF of shape {array.shape}: expected grey or colour "
                         "samples (H, W) or (H, W, C): convert it to PNG")
    samples = array / np.float32(65535) if array.dtype == np.uint16 else float_samples(array, label)
    icc_profile = bytes(icc.value) if icc is not None else None
    return make_image_data(samples, 16, icc_profile, None, int(orientation.value) if orientation else 1, path, dpi)


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
