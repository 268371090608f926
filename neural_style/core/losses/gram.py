"""Gram matrices of feature maps, the style representation of Gatys et al."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..checks import check_ndim, check_tensor

__all__ = ["gram_matrix", "GramMatrix"]


def gram_matrix(features: Tensor, normalize: bool = True) -> Tensor:
    r"""Gram matrices of a batch of feature maps.

    With :math:`F_b` the ``(C, H*W)`` reshape of the ``b``-th feature map,

    .. math::

        G_b = \frac{F_b F_b^\top}{N}, \qquad N = C H W \text{ if normalize else } 1,

    i.e. :math:`G_b[i, j] = \frac{1}{N}\sum_k F_b[i, k] F_b[j, k]`, the correlations
    between the channels. Dividing by :math:`C H W` is the convention of
    jcjohnson/neural-style (``GramMatrix`` followed by ``div(C*H*W)``); it makes
    the style loss independent of the layer's size. Gatys et al. instead scale
    the squared error by :math:`1 / (4 N_l^2 M_l^2)`.

    Reference:
        L. A. Gatys, A. S. Ecker and M. Bethge, "Image Style Transfer Using
        Convolutional Neural Networks", CVPR 2016.

    Args:
        features: feature maps.
        normalize: divide by :math:`C H W` (``True``) or not (``False``).

    Returns:
        The Gram matrices.

    Shape:
        - features: :math:`(B, C, H, W)`
        - output: :math:`(B, C, C)`

    Raises:
        TypeError: ``features`` is not a floating-point tensor.
        ValueError: ``features`` is not 4-D.

    Example:
        >>> import torch
        >>> gram_matrix(torch.ones(2, 3, 4, 5)).shape
        torch.Size([2, 3, 3])
    """
    check_tensor(features, "features")
    check_ndim(features, "features", 4, "(B, C, H, W)")
    b, c, h, w = features.shape
    flat = features.reshape(b, c, h * w)
    gram = torch.bmm(flat, flat.transpose(1, 2))
    if normalize:
        # In place on bmm's output: its backward needs the inputs only.
        gram.div_(c * h * w)
    return gram


class GramMatrix(nn.Module):
    r"""Gram matrices of a batch of feature maps; see :func:`gram_matrix`.

    Args:
        normalize: divide by :math:`C H W` (``True``) or not (``False``).

    Shape:
        - features: :math:`(B, C, H, W)`
        - output: :math:`(B, C, C)`

    Example:
        >>> import torch
        >>> GramMatrix()(torch.ones(2, 3, 4, 5)).shape
        torch.Size([2, 3, 3])
    """

    def __init__(self, normalize: bool = True) -> None:
        super().__init__()
        self.normalize = normalize

    def extra_repr(self) -> str:
        return f"normalize={self.normalize}"

    def forward(self, features: Tensor) -> Tensor:
        return gram_matrix(features, self.normalize)
