"""How much memory a stylize run needs, and the tile size and L-BFGS history that fit.

Checked before any large allocation, so that a size that cannot fit is one line instead of a
crash or an out-of-memory kill. The estimate counts, in bytes:

* the image-sized tensors: the image, its gradient, the best image, the start and content
  images and the TV's temporaries (:data:`IMAGE_COPIES` float32 copies), plus the content
  targets (the content layers' features of the whole image);
* the network's activations, kept for the backward pass, and their gradients
  (:data:`ACTIVATION_FACTOR` x one forward pass) of the whole image, or of one tile's crop;
* the L-BFGS history: two image-sized vectors per correction pair.
"""

import math
import warnings
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple, Union

from ..core.device import HEADROOM, available_memory
from ..core.features import FeatureExtractor, activation_bytes
from ..core.tensors import long_side_shape
from ..core.tiling import Geometry
from ..errors import InputError, Message, ResourceError, format_bytes, setting
from ..settings import LBFGS_HISTORY

#: Float32 image-sized tensors besides the optimiser's history (see module doc).
IMAGE_COPIES = 12
#: Forward activations, their gradients and workspace, in forward passes.
ACTIVATION_FACTOR = 3
#: L-BFGS correction pairs when memory allows (:data:`neural_style.settings.LBFGS_HISTORY`).
MAX_HISTORY = LBFGS_HISTORY
#: Fewer pairs than this make L-BFGS little better than gradient descent: refuse instead.
MIN_HISTORY = 5
#: Tile cores tried by ``tile_size="auto"``, largest first (pixels; rounded to the stride).
AUTO_TILES = (2048, 1536, 1024, 768, 512, 384, 256, 128)


@dataclass(frozen=True)
class MemoryPlan:
    """The tile size (0: whole image) and L-BFGS history (0 for Adam) a run uses, and its estimate."""

    tile_size: int
    lbfgs_history: int
    need_bytes: int


def plan_memory(extractor: FeatureExtractor, geo: Geometry, content: Tuple[int, int],
                styles: Sequence[Tuple[int, int]], content_layers: Sequence[str], device, *,
                tile_size: Union[int, str] = "auto", lbfgs_history: Union[int, str] = "auto",
                optimizer: str = "lbfgs", source_shape: Optional[Tuple[int, int]] = None,
                octaves: int = 1) -> MemoryPlan:
    """Choose the tile size and history that fit in the free memory of ``device``.

    ``tile_size="auto"`` tiles only when the whole image would not fit, then takes the largest
    core of :data:`AUTO_TILES` that does; ``lbfgs_history="auto"`` takes up to
    :data:`MAX_HISTORY` pairs in what is left. ``source_shape``, the content file's (H, W), gives
    the aspect for the ``--size`` advice when the content is too small (the working shape's
    rounding loses it for very thin images). ``octaves``: the style term's octaves (whole-image
    evaluation keeps each octave's activations too: 1 + 1/4 + 1/16 + ... forward passes).

    Raises:
        InputError: an image smaller than the deepest layer needs.
        ResourceError: nothing fits (the message names the sizes and the memory).
    """
    _check_min_size(extractor, content, styles, source_shape or content)
    have = int(available_memory(device) * HEADROOM)
    tiles = [0] + [t for t in AUTO_TILES if t < max(content)] if tile_size == "auto" else [int(tile_size)]
    pairs = MAX_HISTORY if lbfgs_history == "auto" else int(lbfgs_history)
    per_pair = 2 * 3 * content[0] * content[1] * 4 if optimizer == "lbfgs" else 0
    least = None  # the smallest need of the plans tried, with at least MIN_HISTORY pairs
    least_base = None  # the smallest need without the history
    for tile in tiles:
        base = _base_bytes(extractor, geo, content, styles, content_layers, tile, octaves)
        least_base = base if least_base is None else min(least_base, base)
        fit = pairs if lbfgs_history != "auto" or not per_pair else min(pairs, max(0, (have - base) // per_pair))
        need = base + fit * per_pair
        if need <= have and (not per_pair or fit >= MIN_HISTORY):
            return MemoryPlan(tile, fit if per_pair else 0, need)
        smallest = base + max(fit, MIN_HISTORY if lbfgs_history == "auto" else fit) * per_pair
        least = smallest if least is None else min(least, smallest)
    size_ = setting("size")
    advice = f"a smaller {size_}, {setting('tile_size')} auto" if tile_size == 0 else f"a smaller {size_}"
    room = (have - least_base) // per_pair if per_pair else 0
    if lbfgs_history != "auto" and per_pair and room >= MIN_HISTORY:  # only the asked history does not fit
        advice = f"{setting('lbfgs_history')} {room} or less (or auto), a smaller {size_}"
    raise ResourceError(_too_large(content, styles, least, have, device, advice))


def say_tile_rounding(tile_size, stride: int) -> None:
    """A warning when a given ``tile_size`` is not what the tiles get: cores are whole multiples of the
    deepest layer's ``stride`` (:func:`~neural_style.core.tiling.plan_tiles` rounds up)."""
    if isinstance(tile_size, int) and tile_size > 0 and tile_size % stride:
        used = -(-tile_size // stride) * stride
        warnings.warn(Message(f"{setting('tile_size')} {tile_size} is used as {used}: tile cores are whole multiples "
                              f"of the deepest layer's stride ({stride} px)"), UserWarning, stacklevel=3)


def _base_bytes(extractor, geo: Geometry, content, styles, content_layers, tile: int, octaves: int = 1) -> int:
    h, w = content
    images = IMAGE_COPIES * 3 * h * w * 4
    targets = sum(extractor_channels(extractor, name) * (h // geo.strides[name]) * (w // geo.strides[name]) * 4
                  for name in content_layers)
    if tile:
        crop = [min(size, tile + 2 * geo.margin) for size in content]
        network = ACTIVATION_FACTOR * activation_bytes(extractor, *crop)
        style = max(activation_bytes(extractor, min(sh, tile + 2 * geo.margin), min(sw, tile + 2 * geo.margin))
                    for sh, sw in styles)
    else:
        pyramid = sum(4.0 ** -o for o in range(octaves))
        network = int(ACTIVATION_FACTOR * activation_bytes(extractor, h, w) * pyramid)
        style = max(activation_bytes(extractor, *s) for s in styles)
    return images + targets + max(network, style)


def extractor_channels(extractor: FeatureExtractor, name: str) -> int:
    """Channels of the feature ``name``: those of the last convolution up to it."""
    channels = 3
    for layer, module in extractor.net.named_children():
        channels = getattr(module, "out_channels", channels)
        if layer == name:
            return channels
    raise KeyError(name)


def _check_min_size(extractor: FeatureExtractor, content, styles, source) -> None:
    """The content's short side must reach the deepest layer's minimum (style images are enlarged to it)."""
    h, w = content
    need = extractor.min_size
    if min(h, w) < need:
        size = _smallest_size(source, need)
        advice = f"use {setting('size')} {size} or more"
        if size > 64 * need:  # a thin strip, where a huge --size is rarely what is wanted
            advice += ", or crop or pad the image to a less extreme shape"
        raise InputError(f"the content image is {w}x{h} px as used, but layer {list(extractor.net._modules)[-1]} "
                         f"needs at least {need} px per side: {advice}")
    for h, w in styles:
        if min(h, w) < need:
            raise InputError(f"a style image is {w}x{h} px as used, but the network needs at least {need} px "
                             f"per side: raise {setting('style_scale')}")


def _smallest_size(source: Tuple[int, int], need: int) -> int:
    """The smallest ``--size`` (long side) at which an image of shape ``source`` has ``need`` px per side."""
    size = max(need, math.floor((need - 0.5) * max(source) / min(source)))
    while min(long_side_shape(source, size)) < need:
        size += 1
    return size


def _too_large(content, styles, need: int, have: int, device, advice: str) -> str:
    h, w = content
    return (f"images of {w}x{h} px (content) and {', '.join(f'{x}x{y}' for y, x in styles)} px (style) need "
            f"about {format_bytes(need)} on {device} but {format_bytes(have / HEADROOM)} are free: use "
            f"{advice} or {setting('style_scale')}")
