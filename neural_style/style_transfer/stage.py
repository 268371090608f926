"""One scale of a stylize run: its shapes, memory plan, style octaves and region masks, then its objective."""

import math
from typing import List, Optional, Sequence, Tuple

import torch

from ..core.color import match_color
from ..core.objective import PerceptualObjective
from ..core.style_term import at_least
from ..core.tensors import long_side_shape, resize_to
from ..core.tiling import plan_tiles
from ..errors import InputError, setting
from ..io.decode import to_tensor
from ..settings import StylizeSettings
from .guides import Guides
from .memory import plan_memory

#: The weight of each octave a coarse-to-fine scale holds beyond ``style_octaves`` (those down to the first
#: scale's size), against 1/``style_octaves`` for each asked one: enough to keep the large structure the
#: coarse scales made without trading away the fine texture (docs/measurements.md, "Octaves").
HELD_WEIGHT = 0.25
#: The grid (px) on which :meth:`Stage.unstyled` measures distances: fine enough to follow a region's
#: edge, coarse enough to cost little at 4096 px.
REACH_BLOCK = 4


class Stage:
    """One scale's shapes, octaves and memory plan (checked at construction), then its objective.

    Args:
        network: the loss network; s: the run's settings.
        content, styles: the images as read, (1, 3, H, W) in [0, 1].
        side: this scale's long side (None: the content's own size).
        device: where the scale runs.
        several: one of several scales (style images are then not enlarged past their own size).
        source_shape: the content file's (H, W), for the size advice.
        guides: the run's region masks.
        first_side: the long side of the run's first scale: a larger scale holds the octaves down to it.
        output: the output's scale (more ``style_octaves`` than it allows is refused; a coarser scale takes
            as many as it can).

    Raises:
        InputError: more style octaves than the image allows; as :func:`plan_memory`.
        ResourceError: as :func:`plan_memory`.
    """

    def __init__(self, network, s: StylizeSettings, content: torch.Tensor, styles: Sequence[torch.Tensor],
                 side: Optional[int], device, several: bool, source_shape: Optional[Tuple[int, int]] = None,
                 guides: Optional[Guides] = None, first_side: Optional[int] = None, output: bool = True):
        self.network, self.settings, self.device, self.side = network, s, device, side
        self.content_shape, style_shapes = working_shapes(content, styles, side, s.style_scale, cap_styles=several)
        self.style_shapes = [at_least(shape, network.extractor.min_size) for shape in style_shapes]
        min_side = network.extractor.min_size  # a coarser scale than the output takes the octaves it can hold
        if not output and min(self.content_shape) < min_side:  # the first scale is too small, not the output
            h, w = self.content_shape
            raise InputError(f"scale {side} px makes the content {w}x{h} px, but the network needs at least "
                             f"{min_side} px per side: start {setting('scales')} at a larger long side "
                             f"(or use {setting('scales')} auto)")
        asked = s.style_octaves if output else min(s.style_octaves, max_octaves(self.content_shape, min_side))
        self.octaves = stage_octaves(asked, self.content_shape, first_side, min_side)
        self.octave_weights = [1.0 / asked] * asked + [HELD_WEIGHT] * (self.octaves - asked)
        self.plan = plan_memory(network.extractor, network.geometry, self.content_shape,
                                self.style_shapes, list(network.content_layers), device, tile_size=s.tile_size,
                                lbfgs_history=s.lbfgs_history, optimizer=s.optimizer, source_shape=source_shape,
                                octaves=self.octaves)
        self.content, self.styles, self.guides = content, styles, guides or Guides()

    def tiles(self) -> int:
        """How many tiles an evaluation at this scale reads."""
        tile = self.plan.tile_size
        return len(plan_tiles(*self.content_shape, tile, self.network.geometry)) if tile else 1

    def unstyled(self) -> Optional[torch.Tensor]:
        """(1, 1, H, W) float32 on this scale's device, 1 at the pixels beyond the style term's reach: where
        every region mask is black (below 1/255) at this scale, farther from every styled pixel than half
        the deepest style layer's receptive field (times 2 per held octave; measured on a grid of
        :data:`REACH_BLOCK` px, rounded up). The style gradient there is zero. None without masks, or
        when no pixel is out of reach."""
        masks = self.guides.at(self.content_shape)
        if masks is None:
            return None
        free = (torch.cat(masks).amax(0, keepdim=True) < 1 / 255).float()
        geo = self.network.geometry
        radius = (geo.stride + 2 * geo.reach + 1) // 2 * 2 ** (self.octaves - 1)
        far = out_of_reach(free, radius, REACH_BLOCK)
        return far.to(self.device) if bool(far.any()) else None

    def working_content(self) -> torch.Tensor:
        """The content image at this scale's size, on its device."""
        return resize_to(self.content, self.content_shape).to(self.device)

    def perceptual(self, blend: Sequence[float], octaves: Optional[int] = None,
                   content: Optional[torch.Tensor] = None) -> PerceptualObjective:
        """This scale's :class:`PerceptualObjective` (style targets computed here) with ``octaves``
        equally weighted (default: this scale's octaves and weights); ``content``: :meth:`working_content`,
        if already made."""
        s = self.settings
        styles = [resize_to(img, shape).to(self.device) for img, shape in zip(self.styles, self.style_shapes)]
        if s.color_mode() == "histogram":  # the styles in the content's colours, before any target
            content = self.working_content() if content is None else content
            styles = [match_color(style, content).clamp_(0, 1) for style in styles]
        guides = self.guides.at(self.content_shape)
        style_guides = self.guides.of_styles(self.style_shapes)
        return PerceptualObjective(
            self.network, styles, blend, content_weight=s.content_weight, style_weight=s.style_weight,
            tv_weight=s.tv_weight, tv_beta=s.tv_beta, tile_size=self.plan.tile_size,
            octaves=octaves or self.octaves, octave_weights=None if octaves else self.octave_weights,
            shape=self.content_shape,
            guides=None if guides is None else [g.to(self.device) for g in guides],
            style_guides=None if style_guides is None else [None if g is None else g.to(self.device)
                                                            for g in style_guides])

    def objective(self, blend: Sequence[float]):
        """(content image, loss function) at this scale: targets computed here."""
        tile = self.plan.tile_size
        content = self.working_content()
        objective = self.perceptual(blend, content=content)
        targets = objective.content_targets(content, tile)
        if tile:
            return content, lambda x: objective.evaluate_tiled(x, targets, tile)
        return content, lambda x: objective(x, targets)


def style_side(s: StylizeSettings) -> Optional[int]:
    """The long side the style images are read at: ``size * style_scale`` (None: their own)."""
    return None if s.size is None else math.ceil(s.size * s.style_scale)


def input_tensors(content_data, style_data: Sequence, s: StylizeSettings):
    """The content and style images (decoded :class:`~neural_style.io.imagedata.ImageData`) as (1, 3, H, W)
    tensors, as a run of ``s`` takes them."""
    return (to_tensor(content_data, channels=3, reduce_to=s.size),
            [to_tensor(data, channels=3, what="style image", reduce_to=style_side(s)) for data in style_data])


def out_of_reach(free: torch.Tensor, radius: int, block: int) -> torch.Tensor:
    """``free`` (1, 1, H, W) in {0, 1} where it lies more than ``radius`` px (in x and in y, rounded up to
    whole blocks of ``block`` px) from every pixel where it is 0; 0 elsewhere. Computed on the grid of
    blocks (a block holding a 0 counts as 0), so it costs (H W / block^2) (radius / block)."""
    pool = torch.nn.functional.max_pool2d
    h, w = free.shape[-2:]
    near = pool(1 - free, block, block, ceil_mode=True)  # 1 where a block holds a pixel that is not free
    k = -(-radius // block)
    near = pool(pool(near, (2 * k + 1, 1), 1, (k, 0)), (1, 2 * k + 1), 1, (0, k))
    near = near.repeat_interleave(block, -2).repeat_interleave(block, -1)[..., :h, :w]
    return free * (1 - near)


def stage_octaves(asked: int, shape: Tuple[int, int], first_side: Optional[int], min_side: int) -> int:
    """The style octaves of a scale of ``shape``: ``asked``, or more in a coarse-to-fine run (the octaves
    down to the first scale's long side, so that what the coarse scales found is held), never more than
    keep the coarsest octave's short side at ``min_side`` px.

    Raises:
        InputError: ``asked`` octaves would make the coarsest smaller than ``min_side``.
    """
    most = max_octaves(shape, min_side)
    if asked > most:
        fewer = f"{setting('style_octaves')} {most}" + (" or less" if most > 1 else "")
        raise InputError(f"{setting('style_octaves')} {asked} would make the coarsest octave of a {shape[1]}x"
                         f"{shape[0]} px image smaller than the network's {min_side} px: use {fewer}, or a "
                         f"larger {setting('size')}")
    held = 1 + math.floor(math.log2(max(shape) / first_side) + 1e-9) if first_side else 1
    return max(asked, min(held, most))


def max_octaves(shape: Tuple[int, int], min_side: int) -> int:
    """The most octaves of an image of ``shape`` whose coarsest keeps a short side of ``min_side`` px (at least 1)."""
    return 1 + max(0, math.floor(math.log2(max(min(shape), 1) / min_side) + 1e-9))


def working_shapes(content: torch.Tensor, styles: Sequence[torch.Tensor], size: Optional[int],
                   style_scale: float, cap_styles: bool = False) -> Tuple[Tuple[int, int], List[Tuple[int, int]]]:
    """(H, W) of the content and of each style image as optimised (see ``size``, ``style_scale``).

    ``cap_styles`` (every scale of a coarse-to-fine run): a style image is not upscaled past its
    own size unless ``style_scale`` > 1 asks for it."""
    content_shape = tuple(content.shape[-2:])
    style_shapes = [tuple(s.shape[-2:]) for s in styles]
    if size is not None:
        style_long = max(1, math.ceil(size * style_scale))
        sides = [min(style_long, max(s)) if cap_styles and style_scale <= 1 else style_long for s in style_shapes]
        return long_side_shape(content_shape, size), [long_side_shape(s, n) for s, n in zip(style_shapes, sides)]
    if style_scale != 1:
        style_long = max(1, math.ceil(max(content_shape) * style_scale))
        style_shapes = [long_side_shape(s, style_long) for s in style_shapes]
    return content_shape, style_shapes


def blend_weights(weights, count: int) -> List[float]:
    """The style blend weights normalised to sum 1 (None: equal).

    Raises:
        InputError: a count that does not match, or weights negative, not finite or all 0.
    """
    if weights is None:
        return [1.0 / count] * count
    weights = [float(w) for w in weights]
    if len(weights) != count:
        raise InputError(f"got {len(weights)} style blend weights for {count} style images: give one per style")
    if any(not (w >= 0 and math.isfinite(w)) for w in weights) or sum(weights) <= 0:
        raise InputError("style blend weights must be finite, >= 0 and not all 0")
    return [w / sum(weights) for w in weights]


def init_image(init, content: torch.Tensor, seed: Optional[int]) -> torch.Tensor:
    """The starting image at the content's size: ``"content"``, ``"random"`` (uniform, ``seed``) or an image."""
    if isinstance(init, str) and init == "content":
        return content.clone()
    if isinstance(init, str) and init == "random":
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        return torch.rand(content.shape, generator=generator)
    image = to_tensor(init, channels=3, what="init image")
    return resize_to(image, tuple(content.shape[-2:]))


def octave_losses(stage: Stage, image: torch.Tensor, blend: Sequence[float], octaves: int) -> List[float]:
    """The style loss of each of ``octaves`` octaves of ``image`` (at ``stage``'s shape), finest first:
    the objective's (guided) Gram loss with targets from the style images reduced by the same factor
    (:meth:`~neural_style.core.style_term.StyleTerm.octave_losses`); capped where an octave would be
    smaller than the network can see."""
    count = min(octaves, max_octaves(stage.content_shape, stage.network.extractor.min_size))
    x = image.to(stage.device)
    return stage.perceptual(blend, octaves=count).style.octave_losses(x, stage.plan.tile_size)
