"""The ``denoise`` command as a Python function: inputs to outputs, keeping what each file was,
scoring against references.

The command line's ``denoise`` calls this; it has no click in it. A file keeps its
mode (greyscale stays greyscale), bit depth (16-bit stays 16-bit), alpha channel
(untouched), ICC profile and EXIF data.
"""

import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch

from ..core.device import resolve_device
from ..core.files import require_exists
from ..core.metrics import psnr, ssim
from ..core.optimize import Step
from ..errors import InputError, NeuralStyleError
from ..io.decode import read_image, to_tensor
from ..io.encode import write_image
from ..io.inputs import name_failure, plan_batch
from ..io.outputs import OUTPUT_EXTENSIONS, check_output_path
from ..io.report import write_report
from ..rules import validate
from ..settings import DenoiseBatchSettings, DenoiseSettings
from .parallel import resolve_jobs, run_parallel
from .solver import DenoiseResult, run_denoise, solver_for

Pair = Tuple[Path, Path]


def plan_outputs(inputs: Sequence[Path], output: Path) -> List[Pair]:
    """(input, output) pairs: files and folders (their images) as every batch command takes them
    (:func:`neural_style.io.inputs.plan_batch`); every path checked before any work."""
    return plan_batch(inputs, output, OUTPUT_EXTENSIONS, lambda src: OUTPUT_EXTENSIONS)


def match_reference(reference: Path, image: Path) -> Path:
    """The clean image for ``image``: ``reference`` itself, or the file of the same name (or stem) in it."""
    if not reference.is_dir():
        return reference
    exact = reference / image.name
    if exact.exists():
        return exact
    stems = sorted(p for p in reference.iterdir() if p.stem == image.stem)
    if not stems:
        raise InputError(f"no reference for '{image.name}' in '{reference}': name the clean image like the input")
    return stems[0]


@dataclass
class DenoiseBatch:
    """What :func:`denoise_files` did.

    Attributes:
        records: one dict per image written, in input order: input, output, size, channels,
            bit_depth, sigma (and sigma_255, sigma_estimated), tv_weight (and tv_weight_method,
            sure, sure_evaluations), tv_beta, optimizer,
            iterations, stop_reason, seconds; with a reference also psnr, ssim (of the output)
            and psnr_noisy.
        failures: ``{"input", "output", "error"}`` for each file that could not be denoised (the
            others were still processed).
        unprocessed: inputs not reached because the run was interrupted (Ctrl-C, SIGTERM).
        stop_reason: ``"completed"`` or ``"interrupted"``.
        mean_psnr, mean_ssim: over the scored images, in dB and [0, 1]; None without a reference.
        jobs: the worker processes used (1: this process).
    """

    records: List[Dict] = field(default_factory=list)
    failures: List[Dict] = field(default_factory=list)
    unprocessed: List[str] = field(default_factory=list)
    stop_reason: str = "completed"
    mean_psnr: Optional[float] = None
    mean_ssim: Optional[float] = None
    jobs: int = 1


def denoise_files(pairs: Sequence[Pair], settings: Optional[DenoiseSettings] = None, *,
                  reference: Optional[Path] = None, report: Optional[Path] = None,
                  on_file: Optional[Callable[[int, Dict], None]] = None,
                  on_failure: Optional[Callable[[int, Dict], None]] = None,
                  callback: Optional[Callable[[Step], None]] = None,
                  warn: Optional[Callable[[str], None]] = None,
                  jobs: Union[int, str] = DenoiseBatchSettings.jobs) -> DenoiseBatch:
    """Denoise each input into its output, keeping mode, bit depth, alpha, ICC and EXIF.

    A file that cannot be read or denoised is recorded in ``failures`` and the others are still
    processed; after Ctrl-C or SIGTERM the file being denoised is written with its best image so
    far, the rest are listed in ``unprocessed``, and the report is written in every case.

    Args:
        pairs: (input, output) paths, from :func:`plan_outputs`.
        settings: the :class:`~neural_style.settings.DenoiseSettings` for every image.
        reference: the clean image, or a folder of them matched by name (see :func:`match_reference`).
        report: write the settings, the records, failures, unprocessed files and means as JSON here.
        on_file: called with (1-based index, record) after each file is written.
        on_failure: called with (1-based index, failure) for each file that failed.
        callback: the solver's progress callback (one process only: workers report per file).
        warn: called with one line for each warning (default: :func:`warnings.warn`).
        jobs: worker processes, one thread each, or ``"auto"`` (one per available core, at most one
            per file); 1 denoises in this process (see :mod:`.parallel`).

    Returns:
        A :class:`DenoiseBatch`.

    Raises:
        InputError: bad settings or paths, before any file is processed.
    """
    settings = settings or DenoiseSettings()
    solver_for(settings)  # every setting checked before the first file
    if settings.tv_beta < 1:
        (warn or _warn)(f"--tv-beta {settings.tv_beta:g} < 1 is non-convex and gives spike artefacts")
    if report is not None:
        check_output_path(report, inputs=[p for p, _ in pairs], extensions=(".json",), what="report")
    references = _references(reference, pairs)
    for _, out in pairs:  # a reference is an input too: never overwritten
        check_output_path(out, inputs=list(references.values()))
    jobs = resolve_jobs(validate(DenoiseBatchSettings(jobs=jobs)).jobs, len(pairs))
    if jobs > 1 and resolve_device(settings.device).type != "cpu":  # one accelerator: one process uses it
        (warn or _warn)(f"--jobs {jobs} is for denoising on CPUs: one process denoises on {settings.device}")
        jobs = 1
    batch = DenoiseBatch(jobs=jobs)
    if jobs > 1:
        _denoise_parallel(batch, pairs, settings, references, jobs, on_file, on_failure)
    else:
        _denoise_serial(batch, pairs, settings, references, callback, on_file, on_failure)
    _finish(batch, settings, reference, report)
    return batch


def _denoise_serial(batch: DenoiseBatch, pairs: Sequence[Pair], settings, references, callback, on_file,
                    on_failure) -> None:
    for index, (path, out) in enumerate(pairs, start=1):
        try:
            record = denoise_one(path, out, settings, references.get(path), callback)
        except NeuralStyleError as exc:
            message = name_failure(path, str(exc))
            if len(pairs) == 1:
                exc.args = (message,)
                raise  # one file: its error is the run's
            batch.failures.append({"input": str(path), "output": str(out), "error": message})
            if on_failure is not None:
                on_failure(index, batch.failures[-1])
            continue
        except KeyboardInterrupt:
            record = None
        if record is not None:
            batch.records.append(record)
            if on_file is not None:
                on_file(index, record)
        if record is None or record["stop_reason"] == "interrupted":
            batch.stop_reason = "interrupted"
            batch.unprocessed = [str(p) for p, _ in pairs[index - (record is None):]]
            break


def _denoise_parallel(batch: DenoiseBatch, pairs: Sequence[Pair], settings, references, jobs: int, on_file,
                      on_failure) -> None:
    """The batch in ``jobs`` worker processes; outcomes, callbacks and records in input order."""
    def take(outcome) -> None:
        index, kind, value = outcome
        path, out = pairs[index]
        if kind == "done":
            batch.records.append(value)
            if on_file is not None:
                on_file(index + 1, value)
        elif kind == "failed":
            batch.failures.append({"input": str(path), "output": str(out), "error": name_failure(path, value)})
            if on_failure is not None:
                on_failure(index + 1, batch.failures[-1])
        else:
            batch.unprocessed.append(str(path))

    work = [(path, out, references.get(path)) for path, out in pairs]
    if run_parallel(jobs, work, settings, take) or any(r["stop_reason"] == "interrupted" for r in batch.records):
        batch.stop_reason = "interrupted"


def denoise_one(path: Path, out: Path, settings: DenoiseSettings, reference: Optional[Path],
                 callback, solved: Optional[Callable[[], None]] = None) -> Dict:
    """Read, denoise and write one file; its record (also what a worker of :mod:`.parallel` runs).
    ``solved`` is called when the solver has finished, before scoring and writing (a worker stops
    being interruptible there)."""
    data = read_image(path, what="input image")
    noisy = to_tensor(data, channels=None)
    result = run_denoise(noisy, settings, callback=callback)
    if solved is not None:
        solved()
    image = result.image.cpu().clamp(0, 1)  # what the 8- or 16-bit file holds: scored as written
    record = _record(path, out, noisy, data.bit_depth, result)
    if reference is not None:
        record.update(_scores(reference, path, data, noisy, image))
    write_image(out, image, bit_depth=data.bit_depth, alpha=data.alpha, icc_profile=data.icc_profile,
                exif=data.exif, dpi=data.dpi)
    return record


def _finish(batch: DenoiseBatch, settings: DenoiseSettings, reference, report: Optional[Path]) -> None:
    """The means over the scored images, and the report."""
    scored = [r for r in batch.records if "psnr" in r]
    if reference is not None and scored:
        batch.mean_psnr = sum(r["psnr"] for r in scored) / len(scored)
        batch.mean_ssim = sum(r["ssim"] for r in scored) / len(scored)
    if report is not None:
        summary = {} if batch.mean_psnr is None else {"mean_psnr": batch.mean_psnr, "mean_ssim": batch.mean_ssim}
        write_report(report, {"command": "denoise", "settings": asdict(settings), "jobs": batch.jobs,
                              "images": batch.records,
                              "failures": batch.failures, "unprocessed": batch.unprocessed,
                              "stop_reason": batch.stop_reason, **summary},
                     kept=f"wrote {len(batch.records)} denoised file(s)" if batch.records else None)


def _warn(message: str) -> None:
    warnings.warn(message, stacklevel=3)


def _references(reference: Optional[Path], pairs: Sequence[Pair]) -> Dict[Path, Path]:
    if reference is None:
        return {}
    require_exists(reference, f"reference '{reference}'", "pass the clean image or a folder of them")
    if len(pairs) > 1 and not reference.is_dir():
        raise InputError(f"reference '{reference}' is one file but there are {len(pairs)} inputs: "
                         "pass a folder of clean images named like the inputs")
    return {path: match_reference(reference, path) for path, _ in pairs}


def _record(path: Path, out: Path, noisy: torch.Tensor, bit_depth: int, result: DenoiseResult) -> Dict:
    run = result.run
    return {
        "input": str(path), "output": str(out), "size": list(noisy.shape[-2:]), "channels": noisy.shape[1],
        "bit_depth": bit_depth, "sigma": result.sigma, "sigma_255": result.sigma * 255,
        "sigma_estimated": result.sigma_estimated, "regularizer": result.regularizer, "tv_weight": result.tv_weight,
        "tv_weight_method": result.tv_weight_method, "sure": result.sure,
        "sure_evaluations": result.sure_evaluations, "tv_beta": result.tv_beta,
        "optimizer": result.optimizer, "iterations": run.iterations, "stop_reason": run.stop_reason,
        "seconds": run.seconds,
    }


def _scores(clean_path: Path, path: Path, data, noisy: torch.Tensor, image: torch.Tensor) -> Dict:
    clean = read_image(clean_path, what="reference image")
    if clean.pixels.shape != data.pixels.shape:
        raise InputError(f"reference '{clean_path}' is {clean.pixels.shape[1]}x{clean.pixels.shape[0]}x"
                         f"{clean.pixels.shape[2]} but '{path}' is {data.pixels.shape[1]}x"
                         f"{data.pixels.shape[0]}x{data.pixels.shape[2]}: pass the matching clean image")
    target = to_tensor(clean, channels=None)
    return {"reference": str(clean_path), "psnr": float(psnr(image, target)), "ssim": float(ssim(image, target)),
            "psnr_noisy": float(psnr(noisy, target))}
