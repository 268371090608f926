"""Losses for neural image optimisation, in the style of :mod:`kornia.losses`.

Each loss is a function plus a thin :class:`torch.nn.Module` that stores the
options and calls the function. All take ``reduction="mean" | "sum" | "none"``,
applied over every element of the unreduced loss, as in :mod:`torch.nn.functional`.

* :func:`gram_matrix` / :class:`GramMatrix`: the style representation of Gatys et al.
* :func:`content_loss` / :class:`ContentLoss` (aliases :func:`perceptual_loss` /
  :class:`PerceptualLoss`): feature reconstruction loss, also the denoiser's data term.
* :func:`style_loss` / :class:`StyleLoss`: a criterion between Gram matrices.
* :func:`total_variation` / :class:`TotalVariation`: beta-order TV (Mahendran & Vedaldi).
* :func:`feature_loss` / :class:`VGGPerceptualLoss`: the multi-layer VGG perceptual loss
  (weighted per layer; :data:`PIX2PIXHD_LAYERS` are pix2pixHD's 1/32..1 weights).
* :func:`ssim_loss` / :class:`SSIMLoss`: one minus SSIM (Zhao et al.), from
  :func:`neural_style.core.metrics.ssim`.
"""

from .gram import GramMatrix, gram_matrix
from .perceptual import ContentLoss, PerceptualLoss, content_loss, perceptual_loss
from .ssim import SSIMLoss, ssim_loss
from .style import StyleLoss, style_loss
from .total_variation import TotalVariation, total_variation
from .vgg_perceptual import PIX2PIXHD_LAYERS, VGGPerceptualLoss, feature_loss

__all__ = [
    "gram_matrix",
    "GramMatrix",
    "content_loss",
    "ContentLoss",
    "perceptual_loss",
    "PerceptualLoss",
    "style_loss",
    "StyleLoss",
    "total_variation",
    "TotalVariation",
    "ssim_loss",
    "SSIMLoss",
    "feature_loss",
    "VGGPerceptualLoss",
    "PIX2PIXHD_LAYERS",
]
