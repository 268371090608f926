"""Optimisation-based style transfer (Gatys, Ecker & Bethge 2016).

The image itself is optimised to minimise

    content_weight * sum_l w_l * content_loss(F_l(x), F_l(content))
  + style_weight   * sum_l w_l * style_loss(F_l(x), sum_k b_k G(F_l(style_k)))
  + tv_weight      * total_variation(x, beta)

with F_l the VGG features at layer l, G the Gram matrix and b_k the style blend
weights. Options keep the meaning they have in jcjohnson/neural-style.
"""

import math
import os
from dataclasses import dataclass, field, replace
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch

from ..core import losses
from ..core.color import transfer_luminance
from ..core.device import available_memory, resolve_device, resolve_precision
from ..errors import InputError, ResourceError
from ..core.features import activation_bytes, build_extractor, check_layers, parse_layers
from ..io.images import long_side_shape, resize_to, to_tensor
from ..core.optimize import OPTIMIZERS, Step, optimize_image
from ..core.weights import load_weights

DEFAULT_CONTENT_LAYERS = "relu4_2"
DEFAULT_STYLE_LAYERS = "relu1_1,relu2_1,relu3_1,relu4_1,relu5_1"
INITS = ("content", "random")


@dataclass
class StylizeResult:
    """The stylised image and what the run did.

    Attributes:
        image: (1, 3, H, W) in [0, 1].
        history: per evaluation ``{"iteration", "content", "style", "tv", "total"}``.
        iterations: evaluations run.
        seconds: wall time of the optimisation loop (model loading excluded).
        stop_reason: ``"completed"``, ``"converged"``, ``"interrupted"`` or ``"non-finite"``.
        best_iteration: the evaluation ``image`` comes from (the lowest finite total loss);
            0 when no evaluation finished with a finite loss (``image`` is then the start image).
        device: the torch device used.
        precision: the network's precision: ``"fp32"``, ``"bf16"`` or ``"fp16"``.
        model: ``"vgg16"`` or ``"vgg19"``.
        weights: the file or URL of the VGG weights.
        content_size: (H, W) of the optimised image.
        style_sizes: (H, W) of each style image as used.
    """

    image: torch.Tensor
    history: List[Dict[str, float]] = field(default_factory=list)
    iterations: int = 0
    seconds: float = 0.0
    stop_reason: str = "completed"
    best_iteration: int = 0
    device: str = "cpu"
    precision: str = "fp32"
    model: str = "vgg19"
    weights: str = ""
    content_size: Tuple[int, int] = (0, 0)
    style_sizes: List[Tuple[int, int]] = field(default_factory=list)


def stylize(content, styles, **options) -> torch.Tensor:
    """Stylise ``content`` with ``styles``; returns the image, (1, 3, H, W) in [0, 1].

    Takes the arguments of :func:`run_stylize`, which also returns the losses and timings.
    """
    return run_stylize(content, styles, **options).image


def run_stylize(
    content,
    styles,
    *,
    style_blend_weights: Optional[Sequence[float]] = None,
    size: Optional[int] = 512,
    style_scale: float = 1.0,
    model: Optional[str] = None,
    weights: Optional[Union[str, os.PathLike]] = None,
    weights_format: str = "torchvision",
    pooling: str = "max",
    content_layers: Union[str, Sequence[str], Mapping[str, float]] = DEFAULT_CONTENT_LAYERS,
    style_layers: Union[str, Sequence[str], Mapping[str, float]] = DEFAULT_STYLE_LAYERS,
    content_weight: float = 1.0,
    style_weight: float = 5.0,
    tv_weight: float = 2.0,
    tv_beta: float = 2.0,
    init="content",
    original_colors: bool = False,
    optimizer: str = "lbfgs",
    lr: Optional[float] = None,
    iterations: int = 500,
    seed: Optional[int] = None,
    device: Union[str, torch.device] = "auto",
    precision: str = "auto",
    callback: Optional[Callable[[Step], None]] = None,
    download_progress: bool = True,
) -> StylizeResult:
    """Gatys et al. style transfer.

    Args:
        content: the content image: a path, PIL image, array or (1, 3, H, W) tensor in [0, 1].
        styles: one style image or a list of them (same kinds).
        style_blend_weights: one weight per style (normalised to sum 1); default equal.
        size: long side of the output in pixels; ``None`` keeps the content's size.
        style_scale: style images are resized to a long side of ``ceil(size * style_scale)``
            (with ``size=None``: ``ceil(content long side * style_scale)``; at 1 they keep their size).
        model: ``"vgg19"`` or ``"vgg16"``; ``None``: from the weights file, else vgg19.
        weights: ``"torchvision"``, a state-dict path, or ``None`` for
            ``$NEURAL_STYLE_WEIGHTS`` or else torchvision.
        weights_format: ``"torchvision"`` or ``"caffe"`` (BGR 0..255 mean-subtracted input).
        pooling: ``"max"`` or ``"avg"``.
        content_layers, style_layers: names (``"relu4_2"``), ``"name:weight,..."``
            strings, lists or ``{name: weight}`` mappings.
        content_weight, style_weight, tv_weight: weights of the three terms.
        tv_beta: order of the total variation (2: smooth, 1: edge-preserving).
        init: ``"content"``, ``"random"``, or an image (path, PIL, tensor) to start from.
        original_colors: keep the content's colours (luminance transfer).
        optimizer: ``"lbfgs"`` or ``"adam"``; ``lr``: its learning rate.
        iterations: loss evaluations.
        seed: seed of the random initialisation.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"mps"`` or a torch.device.
        precision: ``"auto"`` (bfloat16 autocast of the network on CPUs with native bfloat16,
            else float32, GPUs included), ``"fp32"``, ``"bf16"`` (CUDA: compute capability 8.0+)
            or ``"fp16"`` (GPU). Losses and Gram matrices are always computed in float32.
        callback: called after each evaluation with a :class:`neural_style.optimize.Step`.
        download_progress: show a progress bar while downloading weights.

    Returns:
        A :class:`StylizeResult`.
    """
    _check_options(size, style_scale, content_weight, style_weight, tv_weight, tv_beta, optimizer, iterations, lr)
    dev = device if isinstance(device, torch.device) else resolve_device(device)
    autocast = resolve_precision(precision, dev)
    style_list = list(styles) if isinstance(styles, (list, tuple)) else [styles]
    if not style_list:
        raise InputError("no style image given: pass at least one")
    blend = _blend_weights(style_blend_weights, len(style_list))

    content_img = to_tensor(content, channels=3, what="content image")
    style_imgs = [to_tensor(style, channels=3, what="style image") for style in style_list]
    content_shape = tuple(content_img.shape[-2:])
    style_shapes = [tuple(s.shape[-2:]) for s in style_imgs]
    if size is not None:
        style_long = max(1, math.ceil(size * style_scale))
        content_shape = long_side_shape(content_shape, size)
        style_shapes = [long_side_shape(s, style_long) for s in style_shapes]
    elif style_scale != 1:
        style_long = max(1, math.ceil(max(content_shape) * style_scale))
        style_shapes = [long_side_shape(s, style_long) for s in style_shapes]

    loaded = load_weights(weights, model, progress=download_progress)
    model = loaded.model
    c_layers = parse_layers(content_layers, "content layer")
    s_layers = parse_layers(style_layers, "style layer")
    check_layers(model, c_layers, "content layer")
    check_layers(model, s_layers, "style layer")
    extractor = build_extractor(loaded, list(c_layers) + list(s_layers), pooling=pooling,
                                weights_format=weights_format, device=dev).precision(autocast)
    _check_sizes(extractor, content_shape, style_shapes, dev)  # before any large allocation

    content_img = resize_to(content_img, content_shape)
    style_imgs = [resize_to(img, shape) for img, shape in zip(style_imgs, style_shapes)]
    init_img = _init_image(init, content_img, seed)
    content_img, init_img = content_img.to(dev), init_img.to(dev)
    with torch.no_grad():
        content_targets = {k: v.clone() for k, v in extractor(content_img).items() if k in c_layers}
        style_targets = {name: 0 for name in s_layers}
        for weight, img in zip(blend, style_imgs):
            feats = extractor(img.to(dev))
            for name in s_layers:
                style_targets[name] = style_targets[name] + weight * losses.gram_matrix(feats[name])

    # Each layer's loss is divided by the mean square of its target, so that the weights
    # mean the same for any VGG's activation scale (torchvision, Caffe, fine-tuned ones)
    # and layers contribute in proportion to their weights.
    c_layers = {n: w / mean_square(content_targets[n]) for n, w in c_layers.items()}
    s_layers = {n: w / mean_square(style_targets[n]) for n, w in s_layers.items()}

    def loss_fn(x: torch.Tensor) -> Dict[str, torch.Tensor]:
        feats = extractor(x)
        content = sum(w * losses.content_loss(feats[n], content_targets[n]) for n, w in c_layers.items())
        style = sum(w * losses.style_loss(feats[n], style_targets[n]) for n, w in s_layers.items())
        tv = losses.total_variation(x, beta=tv_beta)
        total = content_weight * content + style_weight * style + tv_weight * tv
        return {"content": content, "style": style, "tv": tv, "total": total}

    if callback is not None and original_colors:
        user_callback = callback

        def callback(step: Step) -> None:  # steps show the image as it would be written
            user_callback(replace(step, image=transfer_luminance(step.image.clamp(0, 1), content_img)))

    run = optimize_image(init_img, loss_fn, optimizer=optimizer, lr=lr, iterations=iterations,
                         callback=callback)
    image = run.image
    if original_colors:
        image = transfer_luminance(image, content_img)
    return StylizeResult(
        image=image.cpu(), history=run.history, iterations=run.iterations, seconds=run.seconds,
        stop_reason=run.stop_reason, best_iteration=run.best_iteration, device=str(dev), model=model,
        precision={None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[autocast], weights=loaded.source,
        content_size=tuple(content_img.shape[-2:]), style_sizes=[tuple(s.shape[-2:]) for s in style_imgs])


def mean_square(target: torch.Tensor) -> torch.Tensor:
    """The mean square of a loss target (detached, at least 1e-12): each layer's loss is divided
    by it, so that layer weights mean the same for any network's activation scale."""
    return target.detach().pow(2).mean().clamp(min=1e-12)


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


def _check_sizes(extractor, content: Tuple[int, int], styles: Sequence[Tuple[int, int]], device) -> None:
    """Refuse sizes the network cannot see or whose activations would not fit in memory:
    a clear error instead of a crash or an OOM kill."""
    for what, (h, w) in [("content image", content)] + [("style image", s) for s in styles]:
        if min(h, w) < extractor.min_size:
            raise InputError(f"the {what} is {w}x{h} px as used, but layer {list(extractor.net._modules)[-1]} "
                             f"needs at least {extractor.min_size} px per side: raise --size or --style-scale")
    h, w = content
    # Forward activations kept for backward, their gradients, and the L-BFGS history.
    need = 3 * activation_bytes(extractor, h, w) + 200 * 3 * h * w * 4
    need = max([need] + [activation_bytes(extractor, *s) for s in styles])
    have = available_memory(device)
    if need > have:
        raise ResourceError(f"images of {w}x{h} px (content) and {', '.join(f'{x}x{y}' for y, x in styles)} px "
                            f"(style) need about {need / 2**30:.1f} GiB on {device} but {have / 2**30:.1f} GiB "
                            "are free: use a smaller --size or --style-scale")
