"""The beta-order total variation regulariser of Mahendran & Vedaldi."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..checks import check_ndim, check_number, check_tensor
from ..choices import COUPLINGS, MAX_TV_BETA
from ._reduction import check_reduction, reduce_loss

__all__ = ["total_variation", "TotalVariation"]

_COUPLINGS = COUPLINGS


def _check_options(beta: float, eps: float, coupling: str, reduction: str):
    beta = check_number(beta, "beta", minimum=0.0, strict=True, maximum=MAX_TV_BETA)
    eps = check_number(eps, "eps", minimum=0.0, strict=False)
    if not isinstance(coupling, str) or coupling not in _COUPLINGS:
        raise ValueError(f"expected coupling to be one of 'vectorial', 'channel', got {coupling!r}")
    check_reduction(reduction)
    return beta, eps


def total_variation(
    image: Tensor,
    beta: float = 2.0,
    eps: float = 1e-3,
    coupling: str = "vectorial",
    reduction: str = "mean",
) -> Tensor:
    r"""Beta-order total variation of a batch of images, smoothed by ``eps``.

    With forward differences and a Neumann boundary (no change past the last
    column or row, so every pixel has a term),

    .. math::

        \partial_x x_{c,i,j} = x_{c,i,j+1} - x_{c,i,j} \;(0 \text{ in the last column}), \qquad
        \partial_y x_{c,i,j} = x_{c,i+1,j} - x_{c,i,j} \;(0 \text{ in the last row}),

    the per-pixel terms are, for ``coupling="vectorial"`` (the channels share one
    root, so edges are aligned across channels),

    .. math::

        t_{b,i,j} = \Bigl(\sum_c \bigl(\partial_x x_{b,c,i,j}^2
                    + \partial_y x_{b,c,i,j}^2\bigr) + \epsilon^2\Bigr)^{\beta/2},

    and for ``coupling="channel"`` (each channel on its own)

    .. math::

        t_{b,c,i,j} = \bigl(\partial_x x_{b,c,i,j}^2 + \partial_y x_{b,c,i,j}^2
                      + \epsilon^2\bigr)^{\beta/2}.

    ``reduction="sum"`` thus gives exactly
    :math:`TV_\beta(x) = \sum_{i,j} \bigl(\partial_x x_{i,j}^2 + \partial_y x_{i,j}^2
    + \epsilon^2\bigr)^{\beta/2}` (per image, summed over the batch). ``beta=1``
    is the isotropic total variation of Rudin, Osher & Fatemi; ``beta=2`` is a
    quadratic (Tikhonov) smoothness penalty; ``beta < 1`` favours sparse,
    piecewise-constant edges but is not convex. For ``beta < 2`` the gradient of
    a term is unbounded where the image is flat unless ``eps > 0``; ``eps > 0``
    keeps it finite (and zero on a constant image). ``eps = 0`` is allowed.

    Reference:
        A. Mahendran and A. Vedaldi, "Understanding Deep Image Representations by
        Inverting Them", CVPR 2015.

        L. I. Rudin, S. Osher and E. Fatemi, "Nonlinear total variation based
        noise removal algorithms", Physica D 60, 1992.

    Args:
        image: images, values in [0, 1].
        beta: the order :math:`\beta > 0`.
        eps: the smoothing :math:`\epsilon \ge 0`.
        coupling: ``"vectorial"`` (one term per pixel) or ``"channel"`` (one term
            per pixel and channel).
        reduction: ``"mean"``, ``"sum"`` or ``"none"``, over every element of
            the unreduced loss.

    Returns:
        The loss: a 0-dim tensor, or the unreduced terms for ``reduction="none"``.

    Shape:
        - image: :math:`(B, C, H, W)`
        - output: :math:`()`; for ``reduction="none"``, :math:`(B, H, W)` with
          ``"vectorial"`` and :math:`(B, C, H, W)` with ``"channel"``

    Raises:
        TypeError: ``image`` is not a floating-point tensor, or ``beta`` or
            ``eps`` is not a number.
        ValueError: ``image`` is not 4-D, ``beta <= 0`` or above
            :data:`~neural_style.core.choices.MAX_TV_BETA` (10), ``eps < 0``, or an
            unknown ``coupling`` or ``reduction``.

    Example:
        >>> import torch
        >>> total_variation(torch.zeros(1, 3, 4, 4), beta=1.0, eps=0.5, reduction="sum")
        tensor(8.)
    """
    check_tensor(image, "image")
    check_ndim(image, "image", 4, "(B, C, H, W)")
    beta, eps = _check_options(beta, eps, coupling, reduction)

    dx = image[..., :, 1:] - image[..., :, :-1]  # (B, C, H, W-1)
    dy = image[..., 1:, :] - image[..., :-1, :]  # (B, C, H-1, W)
    dx2 = dx.square()
    dy2 = dy.square()
    if coupling == "vectorial":
        dx2 = dx2.sum(1)  # (B, H, W-1)
        dy2 = dy2.sum(1)  # (B, H-1, W)
    eps2 = eps * eps
    if eps2 != 0.0:
        dx2.add_(eps2)  # in place: square's and sum's backward do not need their output
    # Neumann boundary: the last column has dx = 0, so its term is eps^2 (+ dy^2).
    s = F.pad(dx2, (0, 1), value=eps2)
    s[..., :-1, :].add_(dy2)  # the last row has dy = 0
    if beta == 2.0:
        terms = s
    elif beta == 1.0:
        terms = torch.sqrt(s)
    else:
        terms = torch.pow(s, 0.5 * beta)
    return reduce_loss(terms, reduction)


class TotalVariation(nn.Module):
    r"""Beta-order total variation, smoothed by ``eps``; see :func:`total_variation`.

    Args:
        beta: the order :math:`\beta > 0`.
        eps: the smoothing :math:`\epsilon \ge 0`.
        coupling: ``"vectorial"`` or ``"channel"``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.

    Shape:
        - image: :math:`(B, C, H, W)`
        - output: :math:`()`; for ``reduction="none"``, :math:`(B, H, W)` with
          ``"vectorial"`` and :math:`(B, C, H, W)` with ``"channel"``

    Example:
        >>> import torch
        >>> TotalVariation(beta=1.0, eps=0.5, reduction="sum")(torch.zeros(1, 3, 4, 4))
        tensor(8.)
    """

    def __init__(
        self,
        beta: float = 2.0,
        eps: float = 1e-3,
        coupling: str = "vectorial",
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        _check_options(beta, eps, coupling, reduction)
        self.beta = beta
        self.eps = eps
        self.coupling = coupling
        self.reduction = reduction

    def extra_repr(self) -> str:
        return (
            f"beta={self.beta}, eps={self.eps}, coupling={self.coupling!r}, "
            f"reduction={self.reduction!r}"
        )

    def forward(self, image: Tensor) -> Tensor:
        return total_variation(image, self.beta, self.eps, self.coupling, self.reduction)
