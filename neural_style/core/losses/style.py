"""The style loss of Gatys et al.: a criterion between Gram matrices."""

from __future__ import annotations

from torch import Tensor, nn

from ..checks import check_ndim, check_tensor, format_shape
from ._criterion import check_criterion, pointwise_loss
from .gram import gram_matrix

__all__ = ["style_loss", "StyleLoss"]


def _check_target_gram(input: Tensor, target_gram: Tensor) -> None:
    b, c = input.shape[:2]
    if target_gram.ndim not in (2, 3) or target_gram.shape[-2:] != (c, c):
        raise ValueError(
            f"expected target_gram of shape (*, {c}, {c}), got {format_shape(target_gram.shape)}"
        )
    if target_gram.ndim == 3 and target_gram.shape[0] not in (1, b):
        raise ValueError(
            f"expected target_gram of shape ({c}, {c}), (1, {c}, {c}) or ({b}, {c}, {c}), "
            f"got {format_shape(target_gram.shape)}"
        )


def style_loss(
    input: Tensor,
    target_gram: Tensor,
    criterion: str = "l2",
    eps: float = 1e-3,
    normalize: bool = True,
    reduction: str = "mean",
) -> Tensor:
    r"""Style loss: a criterion between the Gram matrices of ``input`` and a target Gram matrix.

    .. math::

        \ell = \operatorname{reduce}\,\rho\bigl(G(x) - T\bigr),

    with :math:`G(x)` = :func:`gram_matrix` ``(input, normalize)``, :math:`T` =
    ``target_gram`` and :math:`\rho` the element-wise criterion of
    :func:`~neural_style.losses.content_loss` (``"l2"``: :math:`d^2`, ``"l1"``:
    :math:`|d|`, ``"charbonnier"``: :math:`\sqrt{d^2 + \epsilon^2}`).
    ``target_gram`` is precomputed once, e.g. the Gram matrix of a style image's
    features or a weighted blend of several. With ``"l2"``, ``normalize=True``
    and ``reduction="mean"`` this is jcjohnson/neural-style's style loss.

    Reference:
        L. A. Gatys, A. S. Ecker and M. Bethge, "Image Style Transfer Using
        Convolutional Neural Networks", CVPR 2016.

    Args:
        input: feature maps of the generated image.
        target_gram: the target Gram matrix, per batch item or shared by all.
        criterion: ``"l2"``, ``"l1"`` or ``"charbonnier"``.
        eps: :math:`\epsilon` of ``"charbonnier"``, > 0 (ignored otherwise).
        normalize: divide the Gram matrix of ``input`` by :math:`C H W` (must
            match how ``target_gram`` was made).
        reduction: ``"mean"``, ``"sum"`` or ``"none"``, over every element of
            the unreduced loss.

    Returns:
        The loss: a 0-dim tensor, or the unreduced loss for ``reduction="none"``.

    Shape:
        - input: :math:`(B, C, H, W)`
        - target_gram: :math:`(B, C, C)`, :math:`(1, C, C)` or :math:`(C, C)`
        - output: :math:`()`, or :math:`(B, C, C)` for ``reduction="none"``

    Raises:
        TypeError: ``input`` or ``target_gram`` is not a floating-point tensor,
            or ``eps`` is not a number.
        ValueError: an unknown ``criterion`` or ``reduction``, ``eps <= 0`` with
            ``"charbonnier"``, ``input`` not 4-D, or a ``target_gram`` shape that
            does not match.

    Example:
        >>> import torch
        >>> x = torch.ones(2, 3, 4, 4)
        >>> style_loss(x, gram_matrix(x[:1]))
        tensor(0.)
    """
    check_tensor(input, "input")
    check_tensor(target_gram, "target_gram")
    eps = check_criterion(criterion, eps, reduction)
    check_ndim(input, "input", 4, "(B, C, H, W)")
    _check_target_gram(input, target_gram)
    gram = gram_matrix(input, normalize)
    return pointwise_loss(gram, target_gram, criterion, eps, reduction)


class StyleLoss(nn.Module):
    r"""Style loss between Gram matrices; see :func:`style_loss`.

    Args:
        criterion: ``"l2"``, ``"l1"`` or ``"charbonnier"``.
        eps: :math:`\epsilon` of ``"charbonnier"``, > 0 (ignored otherwise).
        normalize: divide the Gram matrix of ``input`` by :math:`C H W`.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.

    Shape:
        - input: :math:`(B, C, H, W)`
        - target_gram: :math:`(B, C, C)`, :math:`(1, C, C)` or :math:`(C, C)`
        - output: :math:`()`, or :math:`(B, C, C)` for ``reduction="none"``

    Example:
        >>> import torch
        >>> StyleLoss(normalize=False)(torch.ones(2, 3, 4, 4), torch.full((1, 3, 3), 16.0))
        tensor(0.)
    """

    def __init__(
        self,
        criterion: str = "l2",
        eps: float = 1e-3,
        normalize: bool = True,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        check_criterion(criterion, eps, reduction)
        self.criterion = criterion
        self.eps = eps
        self.normalize = normalize
        self.reduction = reduction

    def extra_repr(self) -> str:
        return (
            f"criterion={self.criterion!r}, eps={self.eps}, normalize={self.normalize}, "
            f"reduction={self.reduction!r}"
        )

    def forward(self, input: Tensor, target_gram: Tensor) -> Tensor:
        return style_loss(input, target_gram, self.criterion, self.eps, self.normalize, self.reduction)
