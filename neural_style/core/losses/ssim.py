"""The SSIM loss: one minus the structural similarity of :func:`neural_style.core.metrics.ssim`."""

from __future__ import annotations

from torch import Tensor, nn

from ..checks import check_number
from ..metrics import ssim
from ._reduction import check_reduction, reduce_loss

__all__ = ["ssim_loss", "SSIMLoss"]


def ssim_loss(input: Tensor, target: Tensor, data_range: float = 1.0, reduction: str = "mean") -> Tensor:
    r"""SSIM loss: :math:`1 - \mathrm{SSIM}(x, y)` per image, then reduced.

    .. math::

        \ell_b = 1 - \mathrm{SSIM}(x_b, y_b)

    with :math:`\mathrm{SSIM}` the mean over pixels and channels of the SSIM map of
    :func:`neural_style.core.metrics.ssim` (Gaussian 11x11 window, sigma 1.5, valid
    positions only; equal to scikit-image's Gaussian SSIM). It lies in [0, 2]: 0 for
    identical images. Differentiable in ``input`` (and ``target``); the computation runs in
    at least float32 (float64 inputs stay float64, for :func:`torch.autograd.gradcheck`).

    Reference:
        H. Zhao, O. Gallo, I. Frosio and J. Kautz, "Loss Functions for Image Restoration
        with Neural Networks", IEEE Transactions on Computational Imaging 3(1), 2017;
        SSIM: Z. Wang, A. C. Bovik, H. R. Sheikh and E. P. Simoncelli, IEEE TIP 13(4), 2004.

    Args:
        input: the generated images, values in ``[0, data_range]``.
        target: the reference images, of the same shape.
        data_range: the dynamic range :math:`R > 0` of the values.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``, over the per-image losses.

    Returns:
        A 0-dim tensor, or shape :math:`(B,)` for ``reduction="none"``.

    Shape:
        - input, target: :math:`(B, C, H, W)` with :math:`H, W \ge 11`
        - output: :math:`()`, or :math:`(B,)` for ``reduction="none"``

    Raises:
        TypeError: an input is not a floating-point tensor, or ``data_range`` is not a number.
        ValueError: an input is not 4-D or smaller than 11x11, the shapes or devices differ,
            ``data_range <= 0``, or an unknown ``reduction``.

    Example:
        >>> import torch
        >>> x = torch.zeros(1, 1, 16, 16)
        >>> ssim_loss(x, x + 0.5)  # constant images: 1 - C1 / (0.25 + C1), C1 = 1e-4
        tensor(0.9996)
    """
    check_reduction(reduction)
    return reduce_loss(1.0 - ssim(input, target, data_range=data_range, reduction="none"), reduction)


class SSIMLoss(nn.Module):
    r"""SSIM loss :math:`1 - \mathrm{SSIM}`; see :func:`ssim_loss`.

    Args:
        data_range: the dynamic range :math:`R > 0` of the values.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.

    Shape:
        - input, target: :math:`(B, C, H, W)` with :math:`H, W \ge 11`
        - output: :math:`()`, or :math:`(B,)` for ``reduction="none"``

    Example:
        >>> import torch
        >>> x = torch.rand(2, 3, 16, 16)
        >>> SSIMLoss(reduction="none")(x, x).abs().max() < 1e-4  # identical images: 0 up to rounding
        tensor(True)
    """

    def __init__(self, data_range: float = 1.0, reduction: str = "mean") -> None:
        super().__init__()
        self.data_range = check_number(data_range, "data_range", minimum=0.0, strict=True)
        check_reduction(reduction)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"data_range={self.data_range}, reduction={self.reduction!r}"

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return ssim_loss(input, target, self.data_range, self.reduction)
