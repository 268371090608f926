"""Image quality metrics: PSNR and SSIM.

* :func:`psnr`: peak signal-to-noise ratio in dB, per image.
* :func:`ssim`: the structural similarity index of Wang et al. (2004), equal to
  :func:`skimage.metrics.structural_similarity` with ``gaussian_weights=True,
  sigma=1.5, use_sample_covariance=False``.
* :func:`estimate_sigma`, :func:`estimate_sigma_haar`: the noise-level estimators of
  :mod:`neural_style.core.noise`, re-exported here.

Images are ``(B, C, H, W)`` floating-point tensors with values in ``[0, 1]``
(or ``[0, data_range]``). The functions are differentiable where that makes
sense (:func:`psnr`, :func:`ssim`), have no state and run on any device.
Half-precision inputs are computed in ``float32``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .checks import check_image, check_number, format_shape, working_dtype
from .noise import estimate_sigma, estimate_sigma_haar

__all__ = ["psnr", "ssim", "estimate_sigma", "estimate_sigma_haar"]

#: The accepted values of the ``reduction`` argument of :func:`psnr` and :func:`ssim`.
REDUCTIONS = ("mean", "none")

#: Side of the SSIM Gaussian window: ``2 * int(3.5 * 1.5 + 0.5) + 1`` as in scikit-image.
SSIM_WINDOW = 11
#: Standard deviation of the SSIM Gaussian window, in pixels.
SSIM_SIGMA = 1.5
#: Stabilising constants of SSIM, as fractions of ``data_range``.
SSIM_K1 = 0.01
SSIM_K2 = 0.03



# ------------------------------------------------------------------- checks


def _check_pair(image: object, reference: object) -> None:
    check_image(image, "image")
    check_image(reference, "reference")
    if image.shape != reference.shape:
        raise ValueError(
            "expected image and reference of the same shape, got "
            f"{format_shape(image.shape)} and {format_shape(reference.shape)}"
        )
    if image.device != reference.device:
        raise ValueError(
            "expected image and reference on the same device, got "
            f"{image.device} and {reference.device}"
        )


def _check_reduction(reduction: object) -> None:
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(f"expected reduction to be one of 'mean', 'none', got {reduction!r}")


# --------------------------------------------------------------------- PSNR


def psnr(image: Tensor, reference: Tensor, data_range: float = 1.0, reduction: str = "mean") -> Tensor:
    r"""Peak signal-to-noise ratio of each image against its reference, in dB.

    .. math::

        \mathrm{MSE}_b = \frac{1}{CHW} \sum_{c,i,j} (x_{b,c,i,j} - y_{b,c,i,j})^2, \qquad
        \mathrm{PSNR}_b = 10 \log_{10} \frac{R^2}{\mathrm{MSE}_b},

    with :math:`R` = ``data_range``. An image identical to its reference has
    :math:`\mathrm{MSE}_b = 0` and a PSNR of ``+inf``; the ``"mean"`` over a
    batch holding such an image is ``+inf`` too (use ``reduction="none"`` and
    filter if that is not wanted). ``"mean"`` averages the dB values (the usual
    convention of denoising papers), not the MSEs.

    Reference:
        e.g. R. C. Gonzalez and R. E. Woods, "Digital Image Processing",
        and A. Hore and D. Ziou, "Image Quality Metrics: PSNR vs. SSIM", ICPR 2010.

    Args:
        image: the images to assess, values in ``[0, data_range]``.
        reference: the ground-truth images, of the same shape.
        data_range: the peak value :math:`R > 0` (1 for ``[0, 1]`` images,
            255 for 8-bit values).
        reduction: ``"mean"`` (the mean over the batch) or ``"none"`` (one
            value per image).

    Returns:
        The PSNR in dB: a 0-dim tensor for ``"mean"``, shape ``(B,)`` for
        ``"none"``; ``float32`` for half-precision inputs.

    Shape:
        - image, reference: :math:`(B, C, H, W)`
        - output: :math:`()`; :math:`(B,)` for ``reduction="none"``

    Raises:
        TypeError: an input is not a floating-point tensor, or ``data_range``
            is not a number.
        ValueError: an input is not 4-D or is empty, the shapes or devices
            differ, ``data_range <= 0``, or an unknown ``reduction``.

    Example:
        >>> import torch
        >>> psnr(torch.zeros(1, 1, 2, 2), torch.full((1, 1, 2, 2), 0.5))  # 10 log10(1 / 0.25)
        tensor(6.0206)
    """
    _check_pair(image, reference)
    data_range = check_number(data_range, "data_range", minimum=0.0, strict=True)
    _check_reduction(reduction)
    dtype = working_dtype(image, reference)
    diff = image.to(dtype) - reference.to(dtype)
    mse = diff.square().mean(dim=(1, 2, 3))  # (B,)
    # R^2 / 0 = +inf and log10(+inf) = +inf: identical images give +inf.
    value = 10.0 * torch.log10((data_range * data_range) / mse)
    return value.mean() if reduction == "mean" else value


# --------------------------------------------------------------------- SSIM


def _gaussian_kernel(size: int, sigma: float, dtype: torch.dtype, device) -> Tensor:
    """The normalised 1-D Gaussian of ``size`` taps (as :func:`scipy.ndimage.gaussian_filter`)."""
    radius = size // 2
    x = torch.arange(-radius, radius + 1, dtype=torch.float64)
    g = torch.exp(-0.5 * (x / sigma) ** 2)
    return (g / g.sum()).to(dtype=dtype, device=device)


def _filter_valid(x: Tensor, kernel: Tensor) -> Tensor:
    """Separable, depthwise, unpadded filtering of every channel of ``x`` by ``kernel``.

    ``(N, K, H, W) -> (N, K, H - k + 1, W - k + 1)`` for a kernel of ``k`` taps.
    """
    k = kernel.numel()
    channels = x.shape[1]
    vertical = kernel.view(1, 1, k, 1).expand(channels, 1, k, 1)
    horizontal = kernel.view(1, 1, 1, k).expand(channels, 1, 1, k)
    x = F.conv2d(x, vertical, groups=channels)
    return F.conv2d(x, horizontal, groups=channels)


def ssim(
    image: Tensor,
    reference: Tensor,
    data_range: float = 1.0,
    reduction: str = "mean",
) -> Tensor:
    r"""Structural similarity index (SSIM) of each image against its reference.

    For each channel, with :math:`w` the normalised 11x11 Gaussian window of
    standard deviation 1.5 (separable, :math:`w = g g^\top`), local statistics
    are the weighted moments

    .. math::

        \mu_x = w * x, \quad \sigma_x^2 = w * x^2 - \mu_x^2, \quad
        \sigma_{xy} = w * (xy) - \mu_x \mu_y

    (population covariances), and the SSIM map is

    .. math::

        \mathrm{SSIM}(x, y) = \frac{(2 \mu_x \mu_y + C_1)(2 \sigma_{xy} + C_2)}
                                   {(\mu_x^2 + \mu_y^2 + C_1)(\sigma_x^2 + \sigma_y^2 + C_2)},
        \qquad C_1 = (K_1 R)^2, \; C_2 = (K_2 R)^2,

    with :math:`K_1 = 0.01`, :math:`K_2 = 0.03` and :math:`R` = ``data_range``.
    Only the 'valid' window positions are used (no padding: 5 pixels are
    cropped on each side), and the map is averaged over pixels and channels.
    This equals ``skimage.metrics.structural_similarity(x, y, data_range=R,
    gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
    channel_axis=...)`` (to rounding). Identical images give exactly 1.

    Reference:
        Z. Wang, A. C. Bovik, H. R. Sheikh and E. P. Simoncelli, "Image quality
        assessment: from error visibility to structural similarity", IEEE
        Transactions on Image Processing 13(4), 2004.

    Args:
        image: the images to assess, values in ``[0, data_range]``, at least
            11 pixels high and wide.
        reference: the ground-truth images, of the same shape.
        data_range: the dynamic range :math:`R > 0` of the values.
        reduction: ``"mean"`` (the mean over the batch) or ``"none"`` (one
            value per image).

    Returns:
        The SSIM, at most 1: a 0-dim tensor for ``"mean"``, shape ``(B,)`` for
        ``"none"``; ``float32`` for half-precision inputs.

    Shape:
        - image, reference: :math:`(B, C, H, W)` with :math:`H, W \ge 11`
        - output: :math:`()`; :math:`(B,)` for ``reduction="none"``

    Raises:
        TypeError: an input is not a floating-point tensor, or ``data_range``
            is not a number.
        ValueError: an input is not 4-D or smaller than 11x11, the shapes or
            devices differ, ``data_range <= 0``, or an unknown ``reduction``.

    Example:
        >>> import torch
        >>> x = torch.rand(1, 3, 16, 16)
        >>> ssim(x, x)
        tensor(1.)
    """
    _check_pair(image, reference)
    height, width = image.shape[-2:]
    if height < SSIM_WINDOW or width < SSIM_WINDOW:
        raise ValueError(
            f"expected images at least {SSIM_WINDOW}x{SSIM_WINDOW} pixels (the SSIM window), "
            f"got shape {format_shape(image.shape)}"
        )
    data_range = check_number(data_range, "data_range", minimum=0.0, strict=True)
    _check_reduction(reduction)

    dtype = working_dtype(image, reference)
    # On the CPU the depthwise convolutions are about 2.5x faster on channels-last
    # data; converting the inputs (not the 5x larger stack) makes the stack channels-last.
    layout = torch.channels_last if image.device.type == "cpu" else torch.contiguous_format
    x = image.to(dtype).contiguous(memory_format=layout)
    y = reference.to(dtype).contiguous(memory_format=layout)
    channels = x.shape[1]
    kernel = _gaussian_kernel(SSIM_WINDOW, SSIM_SIGMA, dtype, x.device)
    # One depthwise pass over the five maps of every channel: (B, 5C, H-10, W-10).
    stack = torch.cat([x, y, x * x, y * y, x * y], dim=1)
    mu_x, mu_y, e_xx, e_yy, e_xy = _filter_valid(stack, kernel).split(channels, dim=1)
    del stack

    c1 = (SSIM_K1 * data_range) ** 2
    c2 = (SSIM_K2 * data_range) ** 2
    # In-place updates only of fresh temporaries whose values no backward needs.
    mu_xy = mu_x * mu_y
    a1 = (2.0 * mu_xy).add_(c1)  # 2 mu_x mu_y + C1
    a2 = (e_xy - mu_xy).mul_(2.0).add_(c2)  # 2 sigma_xy + C2
    b1 = torch.addcmul(mu_x * mu_x, mu_y, mu_y).add_(c1)  # mu_x^2 + mu_y^2 + C1
    b2 = (e_xx + e_yy).add_(c1 + c2).sub_(b1)  # sigma_x^2 + sigma_y^2 + C2
    value = ((a1 * a2) / (b1 * b2)).mean(dim=(1, 2, 3))  # (B,)
    return value.mean() if reduction == "mean" else value
