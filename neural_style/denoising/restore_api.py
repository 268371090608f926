"""Restoration of any kind of image (:func:`restore`), and a degradation read from what a user gives
(:func:`degradation_for`): a blur spec or kernel file, a mask image or colour, an enlargement factor."""

from pathlib import Path
from typing import Optional, Tuple

import numpy as np
import torch
from PIL import Image

from ..core.files import require_exists
from ..errors import InputError, setting
from ..io.decode import read_image, to_tensor
from ..io.imagedata import ImageData
from ..settings import RestoreSettings, with_overrides
from .degradation import Degradation
from .kernels import check_kernel, kernel_from_spec
from .kinds import same_kind
from .restore import run_restore

#: Kernel files read as arrays.
ARRAY_KERNELS = (".npy",)


def read_kernel(blur) -> Optional[torch.Tensor]:
    """The blur kernel ``blur`` names: None; a spec (``"gaussian:1.6"``, :mod:`.kernels`); the path of a
    kernel image (any mode, read as grey) or .npy array; or a 2-D array or tensor. Normalised to sum 1.

    Raises:
        InputError: an unknown spec, a missing or unreadable file, or a kernel that is empty, negative,
            all zero or not 2-D (:func:`~.kernels.check_kernel`).
    """
    if blur is None:
        return None
    if isinstance(blur, (np.ndarray, torch.Tensor)):
        return check_kernel(torch.as_tensor(np.asarray(blur) if isinstance(blur, np.ndarray) else blur))
    text = str(blur)
    path = Path(text)
    if isinstance(blur, Path) or path.suffix.lower() in ARRAY_KERNELS or path.suffix and ":" not in text:
        require_exists(path, f"kernel '{path}'", "pass a kernel image (.png) or array (.npy), or a spec such as "
                                                 "gaussian:1.6")
        if path.suffix.lower() in ARRAY_KERNELS:
            try:
                array = np.load(path, allow_pickle=False)
            except (OSError, ValueError) as exc:
                raise InputError(f"kernel '{path}' is not a readable .npy array ({exc})") from exc
            return check_kernel(torch.from_numpy(np.asarray(array, dtype=np.float64)), f"kernel '{path}'")
        data = read_image(path, what="kernel image")
        grey = data.pixels.mean(axis=2) if data.pixels.ndim == 3 else data.pixels
        return check_kernel(torch.from_numpy(np.asarray(grey, dtype=np.float64)), f"kernel '{path}'")
    return kernel_from_spec(text)


def _channel(value) -> int:
    """An integer from text or a number; a fractional number raises ValueError (``int`` would truncate it)."""
    number = int(value)
    if number != float(value):
        raise ValueError(f"not an integer: {value}")
    return number


def parse_color(text) -> Tuple[int, int, int]:
    """``"R,G,B"`` or an ``(R, G, B)`` sequence (integers 0..255) as a tuple.

    Raises:
        InputError: not three integers from 0 to 255.
    """
    sequence = isinstance(text, (tuple, list))
    shown = ",".join(map(str, text)) if sequence else str(text)
    try:
        values = tuple(_channel(p) for p in (text if sequence else shown.split(",")))
    except (TypeError, ValueError):
        values = ()
    if len(values) != 3 or not all(0 <= v <= 255 for v in values):
        raise InputError(f"{setting('mask_color')} '{shown}': expected R,G,B, three integers from 0 to 255, "
                         "e.g. 255,0,0")
    return values


def read_mask(mask, shape: Tuple[int, int]) -> torch.Tensor:
    """(H, W) bool, True where known: a mask image's path, a PIL image or an array (white or True:
    known; black or False: to fill; grey values split at half)."""
    if isinstance(mask, (str, Path)):
        data = read_image(Path(mask), what="mask image")
        values = data.pixels.mean(axis=2) if data.pixels.ndim == 3 else data.pixels
    elif isinstance(mask, Image.Image):
        values = np.asarray(mask.convert("L"), dtype=np.float64) / 255
    else:
        values = np.asarray(mask.cpu() if isinstance(mask, torch.Tensor) else mask)
        values = values.astype(np.float64) / (255 if values.dtype == np.uint8 else 1)
        values = values.mean(axis=2) if values.ndim == 3 else values
    if values.ndim != 2 or tuple(values.shape) != tuple(shape):
        found = "x".join(str(n) for n in values.shape[::-1]) if values.ndim == 2 else f"shape {values.shape}"
        raise InputError(f"the mask is {found} px but the image is {shape[1]}x{shape[0]} px: pass a mask of the "
                         "image's size")
    return torch.from_numpy(values >= 0.5)


def color_mask(data: ImageData, color: Tuple[int, int, int]) -> torch.Tensor:
    """(H, W) bool, True where the pixel is not exactly ``color`` (0..255; within half a level of the
    file's bit depth; a grey image matches a grey colour only).

    Raises:
        InputError: a colour mask on a grey image for a colour that is not grey.
    """
    pixels = data.pixels if data.pixels.ndim == 3 else data.pixels[..., None]
    target = np.asarray(color, dtype=np.float64) / 255
    if pixels.shape[2] == 1:
        if len(set(color)) != 1:
            raise InputError(f"{setting('mask_color')} {','.join(map(str, color))} is a colour but the image is grey: "
                             "pass a grey colour (R = G = B)")
        target = target[:1]
    half = 0.5 / (2 ** data.bit_depth - 1)
    return torch.from_numpy(~np.all(np.abs(pixels - target) <= half, axis=2))


def degradation_for(data: ImageData, settings: RestoreSettings, blur=None, mask=None) -> Degradation:
    """The :class:`~.degradation.Degradation` of an image read as ``data``, from the settings' blur, mask,
    mask_color and upscale (``blur`` and ``mask``, when given, replace the settings' by arrays or images).

    Raises:
        InputError: a bad kernel, mask or colour (one line each), or both a mask and a mask colour.
    """
    blur = settings.blur if blur is None else blur
    mask = settings.mask if mask is None else mask
    if mask is not None and settings.mask_color is not None:
        raise InputError(f"both {setting('mask')} and {setting('mask_color')} were given: pass one")
    shape = data.pixels.shape[:2]
    known = None
    if mask is not None:
        known = read_mask(mask, shape)
    elif settings.mask_color is not None:
        known = color_mask(data, parse_color(settings.mask_color))
    return Degradation(kernel=read_kernel(blur), known=known, upscale=settings.upscale)


def restore(image, blur=None, mask=None, upscale: Optional[float] = None,
            settings: Optional[RestoreSettings] = None, **options):
    """Restore an image: deblur, fill missing pixels, enlarge, denoise; returns the same kind of image.

    Args:
        image: a path, PIL image, numpy array ((H, W) or (H, W, C); uint8, uint16 or float in [0, 1]; 2 or 4
            channels carry alpha) or tensor ((C, H, W) or (1, C, H, W) in [0, 1]).
        blur: a spec (``"gaussian:1.6"``, ``"motion:15,30"``, ``"box:5"``), a kernel file's path, or a 2-D
            kernel array or tensor (normalised to sum 1); None: no blur.
        mask: the known pixels: a mask image's path, a PIL image, or an (H, W) array or tensor (white or
            True: known); None: all known (or ``mask_color=`` ``"R,G,B"`` or ``(R, G, B)`` in ``options``).
        upscale: the enlargement factor (> 1), or None.
        settings: a :class:`~neural_style.settings.RestoreSettings`.
        **options: ``callback`` and fields of ``settings`` to change (``regularizer="tgv"``, ``sigma=5 / 255``).

    Returns:
        The same kind as ``image`` (a path gives a (1, C, H', W') tensor), ``upscale`` times larger; alpha
        is kept (enlarged bicubically with the image). Integer arrays and PIL images are clipped when
        converted back.

    Raises:
        InputError: a bad image, kernel, mask or setting (see :func:`~.restore.run_restore`).
    """
    callback = options.pop("callback", None)
    if upscale is not None:
        options["upscale"] = upscale
    s = with_overrides(settings, RestoreSettings, options)
    data = read_image(image, clip=False)
    degradation = degradation_for(data, s, blur=blur, mask=mask)
    result = run_restore(to_tensor(data, channels=None), degradation, s, callback=callback)
    return same_kind(image, data, result.image)


__all__ = ["color_mask", "degradation_for", "parse_color", "read_kernel", "read_mask", "restore"]

