"""Training a fast style network (Johnson, Alahi & Fei-Fei 2016).

A :class:`~neural_style.transformer.TransformerNet` learns to map photos to stylised
images by minimising the perceptual losses of ``stylize`` (same feature extractor, same
content and Gram style losses with the same per-layer normalisation, beta-order TV) over
a folder of photos. Checkpoints hold the model, the optimiser, the step, the RNG state
and the position in the data, so a resumed run ends with the same weights as an
uninterrupted one. Under ``torchrun`` the same code trains with DistributedDataParallel
(NCCL on GPUs, gloo on CPUs): each process takes its share of every epoch's permutation.
"""

import hashlib
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

import torch

from ..core import losses
from ..errors import InputError
from ..core.features import build_extractor, check_layers, parse_layers
from ..io.images import atomic_write, resize_long_side, resize_to, to_tensor
from ..core.weights import load_weights

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif")


@dataclass
class TrainConfig:
    """Settings of a training run (saved in checkpoints and model files)."""

    image_size: int = 256
    batch_size: int = 4
    epochs: Optional[int] = None
    iterations: Optional[int] = None
    lr: float = 1e-3
    content_weight: float = 4.0
    style_weight: float = 5.0
    tv_weight: float = 2.0
    tv_beta: float = 2.0
    style_size: Optional[int] = None
    seed: int = 0
    amp: bool = False
    checkpoint_every: int = 1000
    width: float = 1.0
    model: Optional[str] = "vgg16"
    weights: Optional[str] = None
    weights_format: str = "torchvision"
    content_layers: str = "relu2_2"
    style_layers: str = "relu1_2,relu2_2,relu3_3,relu4_3"
    log_every: int = 10


@dataclass
class StepInfo:
    """One optimisation step, as passed to the callback."""

    step: int
    steps: int
    losses: Dict[str, float]
    images_per_second: float
    elapsed: float


@dataclass
class TrainResult:
    steps: int
    history: List[Dict[str, float]] = field(default_factory=list)
    images_per_second: float = 0.0
    skipped_files: int = 0
    stop_reason: str = "completed"


def find_images(root) -> List[Path]:
    """Every image file under ``root`` (any folder tree), sorted."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"dataset '{root}' is not a folder: pass a folder of photos")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
    if not files:
        raise InputError(f"dataset '{root}' holds no images ({', '.join(IMAGE_EXTENSIONS)}): "
                         "pass a folder of photos")
    return files


def load_sample(path: Path, size: int) -> Optional[torch.Tensor]:
    """A (3, size, size) crop: shorter side resized to ``size``, then centre-cropped; None if unreadable."""
    try:
        image = to_tensor(path, what="training image")
    except InputError:
        return None
    h, w = image.shape[-2:]
    scale = size / min(h, w)
    image = resize_to(image, (max(size, round(h * scale)), max(size, round(w * scale))))
    top, left = (image.shape[-2] - size) // 2, (image.shape[-1] - size) // 2
    return image[0, :, top:top + size, left:left + size]


def file_sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Trainer:
    """Owns the network, the loss network, the optimiser and the data order."""

    def __init__(self, style, dataset, config: TrainConfig, *, device=torch.device("cpu"),
                 rank: int = 0, world_size: int = 1, download_progress: bool = True):
        from ..style_transfer.gatys import mean_square
        from .transformer import TransformerNet

        self.config, self.device, self.rank, self.world_size = config, device, rank, world_size
        self.files = find_images(dataset)
        self.style_path = Path(style) if isinstance(style, (str, os.PathLike)) else None
        loaded = load_weights(config.weights, config.model, progress=download_progress and rank == 0)
        self.c_layers = parse_layers(config.content_layers, "content layer")
        self.s_layers = parse_layers(config.style_layers, "style layer")
        check_layers(loaded.model, self.c_layers, "content layer")
        check_layers(loaded.model, self.s_layers, "style layer")
        from ..core.device import resolve_precision

        # The loss network runs like stylize's (bf16 autocast where the CPU has native bf16);
        # the transform network trains in fp32 (or fp16 autocast with --amp on a GPU).
        self.extractor = build_extractor(loaded, list(self.c_layers) + list(self.s_layers),
                                         weights_format=config.weights_format, device=device)
        self.extractor.precision(resolve_precision("auto", device))
        style_img = to_tensor(style, what="style image")
        self.style_sha256 = file_sha256(self.style_path) if self.style_path else None  # once, after the checks
        style_img = resize_long_side(style_img, config.style_size or config.image_size).to(device)
        with torch.no_grad():
            feats = self.extractor(style_img)
            self.grams = {n: losses.gram_matrix(feats[n]) for n in self.s_layers}
        self.s_layers = {n: w / mean_square(self.grams[n]) for n, w in self.s_layers.items()}

        if config.amp and device.type != "cuda":
            raise InputError("--amp is mixed precision on a GPU: drop it on the CPU")
        with torch.random.fork_rng(devices=[]):  # identical initial weights in every process,
            torch.manual_seed(config.seed)       # without touching the caller's RNG
            self.net = TransformerNet(width=config.width).to(device)
        self.model = self.net
        if world_size > 1:
            from torch.nn.parallel import DistributedDataParallel

            self.model = DistributedDataParallel(self.net, device_ids=[device.index] if device.type == "cuda" else None)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=config.lr)
        self.scaler = torch.amp.GradScaler("cuda", enabled=config.amp and device.type == "cuda")
        self.step = 0
        self.position = (0, 0)  # (epoch, batch within the epoch)
        self.skipped = set()

    # -- data order ------------------------------------------------------------------------
    @property
    def batches_per_epoch(self) -> int:
        per_rank = len(self.files) // self.world_size
        return max(1, per_rank // self.config.batch_size)

    def total_steps(self) -> int:
        if self.config.iterations:
            return self.config.iterations
        return (self.config.epochs or 1) * self.batches_per_epoch

    def _epoch_order(self, epoch: int) -> List[int]:
        order = torch.randperm(len(self.files), generator=torch.Generator().manual_seed(self.config.seed + epoch))
        return order.tolist()[self.rank::self.world_size]

    def _batch(self):
        epoch, index = self.position
        order = self._epoch_order(epoch)
        b = self.config.batch_size
        samples = []
        cursor = index * b
        while len(samples) < b:
            if cursor >= len(order):  # epoch exhausted (only when files were skipped): next epoch
                epoch, cursor, order = epoch + 1, 0, self._epoch_order(epoch + 1)
            path = self.files[order[cursor]]
            cursor += 1
            sample = load_sample(path, self.config.image_size)
            if sample is None:
                self.skipped.add(str(path))
                continue
            samples.append(sample)
        index += 1
        if index >= self.batches_per_epoch:
            epoch, index = epoch + 1, 0
        self.position = (epoch, index)
        return torch.stack(samples).to(self.device)

    # -- one step ----------------------------------------------------------------------------
    def losses(self, x: torch.Tensor, y: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Perceptual losses of outputs ``y`` for inputs ``x`` (stylize's, per-layer normalised)."""
        from ..style_transfer.gatys import mean_square

        with torch.no_grad():
            fx = self.extractor(x)
        fy = self.extractor(y)
        content = sum(w / mean_square(fx[n]) * losses.content_loss(fy[n], fx[n]) for n, w in self.c_layers.items())
        style = sum(w * losses.style_loss(fy[n], self.grams[n]) for n, w in self.s_layers.items())
        tv = losses.total_variation(y, beta=self.config.tv_beta)
        c = self.config
        total = c.content_weight * content + c.style_weight * style + c.tv_weight * tv
        return {"content": content, "style": style, "tv": tv, "total": total}

    def train_step(self) -> Dict[str, float]:
        x = self._batch()
        self.model.train()
        with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.config.amp):
            y = self.model(x)
        terms = self.losses(x, y.float())
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(terms["total"]).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.step += 1
        return {k: float(v.detach()) for k, v in terms.items()}

    # -- checkpoints ---------------------------------------------------------------------------
    def state(self) -> dict:
        return {"format": "neural-style-checkpoint", "version": 1, "config": asdict(self.config),
                "net": self.net.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scaler": self.scaler.state_dict() if self.scaler.is_enabled() else None,
                "step": self.step, "position": list(self.position), "skipped": sorted(self.skipped),
                "style_sha256": self.style_sha256, "world_size": self.world_size, "rng": torch.get_rng_state(),
                "cuda_rng": torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None}

    def save_checkpoint(self, path) -> Path:
        state = self.state()
        return atomic_write(path, lambda tmp: torch.save(state, tmp))

    def load_checkpoint(self, path) -> List[str]:
        """Restore a checkpoint; returns the settings that differ from the checkpoint's, as
        ``"name: old -> new"`` (the length of the run and the logging cadence are not counted)."""
        path = Path(path)
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise InputError(f"checkpoint '{path}' cannot be read ({str(exc).splitlines()[0][:100]}): "
                             "pass a .ckpt written by neural-style train") from None
        if not isinstance(state, dict) or state.get("format") != "neural-style-checkpoint":
            raise InputError(f"'{path}' is not a neural-style checkpoint: pass a .ckpt written by neural-style train")
        if state["config"].get("width") != self.config.width:
            raise InputError(f"checkpoint '{path}' has --width {state['config'].get('width')}, "
                             f"not {self.config.width}: resume with the same settings")
        self.net.load_state_dict(state["net"])
        self.optimizer.load_state_dict(state["optimizer"])
        if state["scaler"] is not None and self.scaler.is_enabled():
            self.scaler.load_state_dict(state["scaler"])
        self.step, self.position = state["step"], tuple(state["position"])
        # Training itself draws no random numbers (the data order is seeded per epoch); the
        # generators are restored anyway, for callers' code that does.
        if state.get("rng") is not None:
            torch.set_rng_state(state["rng"])
        if state.get("cuda_rng") is not None and self.device.type == "cuda":
            torch.cuda.set_rng_state(state["cuda_rng"], self.device)
        self.skipped = set(state["skipped"])
        ignored = {"iterations", "epochs", "checkpoint_every", "log_every"}
        now = asdict(self.config)
        changed = [f"{k}: {v} -> {now[k]}" for k, v in state["config"].items()
                   if k not in ignored and k in now and v != now[k]]
        if state.get("style_sha256") and self.style_sha256 and state["style_sha256"] != self.style_sha256:
            changed.append("style image: a different file than the checkpoint's")
        if state.get("world_size", self.world_size) != self.world_size:
            changed.append(f"processes: {state['world_size']} -> {self.world_size} (another data split)")
        return changed

    def metadata(self) -> dict:
        return {"style_sha256": self.style_sha256,
                "style": str(self.style_path) if self.style_path else None,
                "settings": asdict(self.config), "steps": self.step, "dataset_files": len(self.files),
                "skipped_files": len(self.skipped), "world_size": self.world_size}


def train(trainer: Trainer, *, checkpoint_dir: Optional[Path] = None,
          callback: Optional[Callable[[StepInfo], None]] = None) -> TrainResult:
    """Run ``trainer`` to its last step, writing checkpoints (rank 0 only) every ``checkpoint_every`` steps."""
    config = trainer.config
    steps = trainer.total_steps()
    result = TrainResult(steps=trainer.step)
    start, start_step = time.perf_counter(), trainer.step
    try:
        while trainer.step < steps:
            terms = trainer.train_step()
            elapsed = time.perf_counter() - start
            ips = (trainer.step - start_step) * config.batch_size * trainer.world_size / max(elapsed, 1e-9)
            if trainer.step % config.log_every == 0 or trainer.step == steps:
                result.history.append({"step": trainer.step, **terms})
            if callback is not None:
                callback(StepInfo(trainer.step, steps, terms, ips, elapsed))
            if not all(math.isfinite(v) for v in terms.values()):
                result.stop_reason = "non-finite"
                break
            if checkpoint_dir is not None and trainer.rank == 0 and (
                    trainer.step % config.checkpoint_every == 0 or trainer.step == steps):
                path = trainer.save_checkpoint(Path(checkpoint_dir) / f"step-{trainer.step:06d}.ckpt")
                atomic_write(Path(checkpoint_dir) / "last.ckpt", lambda tmp: Path(tmp).write_bytes(path.read_bytes()))
    except KeyboardInterrupt:
        result.stop_reason = "interrupted"
    result.steps = trainer.step
    elapsed = time.perf_counter() - start
    result.images_per_second = (trainer.step - start_step) * config.batch_size * trainer.world_size / max(elapsed, 1e-9)
    result.skipped_files = len(trainer.skipped)
    return result
