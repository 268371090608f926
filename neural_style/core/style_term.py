"""The style term of the perceptual objective, over octaves and regions (Gatys et al. 2017).

For an image x (B, 3, H, W) in [0, 1], O octaves and K guides (regions),

    style(x) = sum_o  u_o  sum_k  w_k  sum_l  a_okl * v_l / ms(T_okl) * mse(G_l(x_o; m_okl), T_okl)

* ``x_o``: x downsampled by 2^o (:func:`downsample`, antialiased); octave 0 is x itself
  (Snelgrove, "High-Resolution Multi-Scale Neural Texture Synthesis", 2017: the pyramid inside
  the graph, each octave with its own targets); ``u_o`` the octave's weight: 1/O each by default
  (the mean over the octaves).
* ``G_l(x; m) = sum_p m_p F_p F_p^T / (C_l sum_p m_p)``: the *guided* Gram matrix of layer l
  (Gatys, Ecker, Bethge, Hertzmann & Shechtman, "Controlling Perceptual Factors in Neural Style
  Transfer", CVPR 2017, Sec. 3), with ``m_okl`` guide k carried to layer l's grid at octave o
  by area averaging (plain resizing). The guide weights each position linearly, so a grey
  pixel counts half and the Gram matrix stays a sum over positions: exact under tiling.
  Without guides, ``m = 1`` and ``G_l`` is :func:`~neural_style.core.losses.gram_matrix`.
* ``a_okl = mean_p m_okl``: the region's share of the layer, so that the per-position pull of
  a region equals that of a one-style run (a white guide gives exactly the plain term).
* ``T_okl``: without guides, the blend ``sum_j b_j G_l(s_j,o)`` of the style images s_j at
  octave o; with guides, ``G_l(s_k,o; n_k)``, style image k restricted by its own optional guide
  ``n_k`` (the sky of one painting).
* ``w_k``: 1 without guides; with guides, ``K b_k`` (equal blend weights: each region styled as
  strongly as a one-style run).
* ``ms(T)``: the mean square of the target (:func:`~neural_style.core.objective.mean_square`).
"""

import math
from dataclasses import dataclass
from typing import Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from . import losses
from .tiling import Geometry, Tile, plan_tiles


def downsample(image: Tensor, octave: int) -> Tensor:
    """``image`` (B, C, H, W) reduced by 2^``octave`` on each side (rounded, at least 1 px):
    antialiased bilinear (:func:`torch.nn.functional.interpolate` with ``antialias=True``, the
    reduction Pillow's BILINEAR makes); ``octave`` 0 returns ``image`` itself. Differentiable."""
    return resized(image, _octave_shape(tuple(image.shape[-2:]), octave))


def octave_count(long_side: int, smallest: int = 128) -> int:
    """How many octaves of an image of ``long_side`` px keep a long side of at least ``smallest``
    px (512: 3, 1024: 4; at least 1)."""
    return max(1, 1 + math.floor(math.log2(max(long_side, 1) / smallest) + 1e-9))


def at_least(shape: Tuple[int, int], side: int) -> Tuple[int, int]:
    """``shape`` enlarged (aspect kept) until its short side reaches ``side`` (a style image only
    gives statistics: enlarged rather than refused)."""
    if min(shape) >= side:
        return tuple(shape)
    scale = side / min(shape)
    return max(side, math.ceil(shape[0] * scale)), max(side, math.ceil(shape[1] * scale))


@dataclass
class _Part:
    """One (octave, guide) pair: per layer its target, scale and guide on the layer's grid."""

    octave: int
    targets: Dict[str, Tensor]
    scales: Dict[str, Tensor]
    guides: Optional[Dict[str, Tensor]]  # {layer: (1, 1, H_l, W_l)}, None: every position weighs 1


class StyleTerm:
    """The style term above for one image shape (see module doc).

    Args:
        extractor, geometry: the loss network's feature extractor and its tiling geometry.
        layers: ``{style layer: weight v_l}``.
        styles: style images, each (1, 3, H, W) in [0, 1] on the network's device.
        blend: one weight per style image, summing to 1.
        shape: (H, W) of the images the term will judge (guides are carried to it).
        octaves: O >= 1.
        octave_weights: ``u_o``, one per octave (default: 1/O each).
        guides: None, or one guide per style image, each (1, 1, H, W) in [0, 1] at ``shape``.
        style_guides: None, or per style image None or a (1, 1, h, w) guide at that style's size.
        tile_size: compute the targets tile by tile (0: whole images).

    Raises:
        ValueError: a guide count that does not match the style images (callers check inputs first).
    """

    def __init__(self, extractor, geometry: Geometry, layers: Mapping[str, float], styles: Sequence[Tensor],
                 blend: Sequence[float], shape: Tuple[int, int], *, octaves: int = 1,
                 octave_weights: Optional[Sequence[float]] = None, guides: Optional[Sequence[Tensor]] = None,
                 style_guides: Optional[Sequence[Optional[Tensor]]] = None, tile_size: int = 0):
        if guides is not None and len(guides) != len(styles):
            raise ValueError(f"expected one guide per style image ({len(styles)}), got {len(guides)}")
        self.extractor, self.geometry, self.layers = extractor, geometry, dict(layers)
        self.shape, self.octaves = tuple(shape), octaves
        self.weights = [1.0 / octaves] * octaves if octave_weights is None else [float(u) for u in octave_weights]
        if len(self.weights) != octaves:
            raise ValueError(f"expected {octaves} octave weights, got {len(self.weights)}")
        self.parts: List[_Part] = []
        for octave in range(octaves):
            self.parts += self._octave_parts(octave, styles, blend, guides, style_guides, tile_size)

    def _octave_parts(self, octave, styles, blend, guides, style_guides, tile_size) -> List[_Part]:
        min_side = self.extractor.min_size
        reduced = [downsample(s, octave) for s in styles]
        scaled = [resized(s, at_least(tuple(s.shape[-2:]), min_side)) for s in reduced]
        shape = _octave_shape(self.shape, octave)
        owns = [None if style_guides is None or style_guides[k] is None else
                self.layer_guides(resized(style_guides[k], tuple(style.shape[-2:])), tuple(style.shape[-2:]))
                for k, style in enumerate(scaled)]  # each style image restricted to its own region
        if guides is None:
            grams = [self.grams(style, tile_size, own) for style, own in zip(scaled, owns)]
            targets = {n: sum(b * g[n] for b, g in zip(blend, grams)) for n in self.layers}
            return [self._part(octave, targets, None, 1.0)]
        parts = []
        for k, (style, guide, own) in enumerate(zip(scaled, guides, owns)):
            layer_guides = self.layer_guides(resized(guide, shape), shape)
            if not any(float(g.sum()) > 0 for g in layer_guides.values()):
                continue  # a style whose region is empty at this octave
            parts.append(self._part(octave, self.grams(style, tile_size, own), layer_guides, len(styles) * blend[k]))
        return parts

    def _part(self, octave: int, targets, guides, weight: float) -> _Part:
        scales = {}
        for name, v in self.layers.items():
            share = 1.0 if guides is None else float(guides[name].mean())  # the region's share of the layer
            ms = targets[name].detach().pow(2).mean().clamp(min=1e-12)
            scales[name] = weight * share * v / ms * self.weights[octave]
        return _Part(octave, targets, scales, guides)

    def layer_guides(self, guide: Tensor, shape: Tuple[int, int]) -> Dict[str, Tensor]:
        """``guide`` (1, 1, H, W) at ``shape`` carried to each style layer's grid by area averaging."""
        h, w = shape
        out = {}
        for name in self.layers:
            stride = self.geometry.strides[name]
            out[name] = F.interpolate(guide, size=(h // stride, w // stride), mode="area")
        return out

    @torch.no_grad()
    def grams(self, image: Tensor, tile_size: int = 0,
              guides: Optional[Mapping[str, Tensor]] = None) -> Dict[str, Tensor]:
        """Guided Gram matrices (B, C_l, C_l) of ``image`` at the style layers (plain with ``guides``
        None), of the whole image or summed tile by tile; no graph."""
        return self.grams_of(image, tile_size, [guides])[0]

    @torch.no_grad()
    def grams_of(self, image: Tensor, tile_size: int, guide_sets: Sequence[Optional[Mapping[str, Tensor]]]
                 ) -> List[Dict[str, Tensor]]:
        """:meth:`grams` for each of ``guide_sets``, from one pass over ``image``."""
        if not tile_size:
            feats = self.extractor(image)
            return [{n: guided_gram(feats[n], None if g is None else g[n]) for n in self.layers} for g in guide_sets]
        sums = [{} for _ in guide_sets]
        for tile, feats in tile_features(self.extractor, self.geometry, image, tile_size, no_grad=True):
            for name in self.layers:
                for total, guides in zip(sums, guide_sets):
                    total[name] = total.get(name, 0) + self._tile_sum(tile, feats[name], name, image, guides)
        return [{n: total[n] / self._count(total[n].shape[1], n, image, guides) for n in self.layers}
                for total, guides in zip(sums, guide_sets)]

    def _tile_sum(self, tile: Tile, features: Tensor, name: str, image: Tensor, guides) -> Tensor:
        """``sum_p m_p F_p F_p^T`` over the tile's core at layer ``name``."""
        h, w = image.shape[-2:]
        stride = self.geometry.strides[name]
        core = tile.core_of(features, stride, h, w)
        flat = core.flatten(2)
        if guides is None:
            return torch.bmm(flat, flat.transpose(1, 2))
        m = guides[name][(..., *tile.core_slices(stride, h, w))].flatten(2).to(flat.dtype)
        return torch.bmm(flat * m, flat.transpose(1, 2))

    def _count(self, channels: int, name: str, image: Tensor, guides) -> Tensor:
        """The Gram normaliser: ``C H_l W_l``, or ``C sum_p m_p`` with a guide."""
        if guides is not None:
            return channels * guides[name].sum().clamp(min=1e-12)
        stride, (h, w) = self.geometry.strides[name], image.shape[-2:]
        return channels * (h // stride) * (w // stride)

    def value(self, image: Tensor, feats: Optional[Mapping[str, Tensor]] = None) -> Tensor:
        """The style term of ``image`` (B, 3, H, W) with a graph (``feats``: the extractor's
        features of ``image`` itself, if already computed)."""
        return sum(self.octave_values(image, feats))

    def octave_values(self, image: Tensor, feats: Optional[Mapping[str, Tensor]] = None) -> List[Tensor]:
        """The style term's share of each octave, finest first (their sum is :meth:`value`)."""
        values = []
        for octave in range(self.octaves):
            x = downsample(image, octave)
            f = feats if octave == 0 and feats is not None else self.extractor(x)
            parts = [p for p in self.parts if p.octave == octave]
            values.append(sum((self._loss(p, {n: guided_gram(f[n], None if p.guides is None else p.guides[n])
                                               for n in self.layers}) for p in parts), image.new_zeros(())))
        return values

    @torch.no_grad()
    def octave_losses(self, image: Tensor, tile_size: int = 0) -> List[float]:
        """Each octave's own style loss (its share of :meth:`value` over its weight), finest first,
        without a graph; tile by tile with ``tile_size`` > 0 (the same values)."""
        if not tile_size:
            values = self.octave_values(image)
        else:
            values = [self.prepare_tiled(downsample(image, o), o, tile_size)[0] for o in range(self.octaves)]
        return [float(v) / u for v, u in zip(values, self.weights)]

    def _loss(self, part: _Part, grams: Mapping[str, Tensor]) -> Tensor:
        return sum(part.scales[n] * losses.content_loss(grams[n], part.targets[n]) for n in self.layers)

    def prepare_tiled(self, image: Tensor, octave: int, tile_size: int):
        """(value, surrogate) of one octave for tiled evaluation of ``image`` (that octave's image):
        ``value`` (0-dim, no graph) from Gram matrices summed tile by tile, and
        ``surrogate(tile, feats)``, whose gradient on a tile is that tile's exact share of the
        value's gradient (see :mod:`neural_style.core.objective`)."""
        parts = [p for p in self.parts if p.octave == octave]
        grams = [{n: g.requires_grad_(True) for n, g in gs.items()}
                 for gs in self.grams_of(image, tile_size, [p.guides for p in parts])]
        leaves = [g for gs in grams for g in gs.values()]
        with torch.enable_grad():
            value = sum((self._loss(p, g) for p, g in zip(parts, grams)), image.new_zeros(()))
            grads = torch.autograd.grad(value, leaves) if leaves else []
        grads = iter(grads)
        weights = [{n: next(grads) for n in gs} for gs in grams]

        def surrogate(tile: Tile, feats: Mapping[str, Tensor]) -> Tensor:
            return sum(((weights[i][n] * self._tile_sum(tile, feats[n], n, image, p.guides)
                        / self._count(weights[i][n].shape[1], n, image, p.guides)).sum()
                       for i, p in enumerate(parts) for n in self.layers), image.new_zeros(()))
        return value.detach(), surrogate

    def coarse_tiled(self, image: Tensor, tile_size: int, weight: float) -> Tensor:
        """The octaves after the first, tile by tile: their value (0-dim, no graph); when ``image``
        requires grad, ``weight`` x their gradient is accumulated into ``image.grad`` (through the
        downsampling: each octave's gradient is found on a leaf copy, then carried back)."""
        total = image.new_zeros(())
        grad = image.requires_grad and torch.is_grad_enabled()
        for octave in range(1, self.octaves):
            with torch.set_grad_enabled(grad):
                x = downsample(image, octave)
            leaf = x.detach().requires_grad_(grad)
            value, surrogate = self.prepare_tiled(leaf, octave, tile_size)
            if grad:
                for tile, feats in tile_features(self.extractor, self.geometry, leaf, tile_size, no_grad=False):
                    (weight * surrogate(tile, feats)).backward()
                x.backward(leaf.grad)
            total = total + value
        return total


def guided_gram(features: Tensor, guide: Optional[Tensor] = None) -> Tensor:
    """``sum_p m_p F_p F_p^T / (C sum_p m_p)``, (B, C, C), of features (B, C, H, W) with a guide
    (1 or B, 1, H, W) >= 0 on their grid; ``guide`` None: :func:`~neural_style.core.losses.gram_matrix`.
    An all-zero guide gives zeros."""
    if guide is None:
        return losses.gram_matrix(features)
    b, c = features.shape[:2]
    flat = features.reshape(b, c, -1)
    m = guide.to(flat.dtype).reshape(guide.shape[0], 1, -1)
    return torch.bmm(flat * m, flat.transpose(1, 2)) / (c * m.sum(-1, keepdim=True).clamp(min=1e-12))


def tile_features(extractor, geometry: Geometry, image: Tensor, tile_size: int,
                  no_grad: bool) -> Iterator[Tuple[Tile, Dict[str, Tensor]]]:
    """(tile, features of its crop) for every tile of ``image`` (:func:`~neural_style.core.tiling.plan_tiles`)."""
    h, w = image.shape[-2:]
    for tile in plan_tiles(h, w, tile_size, geometry):
        crop = image[..., tile.crop_rows[0]:tile.crop_rows[1], tile.crop_cols[0]:tile.crop_cols[1]]
        with torch.set_grad_enabled(not no_grad and torch.is_grad_enabled()):
            yield tile, extractor(crop)


def _octave_shape(shape: Tuple[int, int], octave: int) -> Tuple[int, int]:
    h, w = shape
    return (max(1, round(h / 2 ** octave)), max(1, round(w / 2 ** octave))) if octave else (h, w)


def resized(image: Tensor, shape: Tuple[int, int]) -> Tensor:
    """``image`` (B, C, H, W) at (H', W'): antialiased bilinear, differentiable (``image`` itself when
    already there): how octaves, style images and guides are reduced."""
    if tuple(image.shape[-2:]) == tuple(shape):
        return image
    return F.interpolate(image, size=tuple(shape), mode="bilinear", antialias=True, align_corners=False)
