"""The settings of every command: one dataclass each, the single source of every default.

The Python API (``run_stylize``, ``run_denoise``, ``train``, ``transfer``) takes these
dataclasses, or their fields as keyword arguments, and the command line takes its option
defaults from them (``tests/test_settings.py`` checks that the two agree). This module
imports nothing heavy, so ``neural-style --help`` stays fast.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence, Union

# The values each choice accepts and the bounds (also the command line's choices and core's checks).
from .core.choices import (  # noqa: F401  (re-exported: settings.OPTIMIZERS is public)
    BOUNDS,
    COLORS,
    COUPLINGS,
    DEFAULT_LR,
    DENOISE_OPTIMIZERS,
    FIDELITIES,
    LBFGS_HISTORY,
    MAX_EMA_DECAY,
    MAX_SEED,
    MAX_SIGMA,
    MAX_STYLE_OCTAVES,
    MAX_TV_BETA,
    MIN_SIZE,
    MODELS,
    OPTIMIZERS,
    POOLINGS,
    PRECISIONS,
    REGULARIZERS,
    WEIGHTS_FORMATS,
)
from .errors import InputError, setting
from .rules import choice, count, counts, flag, number, numbers, rule, with_overrides  # noqa: F401

#: ``auto`` (CUDA, then MPS, then CPU), ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
DEFAULT_DEVICE = "auto"

#: stylize's loss evaluations of a single scale when ``iterations`` is None (jcjohnson's
#: -num_iterations 1000 halved).
STYLIZE_ITERATIONS = 500
#: The default schedule of several scales: the first, the middle ones and the last. The last
#: scale costs the most per iteration; 200 there bring its finest octave and content loss to
#: those of a single scale's 500 (docs/measurements.md, "Octaves").
SCALE_ITERATIONS = (300, 150, 200)

#: denoise's iteration limit when ``iterations`` is None, by regularizer, then solver (tgv and nltv are
#: solved by primal-dual only). TGV needs more than ROF: its plain Chambolle-Pock is strongly convex in x only.
DENOISE_ITERATIONS_BY_REGULARIZER = {
    "tv": {"primal-dual": 300, "lbfgs": 500, "adam": 500},
    "tgv": {"primal-dual": 2000},
    "nltv": {"primal-dual": 300},
}
#: denoise's iteration limit when ``iterations`` is None, per solver, for ``regularizer="tv"``.
DENOISE_ITERATIONS = DENOISE_ITERATIONS_BY_REGULARIZER["tv"]


def denoise_iterations(regularizer: str = "tv", optimizer: str = "primal-dual") -> int:
    """denoise's iteration limit when ``iterations`` is None (:data:`DENOISE_ITERATIONS_BY_REGULARIZER`).

    Args:
        regularizer: ``"tv"``, ``"tgv"`` or ``"nltv"``.
        optimizer: the solver that runs: ``"primal-dual"``, ``"lbfgs"`` or ``"adam"`` (not ``"auto"``).

    Raises:
        KeyError: a regularizer or solver without a limit (tgv and nltv run primal-dual only).
    """
    return DENOISE_ITERATIONS_BY_REGULARIZER[regularizer][optimizer]


#: denoise's Adam learning rate (pixels in [0, 1]; its steps are sums over the image).
DENOISE_ADAM_LR = 0.01

# The rules several settings share, each written once.
#: A loss weight (content, style, TV, temporal): any finite number >= 0.
WEIGHT = rule(number(0))
#: A time in a clip, in seconds (the command line also takes ``MM:SS`` and ``HH:MM:SS``).
START = rule(number(0))
DURATION = rule(number(0, strict=True, none=True))
FRAME_COUNT = rule(count(1, none=True))
#: The order beta of a total variation: > 0 and at most :data:`MAX_TV_BETA`.
TV_BETA = rule(number(0, strict=True, maximum=MAX_TV_BETA))
#: A long side in pixels, or None (the input's own size).
SIZE = rule(count(MIN_SIZE, none=True))
#: The loss network, or None (what the weights file holds).
MODEL = rule(choice(MODELS, none=True))
#: How a weights file expects its input.
WEIGHTS_FORMAT = rule(choice(WEIGHTS_FORMATS))

#: Layers by name with optional weights: ``"relu4_2"``, ``"relu1_1:0.5,relu2_1"``, a list of
#: names or a ``{name: weight}`` mapping.
LayerSpec = Union[str, Sequence[str], Mapping[str, float]]


@dataclass
class StylizeSettings:
    """Settings of Gatys et al. style transfer (``neural-style stylize``).

    Attributes:
        size: long side of the output in pixels; ``None`` keeps the content's size.
        iterations: loss evaluations: one number (of each scale), one per scale, or None (500 for
            one scale; 300, 150, ..., 200 over several: ``style_transfer.scales``).
        scales: ``"none"`` (one scale), ``"auto"`` (from 256 px to ``size`` by sqrt(2)) or
            increasing long sides (``size`` is added when they stop below it); None (the default):
            ``"auto"`` for an image with a ``size``, ``"none"`` for a clip's frames or ``size=None``
            (chosen by the style loss per octave: docs/measurements.md, "Octaves").
        optimizer: ``"lbfgs"`` (strong-Wolfe line search) or ``"adam"``.
        lr: the optimizer's learning rate; ``None``: 1 for L-BFGS, 0.02 for Adam.
        content_weight, style_weight, tv_weight: weights of the three terms (>= 0).
        tv_beta: order of the total variation (2: smooth, 1: edge-preserving ROF).
        content_layers, style_layers: see :data:`LayerSpec`.
        style_blend_weights: one weight per style image (normalised to sum 1); ``None``: equal.
        style_scale: style images get a long side of ``ceil(size * style_scale)`` (with
            ``size=None``: of the content's long side; at 1 they keep their size).
        init: ``"content"``, ``"random"`` (uniform noise, ``seed``) or an image (path, PIL, tensor).
        original_colors: keep the content's colours (YUV luminance transfer): the same as
            ``colors="luminance"`` (which :meth:`color_mode` then reads); refused with another ``colors``.
        colors: whose colours the result has: ``"style"`` (the style images'), ``"luminance"`` (the
            content's: the result's luminance with the content's chrominance, after the run),
            ``"luminance-only"`` (the content's: the luminance of the content stylised with the luminance of
            the styles, then given the content's chrominance; Gatys et al. 2017, Sec. 5.1) or
            ``"histogram"`` (the content's: each style image recoloured to the content's RGB mean and
            covariance before the run, :func:`~neural_style.core.color.match_color`). docs/stylize.md, "Colour".
        model: ``"vgg19"`` or ``"vgg16"``; ``None``: what the weights file holds, else vgg19.
        weights: ``"torchvision"``, a state-dict path, or ``None`` for ``$NEURAL_STYLE_WEIGHTS``
            (else torchvision).
        weights_format: ``"torchvision"`` or ``"caffe"`` (BGR 0..255 mean-subtracted input).
        pooling: ``"max"`` or ``"avg"``.
        seed: seed of ``init="random"``.
        device: see :data:`DEFAULT_DEVICE`.
        precision: the loss network's precision: ``"auto"`` (bf16 autocast on CPUs with native
            bf16, else fp32), ``"fp32"``, ``"bf16"`` or ``"fp16"`` (GPU). Losses stay fp32.
        tile_size: evaluate the objective exactly, tile by tile, with cores of this many pixels
            (peak memory follows the tile, not the image); ``"auto"``: only when the whole image
            would not fit; 0: never.
        lbfgs_history: L-BFGS correction pairs; ``"auto"``: up to 100, as memory allows.
        bounds: how the image is kept in [0, 1] while it is optimised (:mod:`neural_style.core.bounds`):
            ``"project"`` (every evaluation sees the image as it will be written, so the losses reported
            are the written image's), ``"sigmoid"``, ``"penalty"`` or ``"clamp-result"`` (jcjohnson's:
            unconstrained, only the result clamped). docs/measurements.md, "Bounds".
        style_octaves: the style term is the mean over this many octaves of the image's pyramid (each
            halving the size, with the style images halved too; Snelgrove 2017), so large structure and
            fine texture are held together; a coarse-to-fine run holds at least the octaves down to its
            first scale (:mod:`neural_style.core.style_term`).
        style_masks: None, or one mask per style image in the content's frame (paths, PIL images, arrays
            or tensors; white: that style, grey: partly, black: not; where every mask is black the content
            stays as it is): guided Gram matrices (Gatys et al. 2017; :mod:`neural_style.style_transfer.guides`).
        style_image_masks: None, or one mask per style image (an entry may be None) in that style image's
            frame: only its white part gives the style.
    """

    size: Optional[int] = field(default=512, metadata=SIZE)
    iterations: Union[None, int, Sequence[int]] = field(default=None, metadata=rule(counts(1, none=True)))
    scales: Union[None, str, Sequence[int]] = field(default=None, metadata=rule(counts(MIN_SIZE, none=True,
                                                                                     words=("none", "auto"))))
    optimizer: str = field(default="lbfgs", metadata=rule(choice(OPTIMIZERS)))
    lr: Optional[float] = field(default=None, metadata=rule(number(0, strict=True, none=True)))
    content_weight: float = field(default=1.0, metadata=WEIGHT)
    style_weight: float = field(default=5.0, metadata=WEIGHT)
    tv_weight: float = field(default=2.0, metadata=WEIGHT)
    tv_beta: float = field(default=2.0, metadata=TV_BETA)
    content_layers: LayerSpec = "relu4_2"
    style_layers: LayerSpec = "relu1_1,relu2_1,relu3_1,relu4_1,relu5_1"
    style_blend_weights: Optional[Sequence[float]] = field(default=None, metadata=rule(numbers(0, none=True)))
    style_scale: float = field(default=1.0, metadata=rule(number(0, strict=True)))
    init: Any = "content"
    original_colors: bool = field(default=False, metadata=rule(flag()))
    model: Optional[str] = field(default=None, metadata=MODEL)
    weights: Optional[str] = None
    weights_format: str = field(default="torchvision", metadata=WEIGHTS_FORMAT)
    pooling: str = field(default="max", metadata=rule(choice(POOLINGS)))
    seed: Optional[int] = field(default=None, metadata=rule(count(0, maximum=MAX_SEED, none=True)))
    device: str = DEFAULT_DEVICE
    precision: str = field(default="auto", metadata=rule(choice(PRECISIONS)))
    tile_size: Union[int, str] = field(default="auto", metadata=rule(count(0, words=("auto",))))
    lbfgs_history: Union[int, str] = field(default="auto", metadata=rule(count(1, words=("auto",))))
    bounds: str = field(default="project", metadata=rule(choice(BOUNDS)))
    style_octaves: int = field(default=1, metadata=rule(count(1, maximum=MAX_STYLE_OCTAVES)))
    style_masks: Optional[Sequence[Any]] = None
    style_image_masks: Optional[Sequence[Any]] = None
    colors: str = field(default="style", metadata=rule(choice(COLORS)))

    def color_mode(self) -> str:
        """``colors``, with ``original_colors`` read as ``"luminance"``.

        Raises:
            InputError: ``original_colors`` with ``colors`` other than ``"style"`` or ``"luminance"``: two
                different colour modes.
        """
        if self.original_colors and self.colors not in ("style", "luminance"):
            raise InputError(f"{setting('original_colors')} is {setting('colors')} luminance and cannot be "
                             f"combined with {setting('colors')} {self.colors}: choose one")
        return "luminance" if self.original_colors else self.colors

    def check_together(self) -> None:
        """Settings valid alone but not together (:func:`~neural_style.rules.validate` calls it)."""
        self.color_mode()


@dataclass
class StylizeOutputs:
    """What ``stylize`` writes besides the output image.

    Attributes:
        bit_depth: 8, 16 (a ``.png`` or ``.tif`` output) or ``"auto"``: 16 when the content and every
            style image are 16-bit and the output format holds it, else 8.
        save_every: also write ``OUT-NNNN.ext`` every N iterations (0: never).
        animation: write the optimisation as ``.gif`` or ``.mp4`` (at most ~100 frames, 10 fps).
        report: write settings, device, losses and timings as JSON.
    """

    bit_depth: Union[int, str] = field(default="auto", metadata=rule(choice(("auto", 8, 16))))
    save_every: int = field(default=0, metadata=rule(count(0)))
    animation: Optional[Path] = None
    report: Optional[Path] = None


#: Video stylize defaults (docs/video.md): the temporal loss weight, and loss evaluations of every
#: frame after the first (which starts from the previous result warped, so it needs fewer).
TEMPORAL_WEIGHT = 20.0
VIDEO_ITERATIONS = 150


@dataclass
class VideoSettings:
    """How ``stylize`` treats a video or an animated image as content (Ruder, Dosovitskiy & Brox 2016).

    Attributes:
        temporal_weight: weight of the short-term temporal loss ``mean(c * (x - warp(prev))^2)``, where
            ``warp(prev)`` is the previous output frame warped by the input's optical flow and c is 0 at
            disocclusions and motion boundaries (0: every frame on its own, from its content).
        first_frame_iterations: loss evaluations of the first frame (None: a still image's default);
            later frames take ``StylizeSettings.iterations`` (None: :data:`VIDEO_ITERATIONS`).
        start, duration, frames: the part of a video to stylise: from ``start`` seconds, for ``duration``
            seconds (None: to the end), at most ``frames`` frames (None: all); its audio comes along.
    """

    temporal_weight: float = field(default=TEMPORAL_WEIGHT, metadata=WEIGHT)
    first_frame_iterations: Optional[int] = field(default=None, metadata=rule(count(1, none=True)))
    start: float = field(default=0.0, metadata=START)
    duration: Optional[float] = field(default=None, metadata=DURATION)
    frames: Optional[int] = field(default=None, metadata=FRAME_COUNT)


@dataclass
class DenoiseSettings:
    """Settings of beta-order TV denoising (``neural-style denoise``).

    Attributes:
        regularizer: ``"tv"`` (beta-order total variation) or ``"tgv"`` (total generalised
            variation of order 2, Bredies et al. 2010: no staircases on smooth shading; with
            alpha1 = lambda, alpha0 = 2 lambda; beta 1 and l2 fidelity only) or ``"nltv"`` (non-local
            TV, Gilboa & Osher 2008: differences to the most similar patches in a window, which
            keeps texture; beta 1 and l2 fidelity only).
        tv_beta: order of the total variation (1: ROF; below 1 is non-convex).
        tv_weight: lambda; ``"auto"``: chosen per image by SURE (docs/denoise.md, "Lambda per image") with
            the primal-dual solver, else the rule; ``"rule"``: the power law in sigma and beta
            (docs/denoise.md, "The lambda rule").
        sigma: noise standard deviation on the [0, 1] scale, or ``"auto"`` (estimated).
            The command line's ``--sigma`` is on the 0..255 scale.
        fidelity: ``"l2"``, ``"l1"`` (impulse noise) or ``"charbonnier"``.
        coupling: ``"vectorial"`` (colour channels under one root) or ``"channel"``.
        optimizer: ``"auto"`` (primal-dual for beta 1 with l2, else L-BFGS), ``"primal-dual"``,
            ``"lbfgs"`` or ``"adam"``.
        iterations: iteration limit; ``None``: :func:`denoise_iterations` (primal-dual 300, 2000 with
            ``regularizer="tgv"``; L-BFGS and Adam 500).
        tolerance: stop when the relative change per iteration falls below this.
        eps: smoothing of the TV (and of the Charbonnier fidelity).
        device: see :data:`DEFAULT_DEVICE`.
    """

    regularizer: str = field(default="tv", metadata=rule(choice(REGULARIZERS)))
    tv_beta: float = field(default=1.0, metadata=TV_BETA)
    tv_weight: Union[str, float] = field(default="auto", metadata=rule(number(0, words=("auto", "rule"))))
    sigma: Union[str, float] = field(default="auto", metadata=rule(number(0, maximum=MAX_SIGMA, words=("auto",))))
    fidelity: str = field(default="l2", metadata=rule(choice(FIDELITIES)))
    coupling: str = field(default="vectorial", metadata=rule(choice(COUPLINGS)))
    optimizer: str = field(default="auto", metadata=rule(choice(DENOISE_OPTIMIZERS)))
    iterations: Optional[int] = field(default=None, metadata=rule(count(1, none=True)))
    tolerance: float = field(default=1e-4, metadata=rule(number(0)))
    eps: float = field(default=1e-3, metadata=rule(number(0)))
    device: str = DEFAULT_DEVICE


@dataclass
class DenoiseBatchSettings:
    """How ``denoise`` runs a batch of files (not how each image is solved).

    Attributes:
        jobs: worker processes, one thread each, or ``"auto"``: one per available core (at most one
            per file); 1 denoises in the calling process, with per-iteration progress.
    """

    jobs: Union[int, str] = field(default=1, metadata=rule(count(1, words=("auto",))))


@dataclass
class TrainSettings:
    """Settings of a fast style network's training (``neural-style train``); saved in
    checkpoints and model files.

    Attributes:
        image_size: side of the square training crops in pixels.
        batch_size: photos per step (per process under torchrun).
        epochs: passes over the dataset (``None``: 1); ``iterations`` overrides it.
        iterations: optimisation steps.
        lr: Adam's learning rate.
        content_weight: higher than stylize's 1: a network cannot fit each photo as an optimiser does.
        style_weight, tv_weight, tv_beta: as for stylize.
        style_size: long side of the style image (``None``: ``image_size``).
        seed: seed of the network's initial weights and of the data order.
        precision: the network's precision, as stylize's (default ``"fp32"``: bf16 training is not measured);
            ``"fp16"`` (GPU) is float16 autocast with a gradient scaler, what ``amp=True`` was.
        checkpoint_every: steps between checkpoints.
        keep_checkpoints: how many ``step-*.ckpt`` files to keep, the newest (0: all); ``last.ckpt`` stays.
        width: channel multiplier of the network (0.5: 4x fewer parameters).
        antialias: an anti-aliased network (:class:`neural_style.fast.transformer.TransformerNet`: blur
            before its stride-2 convolutions, bilinear upsampling), whose output moves with its input
            instead of changing texture under small motions. docs/fast.md, "Networks that do not flicker".
        model, weights, weights_format: the loss network, as for stylize.
        content_layers, style_layers: see :data:`LayerSpec`. log_every: steps between loss history entries.
        temporal_weight: weight of the temporal stability term (:mod:`neural_style.fast.temporal`: the
            network's output of a randomly moved photo against its moved output; 0: none). Each step
            then runs the network on twice the batch (the photos and their moved copies). docs/fast.md,
            "Networks that do not flicker" and "An anti-aliased network": 400 with ``antialias`` met the
            target on three seeds, 250 without it on some.
        ema_decay: decay of an exponential moving average of the weights (0: none), updated after every
            step and written as the model instead of the last step's weights:
            ``avg = decay * avg + (1 - decay) * w``, about ``1 / (1 - decay)`` steps averaged (Polyak &
            Juditsky 1992, in its exponential form; ``torch.optim.swa_utils.AveragedModel``). With a
            constant learning rate the last weights move with each step's noise; their average less.
            The first step's weights start it. docs/fast.md, "Averaging the weights": 0.995 measured.
    """

    image_size: int = field(default=256, metadata=rule(count(MIN_SIZE)))
    batch_size: int = field(default=4, metadata=rule(count(1)))
    epochs: Optional[int] = field(default=None, metadata=rule(count(1, none=True)))
    iterations: Optional[int] = field(default=None, metadata=rule(count(1, none=True)))
    lr: float = field(default=1e-3, metadata=rule(number(0, strict=True)))
    content_weight: float = field(default=4.0, metadata=WEIGHT)
    style_weight: float = field(default=5.0, metadata=WEIGHT)
    tv_weight: float = field(default=2.0, metadata=WEIGHT)
    tv_beta: float = field(default=2.0, metadata=TV_BETA)
    style_size: Optional[int] = field(default=None, metadata=SIZE)
    seed: int = field(default=0, metadata=rule(count(0, maximum=MAX_SEED)))
    precision: str = field(default="fp32", metadata=rule(choice(PRECISIONS)))
    checkpoint_every: int = field(default=1000, metadata=rule(count(1)))
    keep_checkpoints: int = field(default=5, metadata=rule(count(0)))
    width: float = field(default=1.0, metadata=rule(number(0, strict=True)))
    antialias: bool = field(default=False, metadata=rule(flag()))
    model: Optional[str] = field(default="vgg16", metadata=MODEL)
    weights: Optional[str] = None
    weights_format: str = field(default="torchvision", metadata=WEIGHTS_FORMAT)
    content_layers: str = "relu2_2"
    style_layers: str = "relu1_2,relu2_2,relu3_3,relu4_3"
    log_every: int = field(default=10, metadata=rule(count(1)))
    temporal_weight: float = field(default=0.0, metadata=WEIGHT)
    ema_decay: float = field(default=0.0, metadata=rule(number(0, maximum=MAX_EMA_DECAY)))


@dataclass
class TrainOutputs:
    """Where ``train`` keeps its checkpoints and report, and the checkpoint it continues from.

    Attributes:
        checkpoint_dir: the folder of checkpoints and previews (``None``: ``<output stem>-checkpoints/``
            beside the model file); a fresh run refuses one that holds another run's checkpoints.
        resume: a checkpoint (``.ckpt``) to continue from (``None``: start afresh).
        report: write settings, per-logged-step losses and images per second as JSON.
    """

    checkpoint_dir: Optional[Path] = None
    resume: Optional[Path] = None
    report: Optional[Path] = None


@dataclass
class TransferSettings:
    """Settings of applying a trained network (``neural-style transfer``).

    Attributes:
        size: long side of the output (``None``: the input's size).
        original_colors: keep the input's colours (luminance transfer).
        batch_size: video frames per batch.
        device: see :data:`DEFAULT_DEVICE`.
        precision: the network's precision, as stylize's: ``"auto"`` (bf16 autocast on CPUs with native
            bf16), ``"fp32"``, ``"bf16"``, ``"fp16"`` (GPU).
        start, duration, frames: the part of a video input to stylise (as :class:`VideoSettings`'s).
    """

    size: Optional[int] = field(default=None, metadata=SIZE)
    original_colors: bool = field(default=False, metadata=rule(flag()))
    batch_size: int = field(default=4, metadata=rule(count(1)))
    device: str = DEFAULT_DEVICE
    precision: str = field(default="auto", metadata=rule(choice(PRECISIONS)))
    start: float = field(default=0.0, metadata=START)
    duration: Optional[float] = field(default=None, metadata=DURATION)
    frames: Optional[int] = field(default=None, metadata=FRAME_COUNT)
