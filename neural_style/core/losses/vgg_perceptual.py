"""The multi-layer VGG perceptual loss: a weighted sum of feature reconstruction losses."""

from __future__ import annotations

from typing import Mapping, Optional

import torch
from torch import Tensor, nn

from ..features import build_extractor, check_layers, parse_layers
from ..weights import load_weights
from ._criterion import check_criterion
from .perceptual import content_loss

__all__ = ["feature_loss", "VGGPerceptualLoss", "PIX2PIXHD_LAYERS"]

#: The layer weights of pix2pixHD's VGG loss (Wang et al. 2018): 1/32, 1/16, 1/8, 1/4, 1.
PIX2PIXHD_LAYERS = "relu1_1:0.03125,relu2_1:0.0625,relu3_1:0.125,relu4_1:0.25,relu5_1:1"


def feature_loss(
    input_features: Mapping[str, Tensor],
    target_features: Mapping[str, Tensor],
    layers: Mapping[str, float],
    criterion: str = "l2",
    eps: float = 1e-3,
    reduction: str = "mean",
) -> Tensor:
    r"""Weighted sum over layers of :func:`~neural_style.losses.content_loss`.

    .. math::

        \ell = \sum_l w_l \operatorname{reduce}\,\rho\bigl(F_l(x) - F_l(y)\bigr)

    with :math:`F_l` the features at layer :math:`l` (e.g. of a
    :class:`~neural_style.core.features.FeatureExtractor`), :math:`w_l` the layer weights
    and :math:`\rho` the criterion of :func:`content_loss`.

    Reference:
        J. Johnson, A. Alahi and L. Fei-Fei, "Perceptual Losses for Real-Time Style Transfer
        and Super-Resolution", ECCV 2016; layer weights 1/32..1 as in T.-C. Wang et al.,
        "High-Resolution Image Synthesis and Semantic Manipulation with Conditional GANs"
        (pix2pixHD), CVPR 2018.

    Args:
        input_features, target_features: ``{layer: (B, C_l, H_l, W_l)}`` with every layer of
            ``layers`` (a batch-1 target is broadcast, as in :func:`content_loss`).
        layers: ``{layer: weight}``.
        criterion: ``"l2"``, ``"l1"`` or ``"charbonnier"``.
        eps: :math:`\epsilon` of ``"charbonnier"``, > 0 (ignored otherwise).
        reduction: ``"mean"`` or ``"sum"`` within each layer (the layers have different
            shapes, so there is no ``"none"``).

    Returns:
        A 0-dim tensor.

    Raises:
        ValueError: no layers, a layer missing from the features, ``reduction="none"``, or
            what :func:`content_loss` raises.

    Example:
        >>> import torch
        >>> f = {"a": torch.ones(1, 2, 4, 4), "b": torch.zeros(1, 3, 2, 2)}
        >>> g = {"a": torch.zeros(1, 2, 4, 4), "b": torch.zeros(1, 3, 2, 2)}
        >>> feature_loss(f, g, {"a": 0.5, "b": 1.0})
        tensor(0.5000)
    """
    check_criterion(criterion, eps, reduction)
    if reduction == "none":
        raise ValueError("expected reduction 'mean' or 'sum' (layers have different shapes), got 'none'")
    if not layers:
        raise ValueError("expected at least one layer, got none")
    missing = [n for n in layers if n not in input_features or n not in target_features]
    if missing:
        raise ValueError(f"expected features for every layer, got none for {missing[0]!r}")
    return sum(w * content_loss(input_features[n], target_features[n], criterion, eps, reduction)
               for n, w in layers.items())


class VGGPerceptualLoss(nn.Module):
    r"""VGG perceptual loss: :func:`feature_loss` on the features of a VGG16/19.

    The network is loaded once (frozen, in eval mode) and truncated after the deepest layer
    used; images are (B, 3, H, W) RGB in [0, 1] (ImageNet normalisation happens inside).

    Args:
        layers: layer names with optional weights, ``"relu2_2"``, ``"relu1_1:0.5,conv2_1"``, a
            list or a ``{name: weight}`` mapping (conv or relu taps); default :data:`PIX2PIXHD_LAYERS`.
        model: ``"vgg16"`` or ``"vgg19"``; ``None``: what the weights file holds, else vgg19.
        weights: ``"torchvision"`` (downloaded once), a state-dict path, or ``None`` for
            ``$NEURAL_STYLE_WEIGHTS`` (else torchvision); see :func:`neural_style.core.weights.load_weights`.
        weights_format: ``"torchvision"`` or ``"caffe"``.
        pooling: ``"max"`` or ``"avg"``.
        criterion, eps, reduction: as for :func:`feature_loss`.

    Shape:
        - input, target: :math:`(B, 3, H, W)` (target also :math:`(1, 3, H, W)`)
        - output: :math:`()`

    Raises:
        InputError: unknown layers, or weights that are missing, corrupt or of another network.
        ValueError: a bad ``criterion``, ``eps`` or ``reduction``.
    """

    def __init__(self, layers=PIX2PIXHD_LAYERS, *, model: Optional[str] = None, weights=None,
                 weights_format: str = "torchvision", pooling: str = "max", criterion: str = "l2",
                 eps: float = 1e-3, reduction: str = "mean") -> None:
        super().__init__()
        check_criterion(criterion, eps, reduction)
        if reduction == "none":
            raise ValueError("expected reduction 'mean' or 'sum' (layers have different shapes), got 'none'")
        loaded = load_weights(weights, model, progress=False)
        self.layers = parse_layers(layers, "layer")
        check_layers(loaded.model, self.layers, "layer")
        self.extractor = build_extractor(loaded, list(self.layers), weights_format=weights_format, pooling=pooling)
        self.criterion, self.eps, self.reduction = criterion, eps, reduction

    def extra_repr(self) -> str:
        return f"layers={self.layers}, criterion={self.criterion!r}, reduction={self.reduction!r}"

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        with torch.set_grad_enabled(torch.is_grad_enabled() and target.requires_grad):
            target_features = self.extractor(target)
        return feature_loss(self.extractor(input), target_features, self.layers, self.criterion, self.eps,
                            self.reduction)
