"""Optimisation-based style transfer (Gatys, Ecker & Bethge 2016).

The image itself is optimised to minimise the perceptual objective of
:mod:`neural_style.core.objective`: content loss + Gram style loss (style images blended
with weights b_k), each layer normalised by the mean square of its target, + beta-order
total variation. Options keep the meaning they have in jcjohnson/neural-style.
"""

import math
from dataclasses import dataclass, field, replace
from typing import Callable, List, Optional, Sequence, Tuple

import torch

from ..core.color import transfer_luminance
from ..core.device import resolve_device, resolve_precision
from ..core.objective import PerceptualObjective, load_loss_network
from ..core.optimize import OPTIMIZERS, OptimizeResult, Step, optimize_image
from ..core.tiling import geometry
from ..errors import InputError
from ..io.images import long_side_shape, resize_to, to_tensor
from ..settings import StylizeSettings, with_overrides
from .memory import plan_memory

INITS = ("content", "random")
PRECISION_NAMES = {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}


@dataclass
class StylizeResult:
    """The stylised image and what the run did.

    Attributes:
        image: the output, (1, 3, H, W) float32 in [0, 1] on the CPU (with ``original_colors``,
            the optimised image with the content's colours).
        run: the optimisation loop's :class:`~neural_style.core.optimize.OptimizeResult`
            (history, iterations, seconds, stop reason, best iteration).
        device: the torch device used.
        precision: the network's precision: ``"fp32"``, ``"bf16"`` or ``"fp16"``.
        model: ``"vgg16"`` or ``"vgg19"``.
        weights: the file or URL of the VGG weights.
        content_size: (H, W) of the optimised image.
        style_sizes: (H, W) of each style image as used.
        tile_size: the tile cores used (0: the whole image at once).
        lbfgs_history: the L-BFGS correction pairs kept (0 with Adam).
    """

    image: torch.Tensor
    run: OptimizeResult
    device: str = "cpu"
    precision: str = "fp32"
    model: str = "vgg19"
    weights: str = ""
    content_size: Tuple[int, int] = (0, 0)
    style_sizes: List[Tuple[int, int]] = field(default_factory=list)
    tile_size: int = 0
    lbfgs_history: int = 0


def stylize(content, styles, settings: Optional[StylizeSettings] = None, **options) -> torch.Tensor:
    """Stylise ``content`` with ``styles``; returns the image, (1, 3, H, W) in [0, 1].

    Takes the arguments of :func:`run_stylize`, which also returns the losses and timings.
    """
    return run_stylize(content, styles, settings, **options).image


def run_stylize(content, styles, settings: Optional[StylizeSettings] = None, *,
                callback: Optional[Callable[[Step], None]] = None, download_progress: bool = True,
                **overrides) -> StylizeResult:
    """Gatys et al. style transfer.

    Args:
        content: the content image: a path, PIL image, array or (1, 3, H, W) tensor in [0, 1].
        styles: one style image or a list of them (same kinds).
        settings: a :class:`~neural_style.settings.StylizeSettings` (default: its defaults).
        callback: called after each evaluation with a :class:`neural_style.core.optimize.Step`.
        download_progress: show a progress bar while downloading weights.
        **overrides: fields of ``settings`` to change, e.g. ``size=256, style_weight=10``.

    Returns:
        A :class:`StylizeResult`.

    Raises:
        InputError: bad settings or images; ResourceError: sizes that would not fit in memory.
        TypeError: an unknown settings field.
    """
    s = with_overrides(settings, StylizeSettings, overrides)
    _check_options(s.size, s.style_scale, s.content_weight, s.style_weight, s.tv_weight, s.tv_beta,
                   s.optimizer, s.iterations, s.lr)
    _check_choice_or_count("tile size", s.tile_size, 0)
    _check_choice_or_count("lbfgs history", s.lbfgs_history, 1)
    dev = s.device if isinstance(s.device, torch.device) else resolve_device(s.device)
    autocast = resolve_precision(s.precision, dev)
    style_list = list(styles) if isinstance(styles, (list, tuple)) else [styles]
    if not style_list:
        raise InputError("no style image given: pass at least one")
    blend = _blend_weights(s.style_blend_weights, len(style_list))
    content_img = to_tensor(content, channels=3, what="content image")
    style_imgs = [to_tensor(style, channels=3, what="style image") for style in style_list]
    content_shape, style_shapes = _working_shapes(content_img, style_imgs, s.size, s.style_scale)

    network = load_loss_network(s.content_layers, s.style_layers, weights=s.weights, model=s.model,
                                weights_format=s.weights_format, pooling=s.pooling, device=dev,
                                autocast=autocast, download_progress=download_progress)
    plan = plan_memory(network.extractor, geometry(network.extractor.net), content_shape, style_shapes,
                       list(network.content_layers), dev, tile_size=s.tile_size, lbfgs_history=s.lbfgs_history,
                       optimizer=s.optimizer)  # before any large allocation

    content_img = resize_to(content_img, content_shape)
    style_imgs = [resize_to(img, shape) for img, shape in zip(style_imgs, style_shapes)]
    init_img = _init_image(s.init, content_img, s.seed)
    content_img, init_img = content_img.to(dev), init_img.to(dev)
    objective = PerceptualObjective(network, [img.to(dev) for img in style_imgs], blend,
                                    content_weight=s.content_weight, style_weight=s.style_weight,
                                    tv_weight=s.tv_weight, tv_beta=s.tv_beta, tile_size=plan.tile_size)
    targets = objective.content_targets(content_img, plan.tile_size)
    if callback is not None and s.original_colors:
        callback = _with_original_colors(callback, content_img)
    if plan.tile_size:
        def loss_fn(x):
            return objective.evaluate_tiled(x, targets, plan.tile_size)
    else:
        def loss_fn(x):
            return objective(x, targets)
    run = optimize_image(init_img, loss_fn, optimizer=s.optimizer, lr=s.lr, iterations=s.iterations,
                         history_size=plan.lbfgs_history or 1, callback=callback)
    image = transfer_luminance(run.image, content_img) if s.original_colors else run.image
    return StylizeResult(
        image=image.cpu(), run=run, device=str(dev), model=network.weights.model,
        precision=PRECISION_NAMES[autocast], weights=network.weights.source,
        content_size=tuple(content_img.shape[-2:]), style_sizes=[tuple(img.shape[-2:]) for img in style_imgs],
        tile_size=plan.tile_size, lbfgs_history=plan.lbfgs_history)


def _with_original_colors(callback: Callable[[Step], None], content: torch.Tensor) -> Callable[[Step], None]:
    """A callback whose steps show the image as it would be written (with the content's colours)."""
    def wrapped(step: Step) -> None:
        callback(replace(step, image=transfer_luminance(step.image.clamp(0, 1), content)))
    return wrapped


def _working_shapes(content: torch.Tensor, styles: Sequence[torch.Tensor], size: Optional[int],
                    style_scale: float) -> Tuple[Tuple[int, int], List[Tuple[int, int]]]:
    """(H, W) of the content and of each style image as optimised (see ``size``, ``style_scale``)."""
    content_shape = tuple(content.shape[-2:])
    style_shapes = [tuple(s.shape[-2:]) for s in styles]
    if size is not None:
        style_long = max(1, math.ceil(size * style_scale))
        return long_side_shape(content_shape, size), [long_side_shape(s, style_long) for s in style_shapes]
    if style_scale != 1:
        style_long = max(1, math.ceil(max(content_shape) * style_scale))
        style_shapes = [long_side_shape(s, style_long) for s in style_shapes]
    return content_shape, style_shapes


def _check_options(size, style_scale, content_weight, style_weight, tv_weight, tv_beta, optimizer, iterations,
                   lr=None):
    if size is not None and (not isinstance(size, int) or size < 16):
        raise InputError(f"size must be an integer of at least 16 pixels, got {size}")
    if not (style_scale > 0 and math.isfinite(style_scale)):
        raise InputError(f"style scale must be a finite number > 0, got {style_scale}")
    for name, value in (("content weight", content_weight), ("style weight", style_weight),
                        ("tv weight", tv_weight)):
        if not (value >= 0 and math.isfinite(value)):
            raise InputError(f"{name} must be a finite number >= 0, got {value}")
    if not (tv_beta > 0 and math.isfinite(tv_beta)):
        raise InputError(f"tv beta must be a finite number > 0, got {tv_beta}")
    if lr is not None and not (lr > 0 and math.isfinite(lr)):
        raise InputError(f"learning rate must be a finite number > 0, got {lr}")
    if optimizer not in OPTIMIZERS:
        raise InputError(f"unknown optimizer {optimizer!r}: expected lbfgs or adam")
    if iterations < 1:
        raise InputError(f"iterations must be at least 1, got {iterations}")


def _check_choice_or_count(name: str, value, minimum: int) -> None:
    if value == "auto":
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InputError(f"{name} must be 'auto' or an integer >= {minimum}, got {value!r}")


def _blend_weights(weights, count: int) -> List[float]:
    if weights is None:
        return [1.0 / count] * count
    weights = [float(w) for w in weights]
    if len(weights) != count:
        raise InputError(f"got {len(weights)} style blend weights for {count} style images: give one per style")
    if any(not (w >= 0 and math.isfinite(w)) for w in weights) or sum(weights) <= 0:
        raise InputError("style blend weights must be finite, >= 0 and not all 0")
    return [w / sum(weights) for w in weights]


def _init_image(init, content: torch.Tensor, seed: Optional[int]) -> torch.Tensor:
    if isinstance(init, str) and init == "content":
        return content.clone()
    if isinstance(init, str) and init == "random":
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        return torch.rand(content.shape, generator=generator)
    image = to_tensor(init, channels=3, what="init image")
    return resize_to(image, tuple(content.shape[-2:]))
