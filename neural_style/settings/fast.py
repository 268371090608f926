"""The fast networks' settings: train's (:class:`TrainSettings`, :class:`TrainOutputs`) and
transfer's (:class:`TransferSettings`)."""

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..errors import InputError, setting
from ..rules import choice, count, flag, number, rule
from .common import (
    DEFAULT_DEVICE,
    DURATION,
    FRAME_COUNT,
    MAX_EMA_DECAY,
    MAX_SEED,
    MIN_SIZE,
    MODEL,
    PRECISIONS,
    SIZE,
    START,
    TV_BETA,
    WEIGHT,
    WEIGHTS_FORMAT,
)


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
        style_size: long side of the style image in pixels (pytorch/examples' ``--style-size``; ``None``:
            ``style_scale`` times ``image_size``).
        style_scale: the style image's long side relative to ``image_size``, as stylize's ``style_scale``
            (with ``style_size`` it must stay 1: two sizes for one image).
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
    style_scale: float = field(default=1.0, metadata=rule(number(0, strict=True)))
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

    def style_side(self) -> int:
        """The style image's long side in pixels: ``style_size``, else ``ceil(image_size * style_scale)``."""
        return self.style_size or max(1, math.ceil(self.image_size * self.style_scale))

    def check_together(self) -> None:
        """Settings valid alone but not together (:func:`~neural_style.rules.validate` calls it)."""
        if self.style_size is not None and self.style_scale != 1:
            raise InputError(f"{setting('style_size')} {self.style_size} and {setting('style_scale')} "
                             f"{self.style_scale:g} are two sizes for the style image: give one of them")


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

