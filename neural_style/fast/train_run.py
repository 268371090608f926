"""The ``train`` command as a Python function, with files.

:func:`train` checks every output location before any work, trains (:mod:`.training`), and
writes the model, checkpoints and previews (:mod:`.checkpoints`) and the report
(:class:`~neural_style.fast.reports.TrainReport`); it reports progress through
:class:`TrainCallbacks`, which the command line formats. Under ``torchrun`` (``WORLD_SIZE`` > 1)
it joins the process group (:mod:`.distributed`), and only rank 0 writes files.
"""

import math
import os
import warnings
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Optional, Tuple

import torch

from .. import signals
from ..core.device import resolve_device
from ..core.files import require_file
from ..core.optimize import Step
from ..core.stop import StopReason
from ..errors import InputError, Message, NeuralStyleError, setting, spelled
from ..io.disk import require_space, same_disk
from ..io.encode import write_image
from ..io.locks import owned
from ..io.outputs import check_output_path
from ..rules import validate
from ..settings import DEFAULT_DEVICE, TrainOutputs, TrainSettings, with_overrides
from . import checkpoints
from .distributed import process_group
from .model_file import save_model
from .reports import TrainReport
from .training import Trainer, TrainResult, load_sample, run_training
from .transfer import apply_model
from .transformer import weight_bytes

__all__ = ["train", "TrainRun", "TrainCallbacks", "SHORT_TRAINING"]

#: Fewer steps than this leave a weakly stylised network (README: 400 steps left a style ratio
#: of 0.31, 2400 gave 0.21 at 128 px, batch 4), so :func:`train` warns.
SHORT_TRAINING = 2000


@dataclass
class TrainCallbacks:
    """How :func:`train` reports progress (rank 0 only; other processes report nothing).

    Attributes:
        on_step: called after every step with a :class:`~neural_style.core.optimize.Step` (no image).
        warn: called with one line (an :class:`~neural_style.errors.Message`) for each warning
            (default: :func:`warnings.warn`).
        info: called with one line of news, like "resumed from step 40 ..." (default: nothing).
    """

    on_step: Optional[Callable[[Step], None]] = None
    warn: Optional[Callable[[str], None]] = None
    info: Optional[Callable[[str], None]] = None


@dataclass
class TrainRun:
    """What :func:`train` did: the loop's result and where things went.

    Attributes:
        result: the :class:`~neural_style.fast.training.TrainResult` (steps, history, stop reason...).
        output: the model file (written by rank 0 unless the loss became non-finite).
        checkpoint_dir: the checkpoint folder.
        device: the torch device of this process.
        rank, world_size: this process and the number of processes.
        start_step: the step the run started from (that of a resumed checkpoint, else 0).
    """

    result: TrainResult
    output: Path
    checkpoint_dir: Path
    device: torch.device
    rank: int = 0
    world_size: int = 1
    start_step: int = 0

    @property
    def model_written(self) -> bool:
        """Rank 0 writes the model unless the loss became non-finite or it was stopped before a step (a run
        resumed at its last step completes without one: the checkpoint's network is the model)."""
        if self.rank != 0 or self.result.stop_reason == StopReason.NON_FINITE:
            return False
        return self.result.stop_reason == StopReason.COMPLETED or self.result.steps > self.start_step

    @property
    def last_checkpoint(self) -> Path:
        """``last.ckpt`` in the checkpoint folder: what to resume from."""
        return self.checkpoint_dir / checkpoints.LAST


def train(style, dataset, output, settings: Optional[TrainSettings] = None, outputs: Optional[TrainOutputs] = None,
          *, device=DEFAULT_DEVICE, callbacks: Optional[TrainCallbacks] = None, download_progress: bool = True,
          **overrides) -> TrainRun:
    """Train a fast style network for ``style`` on the photos under ``dataset``; write it to ``output``.

    Args:
        style: the style image (path).
        dataset: a folder (any tree) of training photos; unreadable files are skipped and counted.
        output: the model file to write (``.pth`` or ``.pt``).
        settings: a :class:`~neural_style.settings.TrainSettings`; ``**overrides`` change its fields.
        outputs: a :class:`~neural_style.settings.TrainOutputs`: the checkpoint folder (default
            ``<output stem>-checkpoints/``), a checkpoint to resume from, the report.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ... (under torchrun, CUDA uses ``LOCAL_RANK``).
        callbacks: a :class:`TrainCallbacks` (per-step progress, warnings, news).
        download_progress: show a progress bar while downloading torchvision's VGG weights.

    Returns:
        A :class:`TrainRun`. The model file is written unless the loss became non-finite
        (``result.stop_reason == StopReason.NON_FINITE``; the last checkpoint stays in ``checkpoint_dir``).
        After Ctrl-C the model so far is written and ``stop_reason`` is ``StopReason.INTERRUPTED``.

    Raises:
        InputError: bad settings or paths (before any work), a missing or incompatible checkpoint.
        NeuralStyleError: a checkpoint could not be written (the model so far is, and the error says so).
    """
    settings = validate(with_overrides(settings, TrainSettings, overrides))
    outputs, callbacks, output = outputs or TrainOutputs(), callbacks or TrainCallbacks(), Path(output)
    checkpoint_dir = (Path(outputs.checkpoint_dir) if outputs.checkpoint_dir is not None
                      else checkpoints.default_checkpoint_dir(output))
    _check_paths(style, dataset, output, settings, outputs, checkpoint_dir)
    report = outputs.report
    with process_group(resolve_device(device)) as (dev, rank, world_size), ExitStack() as held:
        if rank == 0:  # this run's for its life: a second run with either is refused
            held.enter_context(owned(output, "model"))
            held.enter_context(owned(checkpoint_dir, "checkpoint folder", folder=True))
        say = (callbacks.warn or _warn) if rank == 0 else _nothing
        try:
            trainer = Trainer(style, dataset, settings, device=dev, rank=rank, world_size=world_size,
                              download_progress=download_progress, exclude=[checkpoint_dir])
            _resume(trainer, outputs.resume, say, (callbacks.info or _nothing) if rank == 0 else _nothing)
        except KeyboardInterrupt:  # while reading the dataset, the style or the weights: the report says so
            if report is not None and rank == 0:
                stopped = TrainResult(steps=0, stop_reason=StopReason.INTERRUPTED)
                _report(settings, style, dataset, dev, world_size, stopped, model_written=False).write(report)
            raise
        start_step = trainer.step
        if rank == 0:
            _check_space(trainer, output, checkpoint_dir)
        if trainer.total_steps() < SHORT_TRAINING:
            steps = trainer.total_steps()
            say(Message(f"{steps} training step{'' if steps == 1 else 's'} ({len(trainer.files)} files, batch "
                        f"{settings.batch_size}) give a weakly stylised network: ask for {setting('iterations')} "
                        f"{SHORT_TRAINING} or more (or more {setting('epochs')})"))
        before = [p.detach().clone() for p in trainer.net.parameters()]
        try:
            result = run_training(trainer, checkpoint_dir=checkpoint_dir,
                                  callback=_with_previews(trainer, checkpoint_dir, callbacks.on_step))
            _say_if_unchanged(before, trainer, start_step, say)
        except checkpoints.CheckpointWriteError as exc:  # keep the network trained so far, and say so
            if rank == 0:
                error, written = _save_after_failure(output, trainer, exc)
                if report is not None:
                    stopped = TrainResult(steps=trainer.step, stop_reason=StopReason.CHECKPOINT_FAILED)
                    try:
                        _report(trainer.settings, style, dataset, dev, world_size, stopped, written).write(report)
                    except NeuralStyleError as third:
                        error = NeuralStyleError(f"{error}; the report could not be written either ({third})")
                raise error from exc
            raise
        run = TrainRun(result, output, checkpoint_dir, dev, rank, world_size, start_step)
        with signals.deferred():  # a second Ctrl-C or SIGTERM while stopping: the model and report are written first
            if run.model_written:
                save_model(output, trainer.output_net, trainer.metadata())
            if report is not None and rank == 0:  # also when no model was written (stopped at step 0, non-finite)
                _report(trainer.settings, style, dataset, dev, world_size, result, run.model_written).write(
                    report, kept=f"wrote {output}" if run.model_written else None)
    return run


def _say_if_unchanged(before, trainer: Trainer, start_step: int, say) -> None:
    """A warning when steps were taken and the network did not change (every loss weight 0: no gradient)."""
    if trainer.step > start_step and all(torch.equal(a, b.detach()) for a, b in zip(before, trainer.net.parameters())):
        say(Message(f"the network did not change in {trainer.step - start_step} steps: the model file is the "
                    f"untrained network; check {setting('content_weight')}, {setting('style_weight')} and "
                    f"{setting('lr')}"))


def _report(settings: TrainSettings, style, dataset, dev: torch.device, world_size: int, result: TrainResult,
            model_written: bool) -> TrainReport:
    """The :class:`~neural_style.fast.reports.TrainReport` of a run that reached ``result``."""
    return TrainReport(settings={**asdict(settings), "style": style, "dataset": dataset}, device=str(dev),
                       world_size=world_size, steps=result.steps, images_per_second=result.images_per_second,
                       skipped_files=result.skipped_files, skipped=result.skipped, history=result.history,
                       model_written=model_written, stop_reason=result.stop_reason)


def _check_paths(style, dataset, output: Path, settings: TrainSettings, outputs: TrainOutputs,
                 checkpoint_dir: Path) -> None:
    """Every file the run will write, before any work: none may be an input or unwritable; the checkpoint
    to resume from must exist, and the checkpoint folder must be this run's."""
    reads = [p for p in (style, outputs.resume, settings.weights) if isinstance(p, (str, os.PathLike))]
    check_output_path(output, inputs=reads, extensions=(".pth", ".pt"), what="model")
    if outputs.report is not None:
        check_output_path(outputs.report, inputs=[*reads, output], extensions=(".json",), what="report")
    check_output_path(checkpoint_dir / checkpoints.LAST, inputs=[style, settings.weights, output], extensions=(".ckpt",),
                      what="checkpoint")  # before the first step, not at the first checkpoint
    if outputs.resume is not None:
        require_file(outputs.resume, f"checkpoint '{outputs.resume}'", "a .ckpt file",
                     advice="pass a .ckpt from the checkpoint folder")
    _check_no_other_run(checkpoint_dir, outputs.resume, Path(dataset))


def _check_space(trainer: Trainer, output: Path, checkpoint_dir: Path) -> None:
    """The checkpoints still to come (as many as are kept, plus ``last.ckpt`` and one being written) and
    the model must fit on their disks: an upper bound from the network's parameter count."""
    s = trainer.settings
    model_bytes = weight_bytes(trainer.net) + 65536
    checkpoint_bytes = (4 if s.ema_decay else 3) * model_bytes  # the weights, Adam's two moments (and their average)
    left = max(0, trainer.total_steps() - trainer.step)
    coming = math.ceil(left / s.checkpoint_every)  # every checkpoint_every steps and at the end (one of them)
    files = (coming if not s.keep_checkpoints else min(coming, s.keep_checkpoints)) + 2
    if same_disk(checkpoint_dir, output):
        require_space(output, files * checkpoint_bytes + model_bytes, f"the model and {files} checkpoint files")
    else:
        require_space(checkpoint_dir / checkpoints.LAST, files * checkpoint_bytes, f"{files} checkpoint files")
        require_space(output, model_bytes, "the model")


def _check_no_other_run(checkpoint_dir: Path, resume, dataset: Path) -> None:
    """Refuse a checkpoint folder that is the dataset, or, for a fresh run, one that holds another run's
    checkpoints (this run's would replace its ``last.ckpt`` and rotation would delete its steps): only
    a resumed run may write there."""
    if checkpoint_dir.exists() and dataset.exists() and os.path.samefile(checkpoint_dir, dataset):
        raise InputError(f"{setting('checkpoint_dir')} '{checkpoint_dir}' is the dataset folder: choose another folder")
    found = sorted(checkpoint_dir.glob("step-*.ckpt")) + [p for p in [checkpoint_dir / checkpoints.LAST] if p.exists()]
    if not found or resume is not None:
        return
    raise InputError(f"checkpoint folder '{checkpoint_dir}' holds another run's checkpoints ({found[-1].name}): "
                     f"continue that run with {setting('resume')} {checkpoint_dir / checkpoints.LAST}, or choose "
                     f"another {setting('checkpoint_dir')} (or {setting('output')}), or delete them")


def _save_after_failure(output: Path, trainer: Trainer,
                        exc: checkpoints.CheckpointWriteError) -> Tuple[NeuralStyleError, bool]:
    """Write the model of a run stopped by a failed checkpoint; the error saying both (one line), and
    whether the model was written."""
    try:
        save_model(output, trainer.output_net, trainer.metadata())
    except NeuralStyleError as second:
        return NeuralStyleError(f"{exc}; the model could not be written either ({second}); "
                                f"training stopped at step {trainer.step}"), False
    return NeuralStyleError(f"{exc}; training stopped at step {trainer.step} and wrote the model so far to "
                            f"{output}"), True


def _warn(message: str) -> None:
    warnings.warn(message, stacklevel=3)


def _nothing(message: str) -> None:
    """A callback that drops its line (other processes than rank 0, no ``info``)."""


def _resume(trainer: Trainer, resume, say: Callable[[str], None], tell: Callable[[str], None]) -> None:
    """Load ``resume`` into ``trainer``: say where it continues from, warn about changed settings, and
    refuse a checkpoint past the last step asked for. A checkpoint at the last step trains no further: the run
    writes its network as the model (how a network of an earlier step is taken out of a longer training)."""
    if resume is None:
        return
    changed = trainer.load_checkpoint(resume)
    total = trainer.total_steps()
    if trainer.step > total:
        raise InputError(f"checkpoint '{resume}' is at step {trainer.step}, and this run ends at step {total}: "
                         f"ask for {trainer.step} (the checkpoint's network as the model) or more "
                         f"({setting('iterations')} {trainer.step + 1000}, say) to continue training")
    if trainer.step == total:
        tell(f"checkpoint '{resume}' is at the last step ({total}): its network is written as the model")
    else:
        tell(f"resumed from step {trainer.step} of {total} ({resume})")
    if changed:
        listed = "; ".join(spelled(change, setting) for change in changed)  # keeps the settings named
        say(Message(f"resuming with settings that differ from the checkpoint's ({listed}): "
                    "the run will not match an uninterrupted one"))


def _with_previews(trainer: Trainer, folder: Path,
                   then: Optional[Callable[[Step], None]]) -> Callable[[Step], None]:
    """Rank 0's step callback: ``then`` (progress), and a sample image of the first readable photo at
    each checkpoint. Other processes report nothing (one progress bar under torchrun)."""
    size, every = trainer.settings.image_size, trainer.settings.checkpoint_every
    sample = next((s for s in (load_sample(f, size) for f in trainer.files) if s is not None), None)

    def callback(step: Step) -> None:
        if trainer.rank != 0:
            return
        if then is not None:
            then(step)
        if sample is not None and step.iteration % every == 0:
            try:
                write_image(folder / checkpoints.preview_name(step.iteration),
                            apply_model(trainer.output_net.eval(), sample[None]))
            except NeuralStyleError as exc:  # its disk is the checkpoints': the same stop, the model kept
                raise checkpoints.CheckpointWriteError(str(exc)) from exc
    return callback
