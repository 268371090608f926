"""Optimisation-based style transfer (Gatys, Ecker & Bethge 2016).

The image itself is optimised to minimise the perceptual objective of
:mod:`neural_style.core.objective`: content loss + Gram style loss (style images blended
with weights b_k), each layer normalised by the mean square of its target, + beta-order
total variation. Options keep the meaning they have in jcjohnson/neural-style.
"""

from dataclasses import dataclass, field, replace
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch

from ..core.color import transfer_luminance
from ..core.device import PRECISION_NAMES, resolve_device, resolve_precision  # noqa: F401  (PRECISION_NAMES: re-exported)
from ..core.objective import LossNetwork, load_loss_network
from ..core.optimize import OptimizeResult, Step, optimize_image
from ..core.stop import STOPPED_EARLY, StopReason
from ..core.style_term import octave_count
from ..core.tensors import resize_to
from ..errors import InputError
from ..io.decode import IMAGE_EXTENSIONS, read_image, to_tensor
from ..io.imagedata import ImageData
from ..io.inputs import as_list, expand_folders
from ..rules import validate
from ..settings import StylizeSettings, with_overrides
from .guides import read_guides
from .luminance import CONTENT_CHROMINANCE, grey_rgb, on_luminance, with_content_chrominance
from .memory import say_tile_rounding
from .scales import fit_schedule, plan_scales
from .stage import Stage, blend_weights, init_image, input_tensors, octave_losses, style_side
from .unstyled import keep_unstyled

INITS = ("content", "random")


@dataclass
class ScaleResult:
    """One scale of a run.

    Attributes:
        long_side: the scale's long side in pixels.
        size: (H, W) of the image at this scale.
        style_sizes: (H, W) of each style image at this scale.
        iterations, seconds, stop_reason: of this scale's optimisation loop.
        tile_size: the tile cores used (0: the whole image at once); tiles: how many.
        lbfgs_history: the L-BFGS correction pairs kept (0 with Adam).
        losses: the terms of this scale's best image (empty if no evaluation was finite).
        octaves: the style term's octaves at this scale (``style_octaves``, or more: held down to the first scale).
    """

    long_side: int
    size: Tuple[int, int]
    style_sizes: List[Tuple[int, int]]
    iterations: int
    seconds: float
    stop_reason: str
    tile_size: int
    tiles: int
    lbfgs_history: int
    losses: Dict[str, float] = field(default_factory=dict)
    octaves: int = 1


@dataclass
class StylizeResult:
    """The stylised image and what the run did.

    Attributes:
        image: the output, (1, 3, H, W) float32 in [0, 1] on the CPU (with ``colors="luminance"``
            or ``original_colors``, the optimised image with the content's chrominance).
        run: the optimisation loop's :class:`~neural_style.core.optimize.OptimizeResult`
            (history, iterations, seconds, stop reason, best iteration); over several scales,
            iterations count on from scale to scale and each history entry has its ``scale``.
        device: the torch device used.
        precision: the network's precision: ``"fp32"``, ``"bf16"`` or ``"fp16"``.
        model: ``"vgg16"`` or ``"vgg19"``.
        weights: the file or URL of the VGG weights.
        content_size: (H, W) of the output.
        style_sizes: (H, W) of each style image as used at the output size.
        tile_size, lbfgs_history: as used at the output size (the last scale run).
        scales: one :class:`ScaleResult` per scale run.
        final_losses: the terms of the delivered output (``image``, as returned and written) at the output
            size: the best evaluation's, or evaluated once more where the image delivered is not the one
            evaluated (``colors="luminance"``; bounds ``"clamp-result"``, ``"penalty"``), and ``"style_octaves"``: the
            style loss of each octave of the output, finest first (:func:`style_octave_losses`) (None when the run
            stopped before the last scale finished an evaluation).
        unstyled_best_iteration: where ``style_masks`` leave pixels beyond the style's reach, the evaluation of
            the run without style whose image those pixels take (numbered on after the styled run's, as in
            ``run.history``; ``run.best_iteration`` is the styled run's); None without such a run.
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
    scales: List[ScaleResult] = field(default_factory=list)
    final_losses: Optional[Dict[str, Union[float, List[float]]]] = None
    unstyled_best_iteration: Optional[int] = None


def stylize(content, styles, settings: Optional[StylizeSettings] = None, **options) -> torch.Tensor:
    """Stylise ``content`` with ``styles``; returns the image, (1, 3, H, W) in [0, 1].

    Takes the arguments of :func:`run_stylize`, which also returns the losses and timings.
    """
    return run_stylize(content, styles, settings, **options).image


def run_stylize(content, styles, settings: Optional[StylizeSettings] = None, *,
                callback: Optional[Callable[[Step], None]] = None, download_progress: bool = True,
                network: Optional[LossNetwork] = None, start: Optional[torch.Tensor] = None,
                extra_loss: Optional[Callable[[torch.Tensor], torch.Tensor]] = None, **overrides) -> StylizeResult:
    """Gatys et al. style transfer, at one scale or coarse to fine.

    Args:
        content: the content image: a path, PIL image, array or (1, 3, H, W) tensor in [0, 1].
        styles: one style image or a list of them (same kinds).
        settings: a :class:`~neural_style.settings.StylizeSettings` (default: its defaults).
        callback: called after each evaluation with a :class:`neural_style.core.optimize.Step`
            (over several scales: iterations counted on from scale to scale, ``step.scale`` set).
        download_progress: show a progress bar while downloading weights.
        network: a loss network already loaded for these settings' layers and weights (a video
            loads it once for all frames); None: loaded here.
        start: the image to start from, (1, 3, H, W) in [0, 1] at any size (resized to each first
            scale), instead of ``settings.init`` (a video's frame starts from the previous one, warped).
        extra_loss: a term added to the objective at the output scale, a function of the image
            (1, 3, H, W) returning a 0-dim tensor (a video's temporal loss), reported as ``"extra"``.
        **overrides: fields of ``settings`` to change, e.g. ``size=256, style_weight=10``.

    With ``colors="histogram"`` each style image is recoloured to the content's RGB mean and covariance
    (:func:`~neural_style.core.color.match_color`, at each scale's working size, clamped to [0, 1]) before
    any target is computed: the style losses (each scale's, ``final_losses``, the report) are those of
    the recoloured styles.

    With ``style_masks`` black everywhere at pixels beyond the style term's reach, the run is followed by
    one without style (``style_weight=0``, the same settings) whose image is taken there (blended just
    inside the reach): such a region is what a run without style makes.

    Returns:
        A :class:`StylizeResult`. After Ctrl-C or a non-finite loss the run stops at that scale
        and ``image`` is that scale's best image upsampled to the output size.

    Raises:
        InputError: bad settings or images; ResourceError: sizes that would not fit in memory.
        TypeError: an unknown settings field.
    """
    s = with_overrides(settings, StylizeSettings, overrides)
    mode = validate(s).color_mode()
    schedule = plan_scales(s.size, s.scales, s.iterations)
    dev = s.device if isinstance(s.device, torch.device) else resolve_device(s.device)
    autocast = resolve_precision(s.precision, dev)
    content_data, style_data = read_inputs(content, styles, s)
    blend = blend_weights(s.style_blend_weights, len(style_data))
    content_img, style_imgs = input_tensors(content_data, style_data, s)
    source_shape = content_data.full_size or content_data.pixels.shape[:2]
    colour_content = content_img
    if mode == "luminance-only":  # the luminance of each, before any target (Gatys et al. 2017, Sec. 5.1)
        content_img, style_imgs = grey_rgb(content_img), [grey_rgb(img) for img in style_imgs]
    network = network or _load_network(s, dev, autocast, download_progress)
    say_tile_rounding(s.tile_size, network.geometry.stride)
    guides = read_guides(s.style_masks, s.style_image_masks, tuple(source_shape),  # the files' sizes, as the user sees them
                         [tuple(data.full_size or data.pixels.shape[:2]) for data in style_data])
    schedule = fit_schedule(schedule, tuple(content_img.shape[-2:]), network.extractor.min_size, s.scales,
                            s.iterations)
    first = schedule[0][0] if len(schedule) > 1 else None
    stages = [Stage(network, s, content_img, style_imgs, side, dev, several=len(schedule) > 1,
                    source_shape=source_shape, guides=guides, first_side=first, output=index == len(schedule) - 1)
              for index, (side, _) in enumerate(schedule)]  # every check (octaves, memory) before any large allocation
    final = stages[-1]
    planned = sum(n for _, n in schedule)
    far = final.unstyled() if planned > len(schedule) else None  # not when judging an image (1 iteration)
    unstyled_best = None
    run, image, scales = _run_scales(stages, schedule, s, blend, callback, start, extra_loss,
                                     after=0 if far is None else planned,
                                     colours=colour_content if mode in CONTENT_CHROMINANCE else None)
    if tuple(image.shape[-2:]) != final.content_shape:
        image = _upsample(image, final.content_shape)
    if far is not None and len(scales) == len(stages) and run.stop_reason not in STOPPED_EARLY:
        def without_style(change, step):
            return run_stylize(content_img, style_imgs, replace(s, **change), network=network, callback=step,
                               start=start, extra_loss=extra_loss, download_progress=False)
        run, image, unstyled_best = keep_unstyled(without_style, network.geometry.stride, far, run, image, callback)
    if mode in CONTENT_CHROMINANCE:
        image = transfer_luminance(image, resize_to(colour_content, final.content_shape).to(dev))
    done = len(scales) == len(stages) and scales[-1].losses
    final_losses = dict(scales[-1].losses) if done else None
    if done and (mode in CONTENT_CHROMINANCE or s.bounds in ("clamp-result", "penalty") or far is not None):  # not evaluated
        final_losses = evaluate_losses(image, colour_content, style_imgs, replace(s, style_octaves=final.octaves),
                                       network=network)
    if done and "style_octaves" not in final_losses:
        count = octave_count(max(final.content_shape))
        final_losses["style_octaves"] = octave_losses(final, image.clamp(0, 1), blend, count)
    return StylizeResult(
        image=image.cpu(), run=run, device=str(dev), model=network.weights.model,
        precision=PRECISION_NAMES[autocast], weights=network.weights.source, content_size=final.content_shape,
        style_sizes=final.style_shapes, tile_size=final.plan.tile_size, lbfgs_history=final.plan.lbfgs_history,
        scales=scales, final_losses=final_losses, unstyled_best_iteration=unstyled_best)


def read_inputs(content, styles, settings: StylizeSettings) -> Tuple[ImageData, List[ImageData]]:
    """The content and style images decoded, each once, as :func:`run_stylize` reads them (a style folder:
    every image in its tree; a file at least twice the size the run needs decoded at reduced size); pass
    the results to :func:`run_stylize` to read no file again.

    Raises:
        InputError: no style image, or an image that cannot be read (one line naming it).
    """
    style_list = expand_folders(styles, IMAGE_EXTENSIONS, "style")  # a folder: each image in it, as the CLI
    if not style_list:
        raise InputError("no style image given: pass at least one")
    return (read_image(content, what="content image", reduce_to=settings.size),
            [read_image(style, what="style image", reduce_to=style_side(settings)) for style in style_list])


def evaluate_losses(image, content, styles, settings: Optional[StylizeSettings] = None, *,
                    network: Optional[LossNetwork] = None, **overrides) -> Dict[str, float]:
    """The objective's terms at ``image``: what :func:`run_stylize` with these settings would report for it.

    Args:
        image: the image to judge (a path, PIL image, array or (1, 3, H, W) tensor in [0, 1]), at the
            output size of ``settings`` (else resized to it); any tool's output can be judged.
        content, styles, settings, network, **overrides: as for :func:`run_stylize` (one scale: the
            output size; ``iterations``, ``scales``, ``init`` and ``colors="luminance"`` are ignored; with
            ``colors="histogram"`` the image is judged against the recoloured styles, with
            ``"luminance-only"`` its luminance against the content's and the styles', as the run was).

    Returns:
        ``{"content": ..., "style": ..., "tv": ..., "total": ..., "style_octaves": [...]}``: the unweighted
        terms and the weighted total (floats), evaluated once, and the style loss of each octave of ``image``
        down to a long side of 128 px, finest first (:func:`style_octave_losses`).

    Raises:
        InputError: as :func:`run_stylize`.
    """
    s = with_overrides(settings, StylizeSettings, overrides)
    mode = s.color_mode()
    s = replace(s, iterations=1, scales="none", init="content", original_colors=False, bounds="project",
                colors="histogram" if mode == "histogram" else "style")
    start = to_tensor(image, channels=3, what="image").clamp(0, 1)
    if mode == "luminance-only":  # the luminance of each, as the run judged it
        content, styles = input_tensors(*read_inputs(content, styles, s), s)
        start, content, styles = grey_rgb(start), grey_rgb(content), [grey_rgb(style) for style in styles]
    result = run_stylize(content, styles, s, start=start, network=network, download_progress=False)
    return result.final_losses or {k: v for k, v in result.run.history[0].items() if k != "iteration"}


def style_octave_losses(image, styles, settings: Optional[StylizeSettings] = None, *, octaves: Optional[int] = None,
                        network: Optional[LossNetwork] = None, **overrides) -> List[float]:
    """The style loss of each octave of ``image``, finest first: the measure of whether an output holds the
    style's large structure as well as its fine texture (docs/measurements.md, "Octaves").

    Octave o compares ``image`` reduced by 2^o (antialiased) with the style images as used at the output
    size reduced by the same factor: the normalised (guided, with ``style_masks``) Gram loss at the style
    layers, each octave's targets its own (:class:`~neural_style.core.style_term.StyleTerm`).

    Args:
        image: the image to judge (any tool's output): a path, PIL image, array or (1, 3, H, W) tensor in
            [0, 1], resized to the output size of ``settings`` (``size``: 512 by default, as for a run;
            ``size=None``: its own size).
        styles: one style image or a list of them (as for :func:`run_stylize`).
        settings, **overrides: the :class:`~neural_style.settings.StylizeSettings` whose layers, weights,
            style scale, blend weights and masks define the loss (``colors`` is not applied: the styles are
            judged as given).
        octaves: how many (default: down to the last whose long side is at least 128 px: 512 px gives 3,
            1024 gives 4); never more than keep the coarsest octave as large as the network's minimum.
        network: a loss network already loaded for these settings.

    Returns:
        One float per octave, finest first.

    Raises:
        InputError: bad settings, images or ``octaves``.
    """
    s = with_overrides(settings, StylizeSettings, overrides)
    validate(s)
    dev = s.device if isinstance(s.device, torch.device) else resolve_device(s.device)
    style_list = as_list(styles)
    if octaves is not None and (isinstance(octaves, bool) or not isinstance(octaves, int) or octaves < 1):
        raise InputError(f"octaves must be a whole number of at least 1, got {octaves!r}")
    x = to_tensor(image, channels=3, what="image", reduce_to=s.size).clamp(0, 1)
    style_imgs = [to_tensor(style, channels=3, what="style image", reduce_to=style_side(s))  # as a run reads them
                  for style in style_list]
    network = network or _load_network(s, dev, resolve_precision(s.precision, dev), False)
    guides = read_guides(s.style_masks, s.style_image_masks, tuple(x.shape[-2:]),
                         [tuple(img.shape[-2:]) for img in style_imgs])
    s = replace(s, style_octaves=1, colors="style", original_colors=False)  # the styles as given
    stage = Stage(network, s, x, style_imgs, s.size, dev, several=False, guides=guides)
    count = octaves or octave_count(max(stage.content_shape))
    blend = blend_weights(s.style_blend_weights, len(style_imgs))
    return octave_losses(stage, resize_to(x, stage.content_shape), blend, count)


def _load_network(s: StylizeSettings, device, autocast, download_progress: bool) -> LossNetwork:
    return load_loss_network(s.content_layers, s.style_layers, weights=s.weights, model=s.model,
                             weights_format=s.weights_format, pooling=s.pooling, device=device,
                             autocast=autocast, download_progress=download_progress)


def _run_scales(stages: Sequence[Stage], schedule, s: StylizeSettings, blend, callback, first=None, extra=None,
                after: int = 0, colours: Optional[torch.Tensor] = None):
    """Optimise at each scale, each starting from the previous one's best image upsampled (the first from
    ``first`` resized, or ``s.init``); ``extra`` is added to the last scale's objective; ``after``: the
    iterations that follow the run (the steps are numbered out of the whole); ``colours``: the content whose
    chrominance the steps are shown with (``colors`` luminance, luminance-only)."""
    callback = with_content_chrominance(callback, colours) if colours is not None else callback
    runs, scales, image, offset = [], [], None, 0
    total = sum(iterations for _, iterations in schedule) + after
    for index, (stage, (_, iterations)) in enumerate(zip(stages, schedule)):
        try:  # the targets of a large scale take a while: Ctrl-C here keeps the previous scale's best
            content, loss_fn = stage.objective(blend)
            loss_fn = on_luminance(loss_fn) if s.color_mode() == "luminance-only" else loss_fn
            if image is not None:
                start = _upsample(image, stage.content_shape)
            elif first is not None:
                start = resize_to(first, stage.content_shape).clamp(0, 1).to(stage.device)
            else:
                start = init_image(s.init, content.cpu(), s.seed).to(stage.device)
            if extra is not None and index == len(stages) - 1:
                loss_fn = _with_extra(loss_fn, extra)
        except KeyboardInterrupt:
            if not runs:
                raise
            runs[-1].stop_reason = StopReason.INTERRUPTED
            break
        scale = (index + 1, len(stages), max(stage.content_shape)) if len(stages) > 1 else None
        step_callback = _scale_callback(callback, offset, total, scale, len(stages) > 1 or after > 0)
        run = optimize_image(start, loss_fn, optimizer=s.optimizer, lr=s.lr, iterations=iterations, bounds=s.bounds,
                             history_size=stage.plan.lbfgs_history or 1, callback=step_callback)
        content = loss_fn = step_callback = None  # this scale's targets go before the next scale's are made
        runs.append(run)
        image = run.image if run.best_iteration or image is None else start.clamp(0, 1)
        best = run.history[run.best_iteration - 1] if run.best_iteration else {}
        scales.append(ScaleResult(max(stage.content_shape), stage.content_shape, stage.style_shapes, run.iterations,
                                  run.seconds, run.stop_reason, stage.plan.tile_size, stage.tiles(),
                                  stage.plan.lbfgs_history,
                                  {k: v for k, v in best.items() if k != "iteration"}, stage.octaves))
        offset += run.iterations
        if run.stop_reason in STOPPED_EARLY:
            break
    return (runs[0] if len(stages) == 1 else _merge(runs, image)), image, scales


def _with_extra(loss_fn, extra):
    """``loss_fn`` with ``extra(x)`` added to its total (as ``"extra"``); where ``loss_fn`` accumulated
    its gradient itself (a tiled evaluation: a total without a graph), so does the extra term."""
    def evaluate(x):
        terms = loss_fn(x)
        term = extra(x)
        if terms["total"].requires_grad:
            return {**terms, "extra": term, "total": terms["total"] + term}
        term.backward()
        return {**terms, "extra": term.detach(), "total": terms["total"] + term.detach()}
    return evaluate


def _merge(runs: Sequence[OptimizeResult], image: torch.Tensor) -> OptimizeResult:
    """One OptimizeResult for several scales: iterations counted on, history entries with their scale."""
    merged, offset = OptimizeResult(image=image), 0
    for scale, run in enumerate(runs, start=1):
        merged.history += [{**h, "iteration": offset + h["iteration"], "scale": scale} for h in run.history]
        if run.best_iteration:
            merged.best_iteration = offset + run.best_iteration
        offset += run.iterations
        merged.seconds += run.seconds
    merged.iterations, merged.stop_reason = offset, runs[-1].stop_reason
    return merged


def _scale_callback(callback, offset: int, total: int, scale, numbered: bool = True):
    """The user's callback, with steps numbered over the whole run (when ``numbered``: several scales or
    an unstyled pass)."""
    if callback is None or not numbered:
        return callback

    def numbered_step(step: Step) -> None:
        callback(replace(step, iteration=offset + step.iteration, iterations=total, scale=scale))
    return numbered_step


def _upsample(image: torch.Tensor, shape: Tuple[int, int]) -> torch.Tensor:
    """Bicubic upsampling to (H, W), clamped to [0, 1]."""
    return torch.nn.functional.interpolate(image, size=shape, mode="bicubic", align_corners=False).clamp_(0, 1)
