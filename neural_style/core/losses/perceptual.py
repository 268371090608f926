"""The content loss of Gatys et al., a.k.a. the feature reconstruction (perceptual) loss of Johnson et al."""

from __future__ import annotations

from torch import Tensor, nn

from ..checks import check_tensor, format_shape
from ._criterion import check_criterion, pointwise_loss

__all__ = ["content_loss", "ContentLoss", "perceptual_loss", "PerceptualLoss"]


def _check_target(input: Tensor, target: Tensor) -> None:
    if target.shape == input.shape:
        return
    if target.ndim == input.ndim >= 1 and target.shape[0] == 1 and target.shape[1:] == input.shape[1:]:
        return
    expected = format_shape(input.shape)
    if input.ndim >= 1:
        expected += " or " + format_shape((1,) + tuple(input.shape[1:]))
    raise ValueError(f"expected target of shape {expected} to match input, got {format_shape(target.shape)}")


def content_loss(
    input: Tensor,
    target: Tensor,
    criterion: str = "l2",
    eps: float = 1e-3,
    reduction: str = "mean",
) -> Tensor:
    r"""Content (feature reconstruction) loss between feature maps or images.

    An element-wise criterion :math:`\rho` of the difference :math:`d = x - y`
    of ``input`` :math:`x` and ``target`` :math:`y`, then reduced:

    * ``"l2"``: :math:`\rho(d) = d^2`;
    * ``"l1"``: :math:`\rho(d) = |d|`;
    * ``"charbonnier"``: :math:`\rho(d) = \sqrt{d^2 + \epsilon^2}` (a smooth
      :math:`|d|`; :math:`\epsilon` is not subtracted, so :math:`\rho(0) = \epsilon`).

    With ``"l2"`` and ``reduction="mean"`` this is the content loss of Gatys et
    al. (up to their factor 1/2) and the feature reconstruction loss
    :math:`\frac{1}{CHW}\lVert\phi_j(\hat y) - \phi_j(y)\rVert_2^2` of Johnson et
    al.; on images it is the data-fidelity term of the denoiser. It is cheap:
    ``"l2"`` and ``"l1"`` use the fused :func:`torch.nn.functional.mse_loss` /
    :func:`~torch.nn.functional.l1_loss` kernels and a batch-1 ``target`` is
    broadcast without a copy.

    References:
        L. A. Gatys, A. S. Ecker and M. Bethge, "Image Style Transfer Using
        Convolutional Neural Networks", CVPR 2016.

        J. Johnson, A. Alahi and L. Fei-Fei, "Perceptual Losses for Real-Time
        Style Transfer and Super-Resolution", ECCV 2016.

    Args:
        input: feature maps (or images) of the generated image.
        target: feature maps (or images) to match, of ``input``'s shape or of
            batch size 1 (broadcast over ``input``'s batch).
        criterion: ``"l2"``, ``"l1"`` or ``"charbonnier"``.
        eps: :math:`\epsilon` of ``"charbonnier"``, > 0 (ignored otherwise).
        reduction: ``"mean"``, ``"sum"`` or ``"none"``, over every element of
            the unreduced loss.

    Returns:
        The loss: a 0-dim tensor, or the unreduced loss for ``reduction="none"``.

    Shape:
        - input: :math:`(B, *)`, typically :math:`(B, C, H, W)`
        - target: :math:`(B, *)` or :math:`(1, *)`
        - output: :math:`()`, or :math:`(B, *)` (``input``'s shape) for ``reduction="none"``

    Raises:
        TypeError: ``input`` or ``target`` is not a floating-point tensor, or
            ``eps`` is not a number.
        ValueError: an unknown ``criterion`` or ``reduction``, ``eps <= 0`` with
            ``"charbonnier"``, or a ``target`` shape that does not match.

    Example:
        >>> import torch
        >>> x = torch.zeros(2, 3, 4, 4)
        >>> content_loss(x, torch.ones(1, 3, 4, 4))
        tensor(1.)
    """
    check_tensor(input, "input")
    check_tensor(target, "target")
    eps = check_criterion(criterion, eps, reduction)
    _check_target(input, target)
    return pointwise_loss(input, target, criterion, eps, reduction)


class ContentLoss(nn.Module):
    r"""Content (feature reconstruction) loss; see :func:`content_loss`.

    Args:
        criterion: ``"l2"``, ``"l1"`` or ``"charbonnier"``.
        eps: :math:`\epsilon` of ``"charbonnier"``, > 0 (ignored otherwise).
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.

    Shape:
        - input: :math:`(B, *)`, typically :math:`(B, C, H, W)`
        - target: :math:`(B, *)` or :math:`(1, *)`
        - output: :math:`()`, or :math:`(B, *)` for ``reduction="none"``

    Example:
        >>> import torch
        >>> ContentLoss("l1")(torch.zeros(2, 3, 4, 4), torch.ones(2, 3, 4, 4))
        tensor(1.)
    """

    def __init__(self, criterion: str = "l2", eps: float = 1e-3, reduction: str = "mean") -> None:
        super().__init__()
        check_criterion(criterion, eps, reduction)
        self.criterion = criterion
        self.eps = eps
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"criterion={self.criterion!r}, eps={self.eps}, reduction={self.reduction!r}"

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return content_loss(input, target, self.criterion, self.eps, self.reduction)


#: Johnson et al.'s name for :func:`content_loss` (the feature reconstruction loss).
perceptual_loss = content_loss

#: Johnson et al.'s name for :class:`ContentLoss`.
PerceptualLoss = ContentLoss
