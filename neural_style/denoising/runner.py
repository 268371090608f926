"""The ``denoise`` command as a Python function: inputs to outputs, keeping what each file was,
scoring against references.

The command line's ``denoise`` calls this; it has no click in it. A file keeps its
mode (greyscale stays greyscale), bit depth (16-bit stays 16-bit), alpha channel
(untouched), ICC profile and EXIF data (:mod:`.files`). The batch is
:mod:`neural_style.io.batch`'s: one process, or worker processes (:mod:`.parallel`).
"""

import warnings
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Union

from ..core.device import resolve_device
from ..core.optimize import Step
from ..core.stop import StopReason
from ..errors import Message, NeuralStyleError, setting
from ..io.batch import ItemCallback, failure_message, run_batch
from ..io.inputs import plan_batch
from ..io.outputs import OUTPUT_EXTENSIONS, check_output_path
from ..io.report import write_report
from ..rules import validate
from ..settings import DenoiseBatchSettings, DenoiseSettings, with_overrides
from .files import Pair, denoise_one, match_reference, references
from .parallel import Outcome, resolve_jobs, run_parallel
from .report import DenoiseBatch, DenoiseReport
from .solver import solver_for

__all__ = ["DenoiseBatch", "denoise_files", "denoise_one", "match_reference", "plan_outputs"]


def plan_outputs(inputs: Sequence[Path], output: Path) -> List[Pair]:
    """(input, output) pairs: files and folders (their images) as every batch command takes them
    (:func:`neural_style.io.inputs.plan_batch`); every path checked before any work."""
    return plan_batch(inputs, output, OUTPUT_EXTENSIONS, lambda src: OUTPUT_EXTENSIONS)


def denoise_files(pairs: Sequence[Pair], settings: Optional[DenoiseSettings] = None, *,
                  reference: Optional[Path] = None, report: Optional[Path] = None,
                  on_file: Optional[ItemCallback] = None,
                  on_failure: Optional[ItemCallback] = None,
                  callback: Optional[Callable[[Step], None]] = None,
                  warn: Optional[Callable[[str], None]] = None,
                  jobs: Union[int, str] = DenoiseBatchSettings.jobs, **overrides) -> DenoiseBatch:
    """Denoise each input into its output, keeping mode, bit depth, alpha, ICC and EXIF.

    A file that cannot be read or denoised is recorded in ``failures`` and the others are still
    processed; after Ctrl-C or SIGTERM the file being denoised is written with its best image so
    far, the rest are listed in ``unprocessed``, and the report is written in every case.

    Args:
        pairs: (input, output) paths, from :func:`plan_outputs`.
        settings: the :class:`~neural_style.settings.DenoiseSettings` for every image; ``**overrides``
            change its fields (``tv_beta=1.5``).
        reference: the clean image, or a folder of them matched by name (see :func:`~.files.match_reference`).
        report: write the settings, the records, failures, unprocessed files and means as JSON here
            (:class:`~.report.DenoiseReport`).
        on_file: called with (1-based index, record) after each file is written.
        on_failure: called with (1-based index, failure) for each file that failed.
        callback: the solver's progress callback (one process only: workers report per file).
        warn: called with one line (a :class:`~neural_style.errors.Message`) for each warning
            (default: :func:`warnings.warn`).
        jobs: worker processes, one thread each, or ``"auto"`` (one per available core, at most one
            per file); 1 denoises in this process (see :mod:`.parallel`).

    Returns:
        A :class:`DenoiseBatch`.

    Raises:
        InputError: bad settings or paths, before any file is processed; with one input, its error.
    """
    settings = with_overrides(settings, DenoiseSettings, overrides)
    solver_for(settings)  # every setting checked before the first file
    resolve_device(settings.device)  # an unknown or absent device: one usage error, not a failure per file
    say = warn or _warn
    if settings.tv_beta < 1:
        say(Message(f"{setting('tv_beta')} {settings.tv_beta:g} < 1 is non-convex and gives spike artefacts"))
    if report is not None:
        check_output_path(report, inputs=[p for p, _ in pairs], extensions=(".json",), what="report")
    clean = references(reference, pairs)
    for _, out in pairs:  # a reference is an input too: never overwritten
        check_output_path(out, inputs=list(clean.values()))
    jobs = resolve_jobs(validate(DenoiseBatchSettings(jobs=jobs)).jobs, len(pairs))
    if jobs > 1 and resolve_device(settings.device).type != "cpu":  # one accelerator: one process uses it
        say(Message(f"{setting('jobs')} {jobs} is for denoising on CPUs: one process denoises on {settings.device}"))
        jobs = 1
    batch = DenoiseBatch(jobs=jobs)
    if jobs > 1:
        _denoise_parallel(batch, pairs, settings, clean, jobs, on_file, on_failure)
    else:
        _denoise_serial(batch, pairs, settings, clean, callback, on_file, on_failure)
    _finish(batch, settings, reference, report)
    return batch


def _denoise_serial(batch: DenoiseBatch, pairs: Sequence[Pair], settings: DenoiseSettings, clean: Dict[Path, Path],
                    callback, on_file, on_failure) -> None:
    """The batch in this process (:func:`~neural_style.io.batch.run_batch`): every error names its file."""
    def process(index: int, path: Path, out: Path) -> Dict:
        try:
            return denoise_one(path, out, settings, clean.get(path), callback)
        except NeuralStyleError as exc:
            exc.args = (failure_message(path, exc),)
            raise

    run_batch(batch, pairs, process, on_item=on_file, on_failure=on_failure)


def _denoise_parallel(batch: DenoiseBatch, pairs: Sequence[Pair], settings: DenoiseSettings,
                      clean: Dict[Path, Path], jobs: int, on_file, on_failure) -> None:
    """The batch in ``jobs`` worker processes; outcomes, callbacks and records in input order."""
    def take(outcome: Outcome) -> None:
        index, kind, value = outcome
        path, out = pairs[index]
        if kind == "done":
            batch.add(index + 1, value, on_file)
        elif kind == "failed":
            batch.fail(index + 1, path, out, value, on_failure)
        else:
            batch.skip([path])

    work = [(path, out, clean.get(path)) for path, out in pairs]
    stopped = run_parallel(jobs, work, settings, take)
    if stopped or any(r["stop_reason"] == StopReason.INTERRUPTED for r in batch.records):
        batch.stop()


def _finish(batch: DenoiseBatch, settings: DenoiseSettings, reference, report: Optional[Path]) -> None:
    """The means over the scored images, and the report."""
    scored = [r for r in batch.records if "psnr" in r]
    if reference is not None and scored:
        batch.mean_psnr = sum(r["psnr"] for r in scored) / len(scored)
        batch.mean_ssim = sum(r["ssim"] for r in scored) / len(scored)
    if report is not None:
        write_report(report, DenoiseReport.of(batch, settings),
                     kept=f"wrote {len(batch.records)} denoised file(s)" if batch.records else None)


def _warn(message: str) -> None:
    warnings.warn(message, stacklevel=3)
