"""Exact tiling of a VGG feature extractor: which crop of the image each tile reads.

Every feature of a VGG layer is a function of a bounded window of the image: with ``s`` the
layer's stride (2 per pooling before it) and ``r`` the *reach* (the sum of the strides of the
3x3 convolutions up to it: each widens the window by its stride on both sides), feature row
``i`` sees image rows ``[s*i - r, s*i + s - 1 + r]``. For VGG19 up to ``relu5_1``: s = 16,
r = 70, a 156 px receptive field.

So the image is split into *cores* on a grid aligned to the deepest layer's stride, and each
tile reads its core plus a margin of ``ceil(r / s) * s`` pixels on every side (80 px for
relu5_1), clipped where the image ends. Inside the core, every feature of every layer then
equals the feature of the whole image: the margin covers the window, crops start on the
pooling grid so the poolings pair the same pixels, and a crop that ends at the image border
ends exactly as the whole image does (same zero padding, same flooring of odd sizes).
"""

import math
from dataclasses import dataclass, field
from typing import Dict, List, Tuple

from torch import nn

from ..errors import InputError


@dataclass(frozen=True)
class Geometry:
    """Strides and reach of a truncated VGG (see module doc).

    Attributes:
        strides: ``{layer: stride}`` for every layer of the network.
        stride: the deepest layer's stride: tile cores are aligned to it.
        margin: pixels read beyond a core on each side: the reach rounded up to ``stride``.
        reach: the deepest layer's reach ``r``: its receptive field is ``stride + 2 r`` px wide.
        reaches: ``{layer: reach}`` for every layer.
    """

    strides: Dict[str, int]
    stride: int
    margin: int
    reach: int = 0
    reaches: Dict[str, int] = field(default_factory=dict)


def geometry(net: nn.Sequential) -> Geometry:
    """The :class:`Geometry` of a ``FeatureExtractor.net`` (3x3 convolutions with padding 1, ReLUs,
    2x2 poolings with stride 2)."""
    stride, reach, strides, reaches = 1, 0, {}, {}
    for name, module in net.named_children():
        if isinstance(module, nn.Conv2d):
            reach += stride * (module.kernel_size[0] // 2)
        elif isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
            stride *= 2
        strides[name], reaches[name] = stride, reach
    return Geometry(strides, stride, math.ceil(reach / stride) * stride, reach, reaches)


@dataclass(frozen=True)
class Tile:
    """One tile: its core (the pixels it owns) and its crop (what it reads), as (start, stop)
    image rows and columns."""

    rows: Tuple[int, int]
    cols: Tuple[int, int]
    crop_rows: Tuple[int, int]
    crop_cols: Tuple[int, int]

    def core_of(self, features, stride: int, height: int, width: int):
        """The core's part of the crop's features at a layer of ``stride``; ``height`` and
        ``width`` are the image's (the last core of a row or column ends where the whole
        image's features end)."""
        return features[..., self._span(self.rows, self.crop_rows, stride, height),
                        self._span(self.cols, self.crop_cols, stride, width)]

    def core_slices(self, stride: int, height: int, width: int) -> Tuple[slice, slice]:
        """Where the core's features go in the whole image's features at a layer of ``stride``."""
        return (slice(self.rows[0] // stride, _end(self.rows[1], stride, height)),
                slice(self.cols[0] // stride, _end(self.cols[1], stride, width)))

    @staticmethod
    def _span(core, crop, stride, size) -> slice:
        start = (core[0] - crop[0]) // stride
        return slice(start, start + _end(core[1], stride, size) - core[0] // stride)


def _end(stop: int, stride: int, size: int) -> int:
    return size // stride if stop >= size else stop // stride


def plan_tiles(height: int, width: int, tile_size: int, geo: Geometry) -> List[Tile]:
    """Tiles covering a ``height`` x ``width`` image with cores of about ``tile_size`` pixels
    (rounded up to the stride); one tile (the whole image) when ``tile_size`` covers it.

    Raises:
        InputError: ``tile_size`` < 1.
    """
    if tile_size < 1:
        raise InputError(f"tile size must be at least 1 pixel, got {tile_size}")
    core = math.ceil(tile_size / geo.stride) * geo.stride
    tiles = []
    for top in range(0, height, core):
        rows = (top, min(top + core, height))
        for left in range(0, width, core):
            cols = (left, min(left + core, width))
            tiles.append(Tile(rows, cols, _crop(rows, height, geo.margin), _crop(cols, width, geo.margin)))
    return tiles


def _crop(core: Tuple[int, int], size: int, margin: int) -> Tuple[int, int]:
    return max(0, core[0] - margin), min(size, core[1] + margin)
