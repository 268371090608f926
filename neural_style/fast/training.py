"""Training a fast style network (Johnson, Alahi & Fei-Fei 2016).

A :class:`~neural_style.transformer.TransformerNet` learns to map photos to stylised
images by minimising the perceptual losses of ``stylize`` (same feature extractor, same
content and Gram style losses with the same per-layer normalisation, beta-order TV) over
a folder of photos. Checkpoints hold the model, the optimiser, the step, the RNG state
and the position in the data, so a resumed run ends with the same weights as an
uninterrupted one. Under ``torchrun`` the same code trains with DistributedDataParallel
(NCCL on GPUs, gloo on CPUs): each process takes its share of every epoch's permutation.
"""

import math
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch.nn.parallel import DistributedDataParallel
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from ..core.device import require_memory, resolve_precision
from ..core.features import activation_bytes
from ..core.files import file_sha256
from ..core.objective import PerceptualObjective, load_loss_network
from ..core.optimize import Step
from ..core.stop import StopReason
from ..core.tensors import resize_long_side, resize_to
from ..errors import InputError, Message, one_line, setting
from ..io.decode import IMAGE_EXTENSIONS, image_shape, to_tensor
from ..io.inputs import folder_files
from ..rules import validate
from ..settings import TrainSettings
from . import checkpoints
from .temporal import move, random_motion, temporal_loss
from .transformer import TransformerNet, inference_bytes, parameter_count


@dataclass
class TrainResult:
    """What a training run did.

    Attributes:
        steps: the step reached (counting the steps of a resumed checkpoint).
        history: every ``log_every`` steps ``{"step", "content", "style", "tv", "total"}``.
        images_per_second: throughput of this run over all processes.
        skipped_files: unreadable dataset files skipped so far; skipped: their paths, sorted.
        stop_reason: :class:`~neural_style.core.stop.StopReason` ``COMPLETED``, ``INTERRUPTED`` (Ctrl-C)
            or ``NON_FINITE``; the train run also reports ``"checkpoint-failed"``.
    """

    steps: int
    history: List[Dict[str, float]] = field(default_factory=list)
    images_per_second: float = 0.0
    skipped_files: int = 0
    skipped: List[str] = field(default_factory=list)
    stop_reason: str = StopReason.COMPLETED


def find_images(root, exclude: Sequence = ()) -> List[Path]:
    """Every image file under ``root`` (any folder tree), sorted, read as every folder input is
    (:func:`~neural_style.io.inputs.folder_files`: hidden files skipped); nothing inside ``exclude``
    (the run's checkpoint folder, where its previews go, when it lies inside the dataset) nor in
    any folder holding a ``last.ckpt`` (another run's checkpoints and previews)."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"dataset '{root}' is not a folder: pass a folder of photos")
    checkpoint_folders = [ck.parent for ck in root.rglob(checkpoints.LAST)]  # any run's previews live there
    files = folder_files(root, IMAGE_EXTENSIONS, [*exclude, *checkpoint_folders])
    if not files:
        raise InputError(f"dataset '{root}' holds no images ({', '.join(IMAGE_EXTENSIONS)}; hidden files skipped): "
                         "pass a folder of photos")
    return files


def load_sample(path: Path, size: int) -> Optional[torch.Tensor]:
    """A (3, size, size) crop: shorter side resized to ``size``, then centre-cropped; None if unreadable.
    A large photo is decoded at reduced size (never below what the crop needs)."""
    shape = image_shape(path)  # from the header only
    long_side = math.ceil(size * max(shape) / max(1, min(shape))) if shape else None
    try:
        image = to_tensor(path, what="training image", reduce_to=long_side)
    except InputError:
        return None
    h, w = image.shape[-2:]
    scale = size / min(h, w)
    image = resize_to(image, (max(size, round(h * scale)), max(size, round(w * scale))))
    top, left = (image.shape[-2] - size) // 2, (image.shape[-1] - size) // 2
    return image[0, :, top:top + size, left:left + size]


def training_objective(style, settings: TrainSettings, *, device=torch.device("cpu"),
                       download_progress: bool = True) -> PerceptualObjective:
    """The perceptual objective of training: stylize's, with the style image resized to
    ``style_size`` (default ``style_scale`` times ``image_size``) and the loss network in stylize's ``auto`` precision
    (bf16 autocast where the CPU has native bf16)."""
    network = load_loss_network(settings.content_layers, settings.style_layers, weights=settings.weights,
                                model=settings.model, weights_format=settings.weights_format, device=device,
                                autocast=resolve_precision("auto", device), download_progress=download_progress)
    _check_memory(network.extractor, settings, device)
    style_img = to_tensor(style, what="style image", reduce_to=settings.style_side())
    style_img = resize_long_side(style_img, settings.style_side()).to(device)
    return PerceptualObjective(network, [style_img], [1.0], content_weight=settings.content_weight,
                               style_weight=settings.style_weight, tv_weight=settings.tv_weight,
                               tv_beta=settings.tv_beta)


def _check_readable(files: List[Path], size: int) -> None:
    """Raise InputError when no dataset file is an image (tries them in order until one is)."""
    if not any(load_sample(path, size) is not None for path in files):
        raise _unreadable(files)


def _unreadable(files: List[Path]) -> InputError:
    return InputError(f"none of the {len(files)} dataset files could be read as an image (first: '{files[0]}'): "
                      "check the dataset folder")


#: A training step's peak memory over (loss-network activations + transform-network inference) of its
#: batch: measured 2.5x on a CPU (image size 256, batch 4: 1463 MiB; 512 and 2: 2739 MiB), rounded up.
STEP_MEMORY_FACTOR = 3


def _check_memory(extractor, settings: TrainSettings, device) -> None:
    """Refuse, before anything large is allocated, a batch whose training step would not fit; the
    message names what asks for most of the memory (the batch, or the style image's size)."""
    size, batch = settings.image_size, settings.batch_size
    style = settings.style_side()
    runs = 2 if settings.temporal_weight else 1  # the temporal term runs the network on moved photos too
    step = STEP_MEMORY_FACTOR * (activation_bytes(extractor, size, size, batch)
                                 + runs * inference_bytes(settings.width, batch, size, size))
    style_targets = STEP_MEMORY_FACTOR * activation_bytes(extractor, style, style)
    need = step + style_targets + 4 * 4 * parameter_count(settings.width)  # weights, gradients, Adam's moments
    if style != size and style_targets > step:
        name = "style_size" if settings.style_size else "style_scale"
        require_memory(need, device, f"the style image at {style} px",
                       f"use a smaller {setting(name)}")
    require_memory(need, device, f"a training step at {setting('image_size')} {size}, {setting('batch_size')} "
                   f"{batch}, {setting('width')} {settings.width:g}",
                   f"use a smaller {setting('image_size')}, {setting('batch_size')} or {setting('width')}")


class Trainer:
    """Owns the network, the objective, the optimiser and the data order of one process."""

    def __init__(self, style, dataset, settings: TrainSettings, *, device=torch.device("cpu"),
                 rank: int = 0, world_size: int = 1, download_progress: bool = True, exclude: Sequence = ()):
        validate(settings)
        self.settings, self.device, self.rank, self.world_size = settings, device, rank, world_size
        self.files = find_images(dataset, exclude)
        _check_readable(self.files, 16)  # decodable: the crops come later
        self.style_path = Path(style) if isinstance(style, (str, os.PathLike)) else None
        self.objective = training_objective(style, settings, device=device,
                                            download_progress=download_progress and rank == 0)
        if settings.weights is None:  # $NEURAL_STYLE_WEIGHTS or torchvision's: the model file says which
            self.settings = replace(settings, weights=self.objective.weights_source)
        self.style_sha256 = file_sha256(self.style_path) if self.style_path else None  # once, after the checks
        self.autocast = resolve_precision(settings.precision, device)  # None: float32
        with torch.random.fork_rng(devices=[]):  # identical initial weights in every process,
            torch.manual_seed(settings.seed)     # without touching the caller's RNG
            self.net = TransformerNet(width=settings.width, antialias=settings.antialias).to(device)
        self.model = self.net
        if world_size > 1:
            self.model = DistributedDataParallel(self.net, device_ids=[device.index] if device.type == "cuda" else None)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=settings.lr)
        self.average = (AveragedModel(self.net, multi_avg_fn=get_ema_multi_avg_fn(settings.ema_decay))
                        if settings.ema_decay else None)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.autocast == torch.float16)
        self.step = 0
        self.position = (0, 0)  # (epoch, batch within the epoch)
        self.skipped = set()

    @property
    def output_net(self) -> TransformerNet:
        """The network a model file gets: the exponential moving average of the weights under
        ``ema_decay``, else the trained network itself."""
        return self.net if self.average is None else self.average.module

    # -- data order ------------------------------------------------------------------------
    @property
    def batches_per_epoch(self) -> int:
        per_rank = len(self.files) // self.world_size
        return max(1, per_rank // self.settings.batch_size)

    def total_steps(self) -> int:
        if self.settings.iterations:
            return self.settings.iterations
        return (self.settings.epochs or 1) * self.batches_per_epoch

    def _epoch_order(self, epoch: int) -> List[int]:
        order = torch.randperm(len(self.files), generator=torch.Generator().manual_seed(self.settings.seed + epoch))
        return order.tolist()[self.rank::self.world_size]

    def next_batch(self) -> torch.Tensor:
        """The next (B, 3, S, S) batch of this process, skipping unreadable files."""
        epoch, index = self.position
        order = self._epoch_order(epoch)
        b = self.settings.batch_size
        samples, misses = [], 0
        cursor = index * b
        while len(samples) < b:
            if cursor >= len(order):  # epoch exhausted (only when files were skipped): next epoch
                epoch, cursor, order = epoch + 1, 0, self._epoch_order(epoch + 1)
            path = self.files[order[cursor]]
            cursor += 1
            sample = load_sample(path, self.settings.image_size)
            if sample is None:
                self.skipped.add(str(path))
                misses += 1
                if misses > len(order):  # a whole pass over this process's files without one image
                    raise _unreadable([self.files[i] for i in order])
                continue
            misses = 0
            samples.append(sample)
        index += 1
        if index >= self.batches_per_epoch:
            epoch, index = epoch + 1, 0
        self.position = (epoch, index)
        return torch.stack(samples).to(self.device)

    # -- one step ----------------------------------------------------------------------------
    def losses(self, x: torch.Tensor, y: torch.Tensor) -> Dict[str, torch.Tensor]:
        """The objective's terms for outputs ``y`` of inputs ``x`` (the content targets)."""
        return self.objective(y, self.objective.content_targets(x))

    def train_step(self) -> Dict[str, float]:
        x = self.next_batch()
        self.model.train()
        motion = self._motion(x) if self.settings.temporal_weight else None
        inputs = x if motion is None else torch.cat([x, move(x, motion[0])])  # one forward (and DDP sync)
        with torch.autocast(self.device.type, dtype=self.autocast or torch.bfloat16, enabled=self.autocast is not None):
            outputs = self.model(inputs).float()
        y = outputs[:len(x)]
        terms = self.losses(x, y)
        if motion is not None:  # InstanceNorm: each image is normalised on its own, so batching them is exact
            term = self.settings.temporal_weight * temporal_loss(outputs[len(x):], y, *motion)
            terms = {**terms, "temporal": term, "total": terms["total"] + term}
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(terms["total"]).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if self.average is not None:
            self.average.update_parameters(self.net)
        self.step += 1
        return {k: float(v.detach()) for k, v in terms.items()}

    def _motion(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """The random motions ``(grid, mask)`` of the temporal stability term (:mod:`.temporal`) for
        batch ``x``: drawn from the seed, the step and the rank, so a resumed run draws the same ones."""
        generator = torch.Generator().manual_seed(self.settings.seed * 1_000_003 + self.step * self.world_size
                                                  + self.rank)
        return random_motion(x, generator)

    # -- checkpoints (format and file names: neural_style.fast.checkpoints) --------------------
    def state(self) -> dict:
        """This process's checkpoint dict (:class:`~neural_style.fast.checkpoints.CheckpointState`)."""
        return checkpoints.CheckpointState(
            config=asdict(self.settings), net=self.net.state_dict(), optimizer=self.optimizer.state_dict(),
            scaler=self.scaler.state_dict() if self.scaler.is_enabled() else None, step=self.step,
            position=list(self.position), skipped=sorted(self.skipped), style_sha256=self.style_sha256,
            world_size=self.world_size, rng=torch.get_rng_state(), dataset_files=len(self.files),
            net_average=self.average.state_dict() if self.average is not None else None,
            cuda_rng=torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None).as_dict()

    def save_checkpoint(self, path) -> Path:
        return checkpoints.write_checkpoint(path, self.state())

    def load_checkpoint(self, path) -> List[str]:
        """Restore a checkpoint; returns the settings that differ from the checkpoint's, as
        ``"name: old -> new"`` (see :func:`neural_style.fast.checkpoints.settings_changes`)."""
        state = checkpoints.read_checkpoint(path)
        try:
            if state["config"].get("width") != self.settings.width:
                raise InputError(f"checkpoint '{path}' has {setting('width')} {state['config'].get('width')}, "
                                 f"not {self.settings.width}: resume with the same settings")
            antialias = state["config"].get("antialias", False)  # absent: written before it existed
            if not isinstance(antialias, bool):
                raise ValueError(f"antialias {antialias!r}")
            if antialias != self.settings.antialias:
                said = "with" if antialias else "without"
                raise InputError(f"checkpoint '{path}' is of a network trained {said} {setting('antialias')}: resume "
                                 "with the same settings")
            step, position = state["step"], tuple(state["position"])
            if not isinstance(step, int) or step < 0 or len(position) != 2:
                raise ValueError(f"step {step!r}, position {position!r}")
            self.net.load_state_dict(state["net"])
            self.optimizer.load_state_dict(state["optimizer"])
            started_average = self._load_average(state.get("net_average"))
            if state["scaler"] is not None and self.scaler.is_enabled():
                self.scaler.load_state_dict(state["scaler"])
            # Training itself draws no random numbers (the data order is seeded per epoch); the
            # generators are restored anyway, for callers' code that does.
            if state.get("rng") is not None:
                torch.set_rng_state(state["rng"])
            if state.get("cuda_rng") is not None and self.device.type == "cuda":
                torch.cuda.set_rng_state(state["cuda_rng"], self.device)
            self.skipped = set(state["skipped"])
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as exc:  # a damaged checkpoint
            if isinstance(exc, InputError):
                raise
            raise InputError(f"checkpoint '{path}' is damaged ({type(exc).__name__}: "
                             f"{one_line(exc, 80, fallback='missing data')}): resume from "
                             "another step-*.ckpt of its folder, or start again") from exc
        self.step, self.position = step, position
        changed = checkpoints.settings_changes(state, asdict(self.settings), style_sha256=self.style_sha256,
                                               world_size=self.world_size, dataset_files=len(self.files))
        if started_average and "ema_decay" not in state["config"]:  # a checkpoint of a version before the setting
            changed.append(Message(f"{setting('ema_decay')}: none -> {self.settings.ema_decay} (the average starts "
                                   "from the checkpoint's network)"))
        return changed

    def _load_average(self, average: Optional[dict]) -> bool:
        """Restore the moving average of a checkpoint; True when this run averages and the checkpoint
        has none (the average then starts from the checkpoint's network)."""
        if self.average is None:
            return False
        if average is None:
            self.average.module.load_state_dict(self.net.state_dict())
            self.average.n_averaged.fill_(1)  # the next step averages into it, as into any average
            return True
        self.average.load_state_dict(average)
        return False

    def metadata(self) -> dict:
        return {"style_sha256": self.style_sha256,
                "style": str(self.style_path) if self.style_path else None,
                "settings": asdict(self.settings), "steps": self.step, "dataset_files": len(self.files),
                "skipped_files": len(self.skipped), "world_size": self.world_size}


def run_training(trainer: Trainer, *, checkpoint_dir: Optional[Path] = None,
                 callback: Optional[Callable[[Step], None]] = None) -> TrainResult:
    """Run ``trainer`` to its last step, writing checkpoints (rank 0 only) every ``checkpoint_every``
    steps; the callback gets a :class:`~neural_style.core.optimize.Step` per step (no image)."""
    settings = trainer.settings
    steps = trainer.total_steps()
    result = TrainResult(steps=trainer.step)
    start, start_step = time.perf_counter(), trainer.step
    try:
        while trainer.step < steps:
            terms = trainer.train_step()
            elapsed = time.perf_counter() - start
            ips = (trainer.step - start_step) * settings.batch_size * trainer.world_size / max(elapsed, 1e-9)
            if trainer.step % settings.log_every == 0 or trainer.step == steps:
                result.history.append({"step": trainer.step, **terms})
            if callback is not None:
                callback(Step(trainer.step, steps, terms, None, elapsed, images_per_second=ips))
            if not all(math.isfinite(v) for v in terms.values()):
                result.stop_reason = StopReason.NON_FINITE
                break
            if checkpoint_dir is not None and trainer.rank == 0 and (
                    trainer.step % settings.checkpoint_every == 0 or trainer.step == steps):
                checkpoints.save_checkpoint(checkpoint_dir, trainer.state(), trainer.step)
                checkpoints.prune_checkpoints(checkpoint_dir, settings.keep_checkpoints)
    except KeyboardInterrupt:
        result.stop_reason = StopReason.INTERRUPTED
    result.steps = trainer.step
    elapsed = time.perf_counter() - start
    result.images_per_second = (trainer.step - start_step) * settings.batch_size * trainer.world_size / max(elapsed, 1e-9)
    result.skipped_files = len(trainer.skipped)
    result.skipped = sorted(trainer.skipped)
    return result
