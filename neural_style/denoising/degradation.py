"""A degradation ``A = M . S . K`` made for one image, and the restorer's problem (:mod:`.restore_pd`).

:class:`Degradation` holds what the user said (a blur kernel, the known pixels, an enlargement
factor); :func:`check_degradation` checks it against the image (and warns of what does nothing or looks
wrong); :func:`build_problem` makes the operators (:mod:`.operators`) for an image's size, the part
of x that is the result, and the first x:

- the missing pixels filled from the known ones (:func:`fill_missing`: the mean of the known pixels
  in the smallest power-of-two block around them that has any);
- enlarged to the output size by bicubic interpolation (``F.interpolate``, ``align_corners=False``);
- extended beyond the border by the blur's margin, repeating the edge pixels.
"""

import warnings
from dataclasses import dataclass
from typing import Optional, Tuple

import torch
import torch.nn.functional as F

from ..errors import InputError, Message, setting
from ..rules import validate
from ..settings import RestoreSettings
from .kernels import check_kernel
from .operators import Blur, Chain, Downsample, Mask, use_fft
from .restore_pd import Problem


@dataclass(frozen=True)
class Degradation:
    """What happened to an image.

    Attributes:
        kernel: the blur kernel (kh, kw) float64 (odd sides, sum 1: :func:`~.kernels.check_kernel`), or None.
        known: (H, W) bool at the degraded image's size, True where the pixel is known, or None (all known).
        upscale: the enlargement factor (> 1; the output is ``round(H * upscale)`` x ``round(W * upscale)``),
            or None.
    """

    kernel: Optional[torch.Tensor] = None
    known: Optional[torch.Tensor] = None
    upscale: Optional[float] = None

    def output_shape(self, shape: Tuple[int, int]) -> Tuple[int, int]:
        """The restored image's (H, W) for a degraded image of ``shape``."""
        if self.upscale is None:
            return tuple(shape)
        return max(1, round(shape[0] * self.upscale)), max(1, round(shape[1] * self.upscale))

    @property
    def is_identity(self) -> bool:
        return self.kernel is None and self.known is None and self.upscale is None


#: A mask that marks more than this fraction of the pixels as missing is said to (scikit-image's and
#: OpenCV's masks mark the holes: one of theirs given here is mostly "missing").
MOSTLY_MISSING = 0.9
#: With more than half the pixels missing, known pixels whose standard deviation is below this in every
#: channel (on the [0, 1] scale) are said to be nearly one colour: black text saved as a JPEG at quality 90
#: kept as the known part had 9.7, 2.5 and 0.5 levels; the photos' known parts in a random mask, 30-60.
NEARLY_FLAT = 12 / 255


def check_degradation(degradation: Degradation, y: torch.Tensor) -> Degradation:
    """``degradation`` checked against ``y`` (the kernel by :func:`~.kernels.check_kernel`, the factor by its
    rule, the mask's shape); a one-pixel kernel (it blurs nothing) and a mask with nothing to fill dropped
    (each with a warning).

    Raises:
        InputError: a bad kernel, a factor that enlarges nothing, or a mask of another shape or with no
            known pixel.
    """
    kernel = None if degradation.kernel is None else check_kernel(torch.as_tensor(degradation.kernel))
    if kernel is not None and kernel.numel() == 1:
        warnings.warn(Message("the blur kernel is a single pixel: it blurs nothing and is left out (motion:LENGTH,"
                              "ANGLE and box:SIZE blur only with LENGTH or SIZE above 1)"), UserWarning,
                      stacklevel=3)
        kernel = None
    upscale = degradation.upscale
    if upscale is not None:
        validate(RestoreSettings(upscale=upscale), ["upscale"])
        if degradation.output_shape(tuple(y.shape[-2:])) == tuple(y.shape[-2:]):
            raise InputError(f"{setting('upscale')} {upscale:g} leaves a {y.shape[-1]}x{y.shape[-2]} px image at "
                             "that size: pass a larger factor")
    known = degradation.known
    degradation = Degradation(kernel, known, upscale)
    if known is None:
        return degradation
    if known.ndim != 2:
        raise InputError(f"expected an (H, W) mask, got shape {tuple(known.shape)}")
    if tuple(known.shape) != tuple(y.shape[-2:]):
        raise InputError(f"the mask is {known.shape[-1]}x{known.shape[-2]} px but the image is "
                         f"{y.shape[-1]}x{y.shape[-2]} px: pass a mask of the image's size")
    known = known.bool()
    missing = 1 - float(known.float().mean())
    if 1 > missing > MOSTLY_MISSING:
        warnings.warn(Message(f"the mask marks {missing:.0%} of the pixels as missing: white marks the known pixels "
                              "(scikit-image's and OpenCV's masks mark the holes: invert such a mask)"), UserWarning,
                      stacklevel=3)
    if not bool(known.any()):
        raise InputError("the mask marks every pixel as missing: white (or any colour but the mask colour) marks "
                         "the known pixels")
    if bool(known.all()):
        warnings.warn(Message("the mask marks no pixel to fill: nothing is filled (with "
                              f"{setting('mask_color')}, the colour must match exactly: a JPEG changes it)"),
                      UserWarning, stacklevel=3)
        return Degradation(kernel, None, upscale)
    _warn_if_flat(y, known, missing)
    return Degradation(kernel, known, upscale)


def _warn_if_flat(y: torch.Tensor, known: torch.Tensor, missing: float) -> None:
    """A warning when the known pixels of ``y`` are all one colour, or, with most pixels ``missing`` (a
    fraction), nearly (:data:`NEARLY_FLAT` in every channel): the holes are then filled with it, most likely
    from a mask whose white marks the holes (fresh users' findings: black text, and the same text as a JPEG)."""
    values = y[0][:, known]
    if values.shape[1] < 2:  # one known pixel: nothing to compare
        return
    flat = float((values.amax(1) - values.amin(1)).max()) < 0.5 / 255
    if flat or (missing > 0.5 and float(values.std(1).max()) < NEARLY_FLAT):
        warnings.warn(Message("the known pixels (the mask's white) are all about one colour, so the holes are "
                              "filled with it: is the mask inverted? (white marks the known pixels; scikit-image's "
                              "and OpenCV's masks mark the holes)"), UserWarning, stacklevel=4)


def fill_missing(y: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
    """``y`` (1, C, H, W) with each pixel where ``known`` (1, 1, H, W) is 0 set to the mean of the known
    pixels of the smallest power-of-two block around it that has one (module doc)."""
    height, width = y.shape[-2:]
    weight = known.to(y)
    filled, have = y * weight, known.bool()
    size = 1
    while not bool(have.all()) and size < 2 * max(height, width):
        size *= 2
        total = F.avg_pool2d(y * weight, size, ceil_mode=True)
        count = F.avg_pool2d(weight, size, ceil_mode=True)
        mean = F.interpolate(total / count.clamp(min=1e-12), scale_factor=size, mode="nearest")[..., :height, :width]
        found = F.interpolate((count > 0).to(y), scale_factor=size, mode="nearest")[..., :height, :width] > 0
        new = found & ~have
        filled = torch.where(new, mean, filled)
        have = have | found
    return filled


def build_problem(y: torch.Tensor, degradation: Degradation) -> Problem:
    """The :class:`~.restore_pd.Problem` of restoring ``y`` (1, C, H, W) float32 in [0, 1] (noise may
    stray outside) from ``degradation``, whose mask, when given, must be y's (H, W)."""
    shape = tuple(y.shape[-2:])
    high = degradation.output_shape(shape)
    ops, crop = [], (0, 0, *high)
    blur = None
    if degradation.kernel is not None:
        blur = Blur(degradation.kernel.to(y.device, torch.float32), high, use_fft(degradation.kernel))
        ops.append(blur)
        crop = (*blur.margin, *high)
    if degradation.upscale is not None:
        ops.append(Downsample.between(high, shape, y.device))
    known = None
    if degradation.known is not None:
        known = degradation.known.to(y.device, torch.float32)[None, None]
        ops.append(Mask(known))
    if not ops:
        ops.append(Mask(torch.ones(1, 1, *shape, device=y.device)))
    start = fill_missing(y, known) if known is not None else y
    if high != shape:
        start = F.interpolate(start, size=high, mode="bicubic", align_corners=False)
    if blur is not None:
        (top, left), (kh, kw) = blur.margin, blur.kernel.shape
        start = F.pad(start, (left, kw - 1 - left, top, kh - 1 - top), mode="replicate")
    observed = y if known is None else y * known  # a missing pixel's value is no datum: 0, as A x has there
    count = y.numel() if known is None else int(known.sum()) * y.shape[1]
    return Problem(y=observed, op=Chain(ops), start=start.clamp(0, 1).contiguous(), crop=crop, observed=count)
