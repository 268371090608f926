"""The data a denoiser is given: its scale checked, and its noise level (given, or estimated)."""

import math
from typing import Tuple, Union

import torch

from ..core.metrics import estimate_sigma
from ..errors import InputError, setting
from ..io.decode import check_value_scale


def check_range(y: torch.Tensor) -> None:
    """Refuse an empty image, NaN or infinite values, and data on another scale than [0, 1].

    Args:
        y: (1, C, H, W) float.

    Raises:
        InputError: one line saying which, and what to pass instead.
    """
    if y.numel() == 0:
        raise InputError(f"the image is empty ({y.shape[-1]}x{y.shape[-2]} px): pass an image")
    low, high = float(y.min()), float(y.max())
    if not (math.isfinite(low) and math.isfinite(high)):
        raise InputError("the image contains NaN or infinite values: fix the values")
    check_value_scale(low, high, "the image")  # the rule every entry applies to float data


def noise_sigma(sigma: Union[str, float], y: torch.Tensor) -> Tuple[float, bool]:
    """(sigma, estimated): ``"auto"`` estimates it from ``y`` (:func:`~neural_style.core.metrics.estimate_sigma`,
    or along pixel lines for an image under 3 px on a side); a number (checked by the settings' rule) is kept.

    Args:
        sigma: the noise standard deviation on the [0, 1] scale, or ``"auto"``.
        y: the noisy image, (1, C, H, W) float on the [0, 1] scale.

    Raises:
        InputError: ``"auto"`` for an image of at most 2 px on each side.
    """
    if isinstance(sigma, str):  # "auto" (validate() refused other words)
        if min(y.shape[-2:]) < 3:
            return _strip_sigma(y), True
        return float(estimate_sigma(y)[0]), True
    return sigma, False


def _strip_sigma(y: torch.Tensor) -> float:
    """Noise sigma of an image under 3 px on a side, from differences along its pixel lines: Immerkaer's
    estimator in one dimension, the residual of (1, -2, 1) ~ N(0, 6 sigma^2), along lines of 3 px or more;

    Raises:
        InputError: an image of at most 2 px on each side (1x1, 2x2, 1x2, 2x1): its few differences are
        the image as much as the noise (with a given sigma they denoise).
    """
    axis = -1 if y.shape[-1] >= y.shape[-2] else -2
    n = y.shape[axis]
    if n >= 3:
        residual = y.narrow(axis, 0, n - 2) - 2 * y.narrow(axis, 1, n - 2) + y.narrow(axis, 2, n - 2)
        return float(math.sqrt(math.pi / 2) * residual.abs().mean() / math.sqrt(6))
    raise InputError(f"the image is {y.shape[-1]}x{y.shape[-2]} px: too few pixels to estimate the noise: "
                     f"pass {setting('sigma')} (0..255)")


#: Fewer fully known 3x3 neighbourhoods than this, and :func:`masked_sigma` uses pixel lines instead.
MASKED_MIN_SAMPLES = 200


def masked_sigma(y: torch.Tensor, known: torch.Tensor) -> float:
    """The noise sigma of ``y`` (1, C, H, W) from its known pixels (``known`` (1, 1, H, W), 1 known).

    Immerkaer's residual of the 3x3 mask (1, -2, 1)^T (1, -2, 1) (~ N(0, 36 sigma^2)) where the whole
    neighbourhood is known, through the median absolute deviation (robust to the edges and texture
    that leak in): ``sigma = median |r| / (0.6745 * 6)``. With fewer than :data:`MASKED_MIN_SAMPLES`
    such places (many pixels missing), the residual of (1, -2, 1) along rows and columns where three
    pixels in a line are known (~ N(0, 6 sigma^2)): ``sigma = median |r| / (0.6745 sqrt 6)``.

    Raises:
        InputError: fewer than 3 known pixels in a line anywhere: pass the sigma.
    """
    laplace = torch.tensor([[1.0, -2.0, 1.0]]).T @ torch.tensor([[1.0, -2.0, 1.0]])
    flat = y.reshape(-1, 1, *y.shape[-2:]).float()
    weight = known.float()
    if min(y.shape[-2:]) >= 3:
        residual = torch.nn.functional.conv2d(flat, laplace[None, None])
        whole = torch.nn.functional.conv2d(weight, torch.ones(1, 1, 3, 3)) > 8.5
        values = residual[whole.expand_as(residual)]
        if values.numel() >= MASKED_MIN_SAMPLES:
            return float(values.abs().median()) / (0.6744897501960817 * 6)
    lines = []
    for dim in (-1, -2):
        if y.shape[dim] >= 3:
            n = y.shape[dim]
            r = flat.narrow(dim, 0, n - 2) - 2 * flat.narrow(dim, 1, n - 2) + flat.narrow(dim, 2, n - 2)
            ok = (weight.narrow(dim, 0, n - 2) * weight.narrow(dim, 1, n - 2) * weight.narrow(dim, 2, n - 2)) > 0
            lines.append(r[ok.expand_as(r)])
    values = torch.cat(lines) if lines else torch.zeros(0)
    if values.numel() == 0:
        raise InputError("too few known pixels in a line to estimate the noise: pass "
                         f"{setting('sigma')} (0..255)")
    return float(values.abs().median()) / (0.6744897501960817 * math.sqrt(6))
