"""The ``train``, ``transfer`` and ``export`` commands as Python functions, with files.

Each checks every output location before any work, does the work, writes its files
(model, checkpoints, previews, report, stylised images, exported models) and reports
progress through callbacks; the command line only formats what they report. Under
``torchrun`` (``WORLD_SIZE`` > 1 in the environment) :func:`train` joins the process group
(NCCL on GPUs, gloo on CPUs), and only rank 0 writes files.
"""

import contextlib
import math
import os
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

import torch
import torch.distributed as dist

from .. import signals
from ..core.device import resolve_device
from ..core.optimize import Step
from ..errors import InputError, NeuralStyleError
from ..io.decode import image_shape, to_tensor
from ..io.disk import require_space, same_disk
from ..io.encode import write_image
from ..io.inputs import name_failure
from ..io.outputs import check_output_path
from ..io.report import write_report
from ..rules import validate
from ..settings import DEFAULT_DEVICE, TrainSettings, TransferSettings, with_overrides
from . import checkpoints
from .export import EXPORT_EXTENSIONS, export_model
from .export import check_memory as check_export_memory
from .model_file import load_model, save_model
from .training import Trainer, TrainResult, load_sample, run_training
from .transfer import apply_model, plan_transfer, transfer_file

#: Fewer steps than this leave a weakly stylised network (README: 400 steps left a style ratio
#: of 0.31, 2400 gave 0.21 at 128 px, batch 4), so :func:`train` warns.
SHORT_TRAINING = 2000


@dataclass
class TrainRun:
    """What :func:`train` did: the loop's result and where things went.

    Attributes:
        result: the :class:`~neural_style.fast.training.TrainResult` (steps, history, stop reason...).
        output: the model file (written by rank 0 unless the loss became non-finite).
        checkpoint_dir: the checkpoint folder.
        device: the torch device of this process.
        rank, world_size: this process and the number of processes.
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
        if self.rank != 0 or self.result.stop_reason == "non-finite":
            return False
        return self.result.stop_reason == "completed" or self.result.steps > self.start_step

    @property
    def last_checkpoint(self) -> Path:
        """``last.ckpt`` in the checkpoint folder: what to resume from."""
        return self.checkpoint_dir / checkpoints.LAST


def train(style, dataset, output, settings: Optional[TrainSettings] = None, *, device=DEFAULT_DEVICE,
          checkpoint_dir=None, resume=None, report=None, callback: Optional[Callable[[Step], None]] = None,
          warn: Optional[Callable[[str], None]] = None, info: Optional[Callable[[str], None]] = None,
          download_progress: bool = True, **overrides) -> TrainRun:
    """Train a fast style network for ``style`` on the photos under ``dataset``; write it to ``output``.

    Args:
        style: the style image (path).
        dataset: a folder (any tree) of training photos; unreadable files are skipped and counted.
        output: the model file to write (``.pth`` or ``.pt``).
        settings: a :class:`~neural_style.settings.TrainSettings`; ``**overrides`` change its fields.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ... (under torchrun, CUDA uses ``LOCAL_RANK``).
        checkpoint_dir: where checkpoints and previews go (default ``<output stem>-checkpoints/``).
        resume: a checkpoint to continue from.
        report: write settings, per-logged-step losses and images per second as JSON.
        callback: called after every step (rank 0 only) with a :class:`~neural_style.core.optimize.Step`.
        warn: called with one line for each warning (default: :func:`warnings.warn`); rank 0 only.
        info: called with one line of news, like "resumed from step 40 ..." (default: nothing); rank 0 only.
        download_progress: show a progress bar while downloading torchvision's VGG weights.

    Returns:
        A :class:`TrainRun`. The model file is written unless the loss became non-finite
        (``result.stop_reason == "non-finite"``; the last checkpoint stays in ``checkpoint_dir``).
        After Ctrl-C the model so far is written and ``stop_reason`` is ``"interrupted"``.
    """
    settings = validate(with_overrides(settings, TrainSettings, overrides))
    output = Path(output)
    checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else checkpoints.default_checkpoint_dir(output)
    reads = [p for p in (style, resume, settings.weights) if isinstance(p, (str, os.PathLike))]
    check_output_path(output, inputs=reads, extensions=(".pth", ".pt"), what="model")
    if report is not None:
        check_output_path(report, inputs=[*reads, output], extensions=(".json",), what="report")
    check_output_path(checkpoint_dir / checkpoints.LAST, inputs=[style, settings.weights, output], extensions=(".ckpt",),
                      what="checkpoint")  # before the first step, not at the first checkpoint
    if resume is not None and not Path(resume).is_file():
        raise InputError(f"checkpoint '{resume}' does not exist: pass a .ckpt from the checkpoint folder")
    _check_no_other_run(checkpoint_dir, resume, Path(dataset))
    with _process_group(resolve_device(device)) as (dev, rank, world_size):
        say = (warn or _warn) if rank == 0 else (lambda message: None)
        try:
            trainer = Trainer(style, dataset, settings, device=dev, rank=rank, world_size=world_size,
                              download_progress=download_progress, exclude=[checkpoint_dir])
            _resume(trainer, resume, say, (info or (lambda message: None)) if rank == 0 else (lambda message: None))
        except KeyboardInterrupt:  # while reading the dataset, the style or the weights: the report says so
            if report is not None and rank == 0:
                stopped = TrainResult(steps=0, stop_reason="interrupted")
                _write_report(report, settings, style, dataset, dev, world_size, stopped, model_written=False)
            raise
        start_step = trainer.step
        if rank == 0:
            _check_space(trainer, output, checkpoint_dir)
        if trainer.total_steps() < SHORT_TRAINING:
            say(f"{trainer.total_steps()} training steps ({len(trainer.files)} files, batch {settings.batch_size}) "
                f"give a weakly stylised network: ask for --iterations {SHORT_TRAINING} or more (or more --epochs)")
        try:
            result = run_training(trainer, checkpoint_dir=checkpoint_dir,
                                  callback=_with_previews(trainer, checkpoint_dir, callback))
        except checkpoints.CheckpointWriteError as exc:  # keep the network trained so far, and say so
            if rank == 0:
                error, written = _save_after_failure(output, trainer, exc)
                if report is not None:
                    stopped = TrainResult(steps=trainer.step, stop_reason="checkpoint-failed")
                    try:
                        _write_report(report, settings, style, dataset, dev, world_size, stopped, written)
                    except NeuralStyleError as third:
                        error = NeuralStyleError(f"{error}; the report could not be written either ({third})")
                raise error from exc
            raise
        run = TrainRun(result, output, checkpoint_dir, dev, rank, world_size, start_step)
        with signals.deferred():  # a second Ctrl-C or SIGTERM while stopping: the model and report are written first
            if run.model_written:
                save_model(output, trainer.output_net, trainer.metadata())
            if report is not None and rank == 0:  # also when no model was written (stopped at step 0, non-finite)
                _write_report(report, settings, style, dataset, dev, world_size, result, run.model_written,
                              kept=f"wrote {output}" if run.model_written else None)
    return run


def _write_report(report, settings: TrainSettings, style, dataset, dev, world_size: int, result: TrainResult,
                  model_written: bool, kept: Optional[str] = None) -> None:
    write_report(report, {"command": "train", "settings": {**asdict(settings), "style": style, "dataset": dataset},
                          "device": str(dev), "world_size": world_size, "steps": result.steps,
                          "images_per_second": result.images_per_second, "skipped_files": result.skipped_files,
                          "skipped": result.skipped, "history": result.history, "model_written": model_written,
                          "stop_reason": result.stop_reason}, kept=kept)


def _weight_bytes(net: torch.nn.Module) -> int:
    """Bytes of a network's float32 parameters."""
    return 4 * sum(p.numel() for p in net.parameters())


def _check_space(trainer: Trainer, output: Path, checkpoint_dir: Path) -> None:
    """The checkpoints still to come (as many as are kept, plus ``last.ckpt`` and one being written) and
    the model must fit on their disks: an upper bound from the network's parameter count."""
    s = trainer.settings
    model_bytes = _weight_bytes(trainer.net) + 65536
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
        raise InputError(f"--checkpoint-dir '{checkpoint_dir}' is the dataset folder: choose another folder")
    found = sorted(checkpoint_dir.glob("step-*.ckpt")) + [p for p in [checkpoint_dir / checkpoints.LAST] if p.exists()]
    if not found or resume is not None:
        return
    raise InputError(f"checkpoint folder '{checkpoint_dir}' holds another run's checkpoints ({found[-1].name}): "
                     f"continue that run with --resume {checkpoint_dir / checkpoints.LAST}, or choose another "
                     "--checkpoint-dir (or -o), or delete them")


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


@contextlib.contextmanager
def _process_group(device: torch.device) -> Iterator[Tuple[torch.device, int, int]]:
    """(device, rank, world size); under torchrun, joins the process group for the block, and at its end
    waits for the other processes before leaving the group (after a failure, leaves at once)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world_size <= 1:
        yield device, rank, world_size
        return
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        yield device, rank, world_size
    except BaseException:  # the others may be stopped or gone: no barrier
        dist.destroy_process_group()
        raise
    dist.barrier()  # all leave together, once rank 0 has written the model: none exits while another still works
    dist.destroy_process_group()


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
                         f"(--iterations {trainer.step + 1000}, say) to continue training")
    if trainer.step == total:
        tell(f"checkpoint '{resume}' is at the last step ({total}): its network is written as the model")
    else:
        tell(f"resumed from step {trainer.step} of {total} ({resume})")
    if changed:
        say(f"resuming with settings that differ from the checkpoint's ({'; '.join(changed)}): "
            "the run will not match an uninterrupted one")


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


@dataclass
class TransferBatch:
    """What :func:`transfer` did.

    Attributes:
        records: ``{"input", "output", "frames", "seconds"}`` for each file written, in input order.
        failures: ``{"input", "output", "error"}`` for each file that could not be stylised (the
            others were still processed).
        unprocessed: inputs not finished because the run was interrupted (Ctrl-C, SIGTERM, SIGHUP);
            the file being stylised then is not written.
        stop_reason: ``"completed"`` or ``"interrupted"``.
    """

    records: List[dict] = field(default_factory=list)
    failures: List[dict] = field(default_factory=list)
    unprocessed: List[str] = field(default_factory=list)
    stop_reason: str = "completed"

    @property
    def written(self) -> List[Tuple[Path, Path]]:
        """The (input, output) pairs written, in order."""
        return [(Path(r["input"]), Path(r["output"])) for r in self.records]


def transfer(model, inputs: Sequence, output, settings: Optional[TransferSettings] = None, *,
             report=None, on_frame: Optional[Callable[[int, int, int, int], None]] = None,
             on_failure: Optional[Callable[[Path, str], None]] = None, **overrides) -> TransferBatch:
    """Stylise images, folders (their images and videos, names kept), GIFs and videos with a model file.

    With several inputs, a file that cannot be read or written is passed to ``on_failure`` and
    listed in the result; the others are still processed. Ctrl-C (or SIGTERM, SIGHUP under
    :func:`~neural_style.signals.interrupt_on_termination`) stops after the files finished so far.

    Args:
        model: a model file from :func:`train`.
        inputs: image, video or folder paths.
        output: the output file for one input, else a folder (a path ending in a separator is a folder).
        settings: a :class:`~neural_style.settings.TransferSettings`; ``**overrides`` change its fields.
        report: write the settings, the device used, the network's settings and training record (the
            model file's metadata: style, training settings such as the temporal weight, steps), the files
            written, failures and unprocessed inputs as JSON here (in every case, interrupted or not).
        on_frame: called with (file index from 0, number of files, frames done, frames in the file).
        on_failure: called with (input, one-line message) for each file that failed.

    Returns:
        A :class:`TransferBatch`.

    Raises:
        InputError: bad settings, paths or model, before any file; the error of a single input.
    """
    settings = validate(with_overrides(settings, TransferSettings, overrides))
    pairs = plan_transfer([Path(p) for p in inputs], output, protected=[model])
    if report is not None:
        check_output_path(report, inputs=[model, *(src for src, _ in pairs)], extensions=(".json",), what="report")
    device = resolve_device(settings.device)
    net, trained = load_model(model, device=device)
    batch = TransferBatch()
    for index, (src, dst) in enumerate(pairs):
        started = time.perf_counter()
        try:
            frames = transfer_file(net, src, dst, size=settings.size, original_colors=settings.original_colors,
                                   batch_size=settings.batch_size,
                                   on_frame=None if on_frame is None else (
                                       lambda done, total, i=index: on_frame(i, len(pairs), done, total)))
        except NeuralStyleError as exc:
            if len(pairs) == 1:
                raise
            message = name_failure(src, str(exc))
            batch.failures.append({"input": str(src), "output": str(dst), "error": message})
            if on_failure is not None:
                on_failure(src, message)
            continue
        except KeyboardInterrupt:
            batch.stop_reason = "interrupted"
            batch.unprocessed = [str(p) for p, _ in pairs[index:]]
            break
        batch.records.append({"input": str(src), "output": str(dst), "frames": frames,
                              "seconds": time.perf_counter() - started})
    if report is not None:
        write_report(report, {"command": "transfer", "model": str(model), "network": net.config,
                              "trained": trained, "device": str(device), "settings": asdict(settings),
                              "files": batch.records, "failures": batch.failures,
                              "unprocessed": batch.unprocessed, "stop_reason": batch.stop_reason},
                     kept=f"wrote {len(batch.records)} stylised file(s)" if batch.records else None)
    return batch


def export(model, output, *, check_image=None, report=None) -> dict:
    """Export a model file to ONNX (``.onnx``) or torch.export (``.pt2``) and check it.

    Args:
        report: write the model, the check image and the result as JSON.

    Returns:
        ``{"path", "format", "max_abs_diff" (None where onnxruntime is missing), "checked_with"}``.
    """
    output = Path(output)
    reads = [model] + ([check_image] if check_image else [])
    check_output_path(output, inputs=reads, extensions=EXPORT_EXTENSIONS, what="export")
    if report is not None:
        check_output_path(report, inputs=reads, extensions=(".json",), what="report", outputs={output: "export"})
    net, _ = load_model(model)
    require_space(output, 2 * _weight_bytes(net) + 2**20, "the exported model")  # the weights, the graph: checked
    # first, as torch's archive writer aborts the process on a full disk
    if check_image:
        shape = image_shape(check_image)
        if shape is not None:  # before decoding: a huge image is refused from its header
            check_export_memory(net, *shape)
    sample = to_tensor(check_image, what="check image") if check_image else None
    result = export_model(net, output, sample=sample)
    if report is not None:
        write_report(report, {"command": "export", "model": model, "network": net.config, "check_image": check_image,
                              **result},
                     kept=f"wrote {output}")
    return result
