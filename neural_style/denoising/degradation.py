"""A degradation ``A = M . S . K`` made for one image, and the restorer's problem (:mod:`.restore_pd`).

:class:`Degradation` holds what the user said (a blur kernel, the known pixels, an enlargement
factor); :func:`build_problem` makes the operators (:mod:`.operators`) for an image's size, the part
of x that is the result, and the first x:

- the missing pixels filled from the known ones (:func:`fill_missing`: the mean of the known pixels
  in the smallest power-of-two block around them that has any);
- enlarged to the output size by bicubic interpolation (``F.interpolate``, ``align_corners=False``);
- extended beyond the border by the blur's margin, repeating the edge pixels.
"""

from dataclasses import dataclass
from typing import Optional, Tuple

import torch
import torch.nn.functional as F

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
