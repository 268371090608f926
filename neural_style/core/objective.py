"""The perceptual objective of Gatys et al. (2016) and Johnson et al. (2016), written once.

For an image x (B, 3, H, W) in [0, 1]

    content(x) = sum_l  a_l * content_loss(F_l(x), F_l(c))          a_l = w_l / ms(F_l(c))
    style(x)   = sum_l  b_l * style_loss(F_l(x), T_l)                b_l = v_l / ms(T_l)
    tv(x)      = total_variation(x, beta)
    total      = content_weight * content + style_weight * style + tv_weight * tv

with F_l the VGG features at layer l, ``T_l = sum_k s_k G(F_l(style_k))`` the Gram targets
blended with weights s_k, and ``ms`` the mean square of a target: dividing each layer by it
makes a layer weight mean the same for any network's activation scale (torchvision, Caffe,
fine-tuned VGGs), so one set of defaults works with every weights file.

``stylize`` (one content image) and ``train`` (a batch of photos each step) call the same
:class:`PerceptualObjective`. The targets are computed apart from the evaluation: the style
targets once, at construction; the content targets by :meth:`PerceptualObjective.content_targets`,
as a :class:`ContentTargets` value passed to each evaluation. Nothing closes over a
whole-image tensor, so a caller can evaluate crops of the image against crops of the content
features, with the scales of the whole image.
"""

from dataclasses import dataclass
from typing import Dict, Mapping, Optional, Sequence

import torch
from torch import Tensor

from . import losses
from .features import FeatureExtractor, build_extractor, check_layers, parse_layers
from .weights import LoadedWeights, load_weights


def mean_square(target: Tensor) -> Tensor:
    """The mean square of a loss target (detached, at least 1e-12), the per-layer normaliser."""
    return target.detach().pow(2).mean().clamp(min=1e-12)


@dataclass
class ContentTargets:
    """The content features of one image (or batch) and each layer's scale.

    Attributes:
        features: ``{layer: (B, C_l, H_l, W_l) tensor}``, float32 (or the network's precision).
        scales: ``{layer: 0-dim tensor}``, the layer weight divided by the mean square of the
            whole target; keep these when evaluating crops of ``features``.
    """

    features: Dict[str, Tensor]
    scales: Dict[str, Tensor]


@dataclass
class LossNetwork:
    """A VGG feature extractor with the parsed content and style layers.

    Attributes:
        extractor: the network, truncated after the last layer used.
        content_layers, style_layers: ``{name: weight}`` in the order given.
        weights: the loaded weights (model name, source file or URL).
    """

    extractor: FeatureExtractor
    content_layers: Dict[str, float]
    style_layers: Dict[str, float]
    weights: LoadedWeights


def load_loss_network(content_layers, style_layers, *, weights=None, model: Optional[str] = None,
                      weights_format: str = "torchvision", pooling: str = "max",
                      device=torch.device("cpu"), autocast: Optional[torch.dtype] = None,
                      download_progress: bool = True) -> LossNetwork:
    """Load VGG weights and build the extractor for the named layers.

    Args:
        content_layers, style_layers: layer specs (``"relu4_2"``, ``"relu1_1:0.5,..."``, lists, mappings).
        weights, model, weights_format, pooling: see :class:`neural_style.settings.StylizeSettings`.
        device: where the network runs.
        autocast: the network's autocast dtype (``None``: float32).
        download_progress: show a progress bar while downloading torchvision's weights.

    Raises:
        InputError: unknown layers, or layers the model does not have.
        WeightsError, DownloadError: see :func:`neural_style.core.weights.load_weights`.
    """
    loaded = load_weights(weights, model, progress=download_progress)
    c_layers = parse_layers(content_layers, "content layer")
    s_layers = parse_layers(style_layers, "style layer")
    check_layers(loaded.model, c_layers, "content layer")
    check_layers(loaded.model, s_layers, "style layer")
    extractor = build_extractor(loaded, list(c_layers) + list(s_layers), pooling=pooling,
                                weights_format=weights_format, device=device).precision(autocast)
    return LossNetwork(extractor, c_layers, s_layers, loaded)


class PerceptualObjective:
    """Content + Gram style + beta-order TV, with per-layer normalisation (see module doc).

    Args:
        network: the loss network and its layers.
        styles: style images, each (1, 3, H, W) in [0, 1] on the network's device.
        blend: one weight per style image, summing to 1.
        content_weight, style_weight, tv_weight: weights of the three terms.
        tv_beta: order of the total variation.

    Calling the objective on an image (B, 3, H, W) with :class:`ContentTargets` returns
    ``{"content", "style", "tv", "total"}``, each a 0-dim float32 tensor.
    """

    def __init__(self, network: LossNetwork, styles: Sequence[Tensor], blend: Sequence[float], *,
                 content_weight: float, style_weight: float, tv_weight: float, tv_beta: float):
        self.extractor = network.extractor
        self.content_layers = network.content_layers
        self.content_weight, self.style_weight = content_weight, style_weight
        self.tv_weight, self.tv_beta = tv_weight, tv_beta
        self.style_grams = self.gram_targets(styles, blend, network.style_layers)
        self.style_scales = {n: w / mean_square(self.style_grams[n]) for n, w in network.style_layers.items()}

    @torch.no_grad()
    def gram_targets(self, styles: Sequence[Tensor], blend: Sequence[float],
                     layers: Mapping[str, float]) -> Dict[str, Tensor]:
        """``{layer: sum_k blend_k * G(F_l(style_k))}``, each (1, C_l, C_l)."""
        targets = {name: 0 for name in layers}
        for weight, image in zip(blend, styles):
            feats = self.extractor(image)
            for name in layers:
                targets[name] = targets[name] + weight * losses.gram_matrix(feats[name])
        return targets

    @torch.no_grad()
    def content_targets(self, image: Tensor) -> ContentTargets:
        """The content features of ``image`` (B, 3, H, W) in [0, 1] and their scales."""
        feats = self.extractor(image)
        features = {n: feats[n].clone() for n in self.content_layers}
        scales = {n: w / mean_square(features[n]) for n, w in self.content_layers.items()}
        return ContentTargets(features, scales)

    def __call__(self, image: Tensor, targets: ContentTargets) -> Dict[str, Tensor]:
        return self.terms(self.extractor(image), image, targets)

    def terms(self, feats: Mapping[str, Tensor], image: Tensor, targets: ContentTargets) -> Dict[str, Tensor]:
        """The loss terms from the features of ``image`` (as the extractor returns them)."""
        content = sum(s * losses.content_loss(feats[n], targets.features[n]) for n, s in targets.scales.items())
        style = sum(s * losses.style_loss(feats[n], self.style_grams[n]) for n, s in self.style_scales.items())
        tv = losses.total_variation(image, beta=self.tv_beta)
        total = self.content_weight * content + self.style_weight * style + self.tv_weight * tv
        return {"content": content, "style": style, "tv": tv, "total": total}
