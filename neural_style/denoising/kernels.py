"""Blur kernels (point-spread functions) for restoration: made from a spec, or checked when given.

A kernel is a (kh, kw) float64 tensor with odd sides, non-negative, summing to 1, applied as a true
convolution (``y[i] = sum_j k[j] x[i - j]``, scipy.signal.convolve2d's orientation), centred on its
middle tap.

- ``gaussian:SIGMA``: ``exp(-r^2 / (2 SIGMA^2))`` on a square of side ``2 ceil(3 SIGMA) + 1`` px.
- ``motion:LENGTH,ANGLE``: a straight line through the centre at ANGLE degrees (counter-clockwise from
  the x axis, y up as on screen) whose end points are LENGTH - 1 px apart, antialiased: sampled every
  1/10 px and each sample spread bilinearly over its four pixels (at 0 degrees: LENGTH pixels, the end
  ones at half weight).
- ``box:SIZE``: a SIZE x SIZE square of equal weights (an even SIZE gets a zero last row and column,
  so its centre is half a pixel off).
"""

import math

import torch

from ..errors import InputError

#: Samples per pixel along a motion blur's line.
MOTION_SAMPLES = 10
#: The largest kernel side accepted, in pixels.
MAX_KERNEL_SIDE = 255


def gaussian_kernel(sigma: float) -> torch.Tensor:
    """The normalised Gaussian of standard deviation ``sigma`` px (> 0), side ``2 ceil(3 sigma) + 1``."""
    r = math.ceil(3 * sigma)
    t = torch.arange(-r, r + 1, dtype=torch.float64)
    g = torch.exp(-t.square() / (2 * sigma * sigma))
    return _normalised(torch.outer(g, g))


def motion_kernel(length: float, angle: float) -> torch.Tensor:
    """A line of ``length`` px (>= 1) at ``angle`` degrees through the centre, antialiased (module doc)."""
    r = math.ceil(length / 2) + 1
    kernel = torch.zeros(2 * r + 1, 2 * r + 1, dtype=torch.float64)
    n = max(2, int(math.ceil(length * MOTION_SAMPLES)) + 1)
    t = torch.linspace(-(length - 1) / 2, (length - 1) / 2, n, dtype=torch.float64) if length > 1 \
        else torch.zeros(1, dtype=torch.float64)
    theta = math.radians(angle)
    cos, sin = round(math.cos(theta), 12), round(math.sin(theta), 12)  # 270 degrees: exactly vertical
    xs, ys = r + t * cos, r - t * sin
    x0, y0 = xs.floor(), ys.floor()
    fx, fy = xs - x0, ys - y0
    for dy, dx, w in ((0, 0, (1 - fx) * (1 - fy)), (0, 1, fx * (1 - fy)), (1, 0, (1 - fx) * fy), (1, 1, fx * fy)):
        kernel.index_put_(((y0 + dy).long(), (x0 + dx).long()), w, accumulate=True)
    return _trimmed(_normalised(kernel))


def box_kernel(size: int) -> torch.Tensor:
    """A ``size`` x ``size`` square of equal weights (an even size padded to odd: module doc)."""
    kernel = torch.ones(size, size, dtype=torch.float64)
    return check_kernel(kernel)


def kernel_from_spec(spec: str) -> torch.Tensor:
    """The kernel a ``gaussian:SIGMA``, ``motion:LENGTH,ANGLE`` or ``box:SIZE`` spec names (module doc).

    Raises:
        InputError: an unknown kind, missing or bad numbers, or a kernel over :data:`MAX_KERNEL_SIDE` px.
    """
    kind, _, args = spec.partition(":")
    try:
        values = [float(v) for v in args.split(",")] if args else []
    except ValueError as exc:
        raise InputError(f"blur '{spec}': expected numbers after '{kind}:', got '{args}'") from exc
    need = {"gaussian": 1, "motion": 2, "box": 1}.get(kind)
    if need is None:
        raise InputError(f"blur '{spec}': expected gaussian:SIGMA, motion:LENGTH,ANGLE, box:SIZE or a kernel file "
                         "(.png or .npy)")
    if len(values) != need or not all(math.isfinite(v) for v in values):
        raise InputError(f"blur '{spec}': {kind} takes {need} finite number(s), e.g. "
                         f"{ {'gaussian': 'gaussian:1.6', 'motion': 'motion:15,30', 'box': 'box:5'}[kind]}")
    first = values[0]
    largest = (MAX_KERNEL_SIDE // 2) / 3  # the side 2 ceil(3 SIGMA) + 1 within MAX_KERNEL_SIDE
    if kind == "gaussian" and not 0 < first <= largest:
        raise InputError(f"blur '{spec}': expected 0 < SIGMA <= {largest:.4g} px, got {first:g}")
    if kind == "motion" and not 1 <= first <= MAX_KERNEL_SIDE - 4:
        raise InputError(f"blur '{spec}': expected 1 <= LENGTH <= {MAX_KERNEL_SIDE - 4} px, got {first:g}")
    if kind == "box" and not (first == int(first) and 1 <= first <= MAX_KERNEL_SIDE):
        raise InputError(f"blur '{spec}': expected a whole SIZE from 1 to {MAX_KERNEL_SIDE} px, got {first:g}")
    if kind == "gaussian":
        return gaussian_kernel(first)
    if kind == "motion":
        return motion_kernel(first, values[1])
    return box_kernel(int(first))


def check_kernel(kernel: torch.Tensor, what: str = "the blur kernel") -> torch.Tensor:
    """``kernel`` (kh, kw) as a restoration kernel: float64, normalised to sum 1, sides made odd (a zero
    row or column added last), empty borders trimmed.

    Raises:
        InputError: not 2-D, empty, larger than :data:`MAX_KERNEL_SIDE`, with NaN, infinite or negative
            values, or all zero.
    """
    if kernel.ndim != 2 or kernel.numel() == 0:
        raise InputError(f"{what}: expected a 2-D kernel, got shape {tuple(kernel.shape)}")
    if max(kernel.shape) > MAX_KERNEL_SIDE:
        raise InputError(f"{what} is {kernel.shape[1]}x{kernel.shape[0]} px: at most {MAX_KERNEL_SIDE} px a side")
    kernel = kernel.to(torch.float64)
    if not bool(torch.isfinite(kernel).all()):
        raise InputError(f"{what} has NaN or infinite values: fix the kernel")
    if float(kernel.min()) < 0:
        raise InputError(f"{what} has negative values (min {float(kernel.min()):.3g}): a blur kernel is "
                         "non-negative")
    if float(kernel.sum()) <= 0:
        raise InputError(f"{what} is all zero: it blurs nothing away: pass a kernel with weight")
    kernel = _trimmed(kernel)
    kh, kw = kernel.shape
    kernel = torch.nn.functional.pad(kernel, (0, 1 - kw % 2, 0, 1 - kh % 2))
    return _normalised(kernel)


def _normalised(kernel: torch.Tensor) -> torch.Tensor:
    return kernel / kernel.sum()


def _trimmed(kernel: torch.Tensor) -> torch.Tensor:
    """Without all-zero outer rows and columns, kept centred (the same number off each side)."""
    rows = torch.nonzero(kernel.sum(1)).flatten()
    cols = torch.nonzero(kernel.sum(0)).flatten()
    kh, kw = kernel.shape
    top = min(int(rows[0]), kh - 1 - int(rows[-1])) if kh % 2 else 0
    left = min(int(cols[0]), kw - 1 - int(cols[-1])) if kw % 2 else 0
    return kernel[top:kh - top, left:kw - left]
