"""stylize's settings: an image's (:class:`StylizeSettings`, :class:`StylizeOutputs`) and a clip's
(:class:`VideoSettings`)."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence, Union

from ..errors import InputError, setting
from ..rules import choice, count, counts, flag, number, numbers, rule
from .common import (
    BOUNDS,
    COLORS,
    DEFAULT_DEVICE,
    DURATION,
    FRAME_COUNT,
    MAX_SEED,
    MAX_STYLE_OCTAVES,
    MIN_SIZE,
    MODEL,
    OPTIMIZERS,
    POOLINGS,
    PRECISIONS,
    SIZE,
    START,
    TV_BETA,
    WEIGHT,
    WEIGHTS_FORMAT,
    LayerSpec,
)

#: stylize's loss evaluations of a single scale when ``iterations`` is None (jcjohnson's
#: -num_iterations 1000 halved).
STYLIZE_ITERATIONS = 500
#: The default schedule of several scales: the first, the middle ones and the last. The last
#: scale costs the most per iteration; 200 there bring its finest octave and content loss to
#: those of a single scale's 500 (docs/measurements.md, "Octaves").
SCALE_ITERATIONS = (300, 150, 200)


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

