"""Writing images atomically in the format of their extension: PNG and TIFF at 8 or 16 bits, JPEG
and WebP at 8, with the ICC profile, EXIF and resolution where the format holds them (one warning
for what it cannot hold)."""

import shutil
import warnings
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

from ..core.tensors import as_hwc, quantize
from .atomic import atomic_write
from .imagedata import EXIF_PREFIX
from .outputs import check_output_path
from .png16 import encode_png16

_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF", ".webp": "WEBP"}


def copy_image(source, path) -> bool:
    """Write ``source``'s own bytes to ``path`` atomically (see atomic_write) when their extensions name the
    same format (:data:`_FORMATS`): an image given back unchanged is not re-encoded (a JPEG would lose a
    generation). Returns whether it did; nothing is written otherwise. Bad paths raise InputError as in
    check_output_path."""
    source, path = Path(source), Path(path)
    kind = _FORMATS.get(source.suffix.lower())
    if kind is None or kind != _FORMATS.get(path.suffix.lower()):
        return False
    atomic_write(check_output_path(path, when_writing=True), lambda temporary: shutil.copyfile(source, temporary))
    return True


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
    path = check_output_path(path, when_writing=True)
    samples = as_hwc(image)
    if alpha is not None:
        alpha = as_hwc(alpha)[..., :1]
        if alpha.shape[:2] != samples.shape[:2]:
            raise ValueError(f"alpha has size {alpha.shape[:2]} but the image has size {samples.shape[:2]}")
        samples = np.concatenate([samples, alpha], axis=2)
    if exif and not exif.startswith(EXIF_PREFIX):
        exif = EXIF_PREFIX + exif
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
        temporary.write_bytes(encode_png16(quantize(samples, 16), icc_profile, exif, dpi))
        return
    if fmt == "TIFF" and bit_depth == 16:  # Pillow writes only grey 16-bit TIFFs: tifffile for all
        array = quantize(samples, 16)
        alpha = {2: ["unassalpha"], 4: ["unassalpha"]}.get(array.shape[2])
        tifffile.imwrite(temporary, array[..., 0] if array.shape[2] == 1 else array,
                         photometric="minisblack" if array.shape[2] <= 2 else "rgb", extrasamples=alpha,
                         iccprofile=icc_profile, compression="zlib",
                         **({"resolution": tuple(dpi), "resolutionunit": "INCH"} if dpi else {}))
        return
    array = quantize(samples, 8)
    image = Image.fromarray(array[..., 0] if array.shape[2] == 1 else array)
    options = {"quality": 95} if fmt in ("JPEG", "WEBP") else {}
    options.update({key: value for key, value in (("icc_profile", icc_profile), ("exif", exif)) if value})
    if dpi and fmt != "WEBP":
        options["dpi"] = tuple(dpi)
    image.save(temporary, format=fmt, **options)
