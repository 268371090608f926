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
as a :class:`ContentTargets` value passed to each evaluation.

**Tiled evaluation** (:meth:`PerceptualObjective.evaluate_tiled`) gives the same values and
gradient with peak memory set by the tile, not the image (:mod:`neural_style.core.tiling` says
which crop each tile reads so that its features are exact). The content and TV terms are sums
over positions; the Gram matrix is too, so (1) one pass without a graph sums each tile's
``F F^T`` into the whole image's Gram matrices; (2) the style term and its gradient ``g_l`` with
respect to each Gram matrix follow from those; (3) one forward and backward pass per tile of
``content_part + style_weight * sum_l <g_l, F_l F_l^T / (C_l N_l)>`` adds that tile's exact
share of the image gradient.
"""

from dataclasses import dataclass
from typing import Dict, Mapping, Optional, Sequence, Tuple

import torch
from torch import Tensor

from . import losses
from .features import FeatureExtractor, build_extractor, check_layers, parse_layers
from .style_term import StyleTerm, tile_features
from .tiling import Geometry, Tile, geometry
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
        geometry: the extractor's strides and tile margin (:mod:`neural_style.core.tiling`).
    """

    extractor: FeatureExtractor
    content_layers: Dict[str, float]
    style_layers: Dict[str, float]
    weights: LoadedWeights
    geometry: Geometry


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
    return LossNetwork(extractor, c_layers, s_layers, loaded, geometry(extractor.net))


class PerceptualObjective:
    """Content + Gram style + beta-order TV, with per-layer normalisation (see module doc).

    Args:
        network: the loss network and its layers.
        styles: style images, each (1, 3, H, W) in [0, 1] on the network's device.
        blend: one weight per style image, summing to 1.
        content_weight, style_weight, tv_weight: weights of the three terms.
        tv_beta: order of the total variation.
        tile_size: compute the style targets tile by tile (0: whole images).
        octaves: the style term's octaves (1: the image alone; see :mod:`neural_style.core.style_term`).
        octave_weights: one weight per octave (default: 1/``octaves`` each).
        shape: (H, W) of the images to judge; needed with ``guides``.
        guides: None, or one region guide per style image, (1, 1, H, W) in [0, 1] at ``shape``.
        style_guides: None, or per style image None or a guide restricting it, (1, 1, h, w) at its size.

    The style term is a :class:`~neural_style.core.style_term.StyleTerm` (``objective.style``).
    Calling the objective on an image (B, 3, H, W) with :class:`ContentTargets` returns
    ``{"content", "style", "tv", "total"}``, each a 0-dim float32 tensor.
    """

    def __init__(self, network: LossNetwork, styles: Sequence[Tensor], blend: Sequence[float], *,
                 content_weight: float, style_weight: float, tv_weight: float, tv_beta: float,
                 tile_size: int = 0, octaves: int = 1, octave_weights: Optional[Sequence[float]] = None,
                 shape: Optional[Tuple[int, int]] = None,
                 guides: Optional[Sequence[Tensor]] = None, style_guides: Optional[Sequence[Optional[Tensor]]] = None):
        self.extractor = network.extractor
        self.geometry = network.geometry
        self.weights_source = network.weights.source  # the file or URL the network's weights came from
        self.content_layers = network.content_layers
        self.content_weight, self.style_weight = content_weight, style_weight
        self.tv_weight, self.tv_beta = tv_weight, tv_beta
        self.style = StyleTerm(network.extractor, network.geometry, network.style_layers, styles, blend,
                               shape or (0, 0), octaves=octaves, octave_weights=octave_weights, guides=guides,
                               style_guides=style_guides, tile_size=tile_size)

    @property
    def style_grams(self) -> Dict[str, Tensor]:
        """The first octave's (first region's) Gram targets, ``{layer: (1, C_l, C_l)}``."""
        return self.style.parts[0].targets if self.style.parts else {}

    @torch.no_grad()
    def content_targets(self, image: Tensor, tile_size: int = 0) -> ContentTargets:
        """The content features of ``image`` (B, 3, H, W) in [0, 1] and their scales; tile by
        tile with ``tile_size`` > 0 (the same features, assembled)."""
        if tile_size:
            features = self._tiled_features(image, tile_size)
        else:
            feats = self.extractor(image)
            features = {n: feats[n].clone() for n in self.content_layers}
        scales = {n: w / mean_square(features[n]) for n, w in self.content_layers.items()}
        return ContentTargets(features, scales)

    def _tiled_features(self, image: Tensor, tile_size: int) -> Dict[str, Tensor]:
        features = {}
        h, w = image.shape[-2:]
        for tile, feats in tile_features(self.extractor, self.geometry, image, tile_size, no_grad=True):
            for name in self.content_layers:
                core, stride = self._core(tile, feats[name], name, image), self.geometry.strides[name]
                if name not in features:
                    features[name] = core.new_zeros(*core.shape[:2], h // stride, w // stride)
                features[name][(..., *tile.core_slices(stride, h, w))] = core
        return features

    def __call__(self, image: Tensor, targets: ContentTargets) -> Dict[str, Tensor]:
        return self.terms(self.extractor(image), image, targets)

    def evaluate_tiled(self, image: Tensor, targets: ContentTargets, tile_size: int) -> Dict[str, Tensor]:
        """The terms of :meth:`__call__`, computed tile by tile (see module doc); when ``image``
        requires grad (and grad mode is on), the gradient of ``total`` is *accumulated into*
        ``image.grad`` here.

        Returns:
            ``{"content", "style", "tv", "total"}``, 0-dim tensors without a graph.
        """
        style, surrogate = self.style.prepare_tiled(image, 0, tile_size)
        content, grad = image.new_zeros(()), image.requires_grad and torch.is_grad_enabled()
        for tile, feats in tile_features(self.extractor, self.geometry, image, tile_size, no_grad=not grad):
            part = self._content_part(tile, feats, image, targets)
            if grad:
                (self.content_weight * part + self.style_weight * surrogate(tile, feats)).backward()
            content = content + part.detach()
        style = style + self.style.coarse_tiled(image, tile_size, self.style_weight)
        tv = losses.total_variation(image, beta=self.tv_beta)
        if grad:
            (self.tv_weight * tv).backward()
        tv = tv.detach()
        total = self.content_weight * content + self.style_weight * style + self.tv_weight * tv
        return {"content": content, "style": style, "tv": tv, "total": total}

    def _content_part(self, tile: Tile, feats, image: Tensor, targets: ContentTargets) -> Tensor:
        """This tile's share of the content term: squared differences summed over the core,
        over the whole layer's element count."""
        part = 0
        for name, scale in targets.scales.items():
            stride, (h, w) = self.geometry.strides[name], image.shape[-2:]
            target = targets.features[name][(..., *tile.core_slices(stride, h, w))]
            diff = losses.content_loss(self._core(tile, feats[name], name, image), target, reduction="sum")
            part = part + scale * diff / targets.features[name].numel()
        return part

    def _core(self, tile: Tile, features: Tensor, name: str, image: Tensor) -> Tensor:
        h, w = image.shape[-2:]
        return tile.core_of(features, self.geometry.strides[name], h, w)

    def terms(self, feats: Mapping[str, Tensor], image: Tensor, targets: ContentTargets) -> Dict[str, Tensor]:
        """The loss terms from the features of ``image`` (as the extractor returns them)."""
        content = sum(s * losses.content_loss(feats[n], targets.features[n]) for n, s in targets.scales.items())
        style = self.style.value(image, feats)
        tv = losses.total_variation(image, beta=self.tv_beta)
        total = self.content_weight * content + self.style_weight * style + self.tv_weight * tv
        return {"content": content, "style": style, "tv": tv, "total": total}
