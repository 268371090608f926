"""The ``transfer`` command as a Python function, with files.

:func:`transfer` checks every output location before any work, stylises each input with a
model file (:mod:`.transfer`), and writes the report
(:class:`~neural_style.fast.reports.TransferReport`) in every case, interrupted or not.
"""

import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

from ..core.device import PRECISION_NAMES, resolve_device, resolve_precision
from ..errors import Message, setting
from ..io.batch import BatchResult, ItemCallback, run_batch
from ..io.inputs import as_list
from ..io.outputs import check_output_path
from ..io.video import VIDEO_EXTENSIONS, check_part_of
from ..rules import validate
from ..settings import TransferSettings, with_overrides
from .model_file import load_model
from .reports import TransferReport
from .transfer import plan_transfer, transfer_file

__all__ = ["transfer", "TransferBatch"]


@dataclass
class TransferBatch(BatchResult):
    """What :func:`transfer` did (a :class:`~neural_style.io.batch.BatchResult`).

    Attributes:
        records: ``{"input", "output", "frames", "seconds"}`` for each file written, in input order.
        failures: ``{"input", "output", "error"}`` for each file that could not be stylised (the
            others were still processed).
        unprocessed: inputs not finished because the run was interrupted (Ctrl-C, SIGTERM, SIGHUP);
            the file being stylised then is not written.
        stop_reason: :class:`~neural_style.core.stop.StopReason` ``COMPLETED`` or ``INTERRUPTED``.
    """


def transfer(model, inputs: Sequence, output, settings: Optional[TransferSettings] = None, *,
             report=None, on_frame: Optional[Callable[[int, int, int, int], None]] = None,
             on_failure: Optional[ItemCallback] = None, **overrides) -> TransferBatch:
    """Stylise images, folders (their images and videos, names kept), GIFs and videos with a model file.

    With several inputs, a file that cannot be read or written is passed to ``on_failure`` and
    listed in the result; the others are still processed. Ctrl-C (or SIGTERM, SIGHUP under
    :func:`~neural_style.signals.interrupt_on_termination`) stops after the files finished so far.

    Args:
        model: a model file from :func:`~neural_style.fast.train_run.train`.
        inputs: image, video or folder paths; one path (a str or Path) is one input.
        output: the output file for one input, else a folder (a path ending in a separator is a folder).
        settings: a :class:`~neural_style.settings.TransferSettings`; ``**overrides`` change its fields.
        report: write the settings, the device used, the network's settings and training record (the
            model file's metadata: style, training settings such as the temporal weight, steps), the files
            written, failures and unprocessed inputs as JSON here (in every case, interrupted or not):
            a :class:`~neural_style.fast.reports.TransferReport`.
        on_frame: called with (file index from 0, number of files, frames done, frames in the file).
        on_failure: called with (index from 1, failure) for each file that failed: the failure is
            ``{"input", "output", "error"}``, its error one line (:class:`~neural_style.errors.Message`).

    Returns:
        A :class:`TransferBatch`.

    Raises:
        InputError: bad settings, paths or model, before any file; the error of a single input.
    """
    settings = validate(with_overrides(settings, TransferSettings, overrides))
    pairs = plan_transfer([Path(p) for p in as_list(inputs)], output, protected=[model])  # one str: one input
    if report is not None:
        check_output_path(report, inputs=[model, *(src for src, _ in pairs)], extensions=(".json",), what="report")
    part = _part_of_videos(settings, pairs)
    device = resolve_device(settings.device)
    net, trained = load_model(model, device=device)

    def process(index: int, src: Path, dst: Path) -> dict:
        started = time.perf_counter()
        frames = transfer_file(net, src, dst, size=settings.size, original_colors=settings.original_colors,
                               precision=settings.precision,
                               part=part if src.suffix.lower() in VIDEO_EXTENSIONS else (0.0, None, None),
                               batch_size=settings.batch_size,
                               on_frame=None if on_frame is None else (
                                   lambda done, total: on_frame(index - 1, len(pairs), done, total)))
        return {"input": str(src), "output": str(dst), "frames": frames, "seconds": time.perf_counter() - started}

    batch = run_batch(TransferBatch(), pairs, process, on_failure=on_failure)
    if report is not None:
        TransferReport(model=str(model), network=net.config, trained=trained, device=str(device),
                       precision=PRECISION_NAMES[resolve_precision(settings.precision, device)],
                       settings=asdict(settings), files=batch.records, failures=batch.failures,
                       unprocessed=batch.unprocessed, stop_reason=batch.stop_reason).write(
            report, kept=f"wrote {len(batch.records)} stylised file(s)" if batch.records else None)
    return batch


def _part_of_videos(settings: TransferSettings, pairs) -> tuple:
    """The part of each video asked for (start, duration, frames). Refused where no input is a video; where
    some are not, they are stylised whole, which a warning says once."""
    part = (settings.start, settings.duration, settings.frames)
    if part == (0.0, None, None):
        return part
    others = [src for src, _ in pairs if src.suffix.lower() not in VIDEO_EXTENSIONS]
    if len(others) == len(pairs):
        check_part_of(others[0], *part)  # one line: a part of a video, not of this
    if others:
        warnings.warn(Message(f"{setting('start')}, {setting('duration')} and {setting('frames')} take a part of each "
                              f"video: the {len(others)} other input(s) (images, animations) are stylised whole"),
                      UserWarning, stacklevel=3)
    return part
