"""One file of a ``denoise`` or ``restore`` run: read, denoise (or restore), score against its reference,
write; keeping what the file was (mode, bit depth, alpha, ICC profile, EXIF data; an enlarged image's
alpha is enlarged with it and its DPI multiplied by the factor, so that its print size stays). Both the
one-process batch (:mod:`.runner`) and the worker processes (:mod:`.parallel`) run it; the settings'
class says which: :class:`~neural_style.settings.RestoreSettings` restores."""

from pathlib import Path
from typing import Callable, Dict, Optional, Sequence, Tuple

import torch

from ..core.files import require_exists
from ..core.metrics import psnr, ssim
from ..core.optimize import Step
from ..errors import InputError
from ..io.decode import read_image, to_tensor
from ..io.encode import copy_image, write_image
from ..io.report import size_record
from ..settings import DenoiseSettings, RestoreSettings
from .kinds import enlarged_alpha
from .restore import run_restore
from .restore_api import degradation_for
from .solver import run_denoise

Pair = Tuple[Path, Path]


def denoise_one(path: Path, out: Path, settings: DenoiseSettings, reference: Optional[Path],
                callback: Optional[Callable[[Step], None]], solved: Optional[Callable[[], None]] = None) -> Dict:
    """Read, denoise and write one file; its record (see :class:`~.report.DenoiseBatch`).

    Args:
        path, out: the input and the output file.
        settings: how to denoise.
        reference: the clean image to score against, or None.
        callback: the solver's progress callback.
        solved: called when the solver has finished, before scoring and writing (a worker stops
            being interruptible there).

    Raises:
        NeuralStyleError: the file cannot be read, denoised, scored or written.
    """
    data = read_image(path, what="input image")
    noisy = to_tensor(data, channels=None)
    if isinstance(settings, RestoreSettings):
        result = run_restore(noisy, degradation_for(data, settings), settings, callback=callback)
    else:
        result = run_denoise(noisy, settings, callback=callback)
    if solved is not None:
        solved()
    image = result.image.cpu().clamp(0, 1)
    record = _record(path, out, noisy, image, data.bit_depth, result)
    if reference is not None:  # scored as written: at the file's levels (a lossless format's exact pixels)
        levels = 2 ** data.bit_depth - 1
        record.update(_scores(reference, path, data, noisy, image.mul(levels).round_().div_(levels)))
    if result.optimizer == "none" and copy_image(path, out):  # a mask with nothing to fill: the file itself
        return record
    factor = image.shape[-1] / noisy.shape[-1]
    dpi = None if data.dpi is None else tuple(d * factor for d in data.dpi)
    write_image(out, image, bit_depth=data.bit_depth, alpha=enlarged_alpha(data.alpha, image.shape[-2:]),
                icc_profile=data.icc_profile, exif=data.exif, dpi=dpi)
    return record


def match_reference(reference: Path, image: Path) -> Path:
    """The clean image for ``image``: ``reference`` itself, or the file of the same name (or stem) in it.

    Raises:
        InputError: a folder without a file of that name or stem.
    """
    if not reference.is_dir():
        return reference
    exact = reference / image.name
    if exact.exists():
        return exact
    stems = sorted(p for p in reference.iterdir() if p.stem == image.stem)
    if not stems:
        raise InputError(f"no reference for '{image.name}' in '{reference}': name the clean image like the input")
    return stems[0]


def references(reference: Optional[Path], pairs: Sequence[Pair]) -> Dict[Path, Path]:
    """``{input: its clean image}`` for every pair ({} without a reference).

    Raises:
        InputError: ``reference`` does not exist, is one file for several inputs, or lacks an input's image.
    """
    if reference is None:
        return {}
    require_exists(reference, f"reference '{reference}'", "pass the clean image or a folder of them")
    if len(pairs) > 1 and not reference.is_dir():
        raise InputError(f"reference '{reference}' is one file but there are {len(pairs)} inputs: "
                         "pass a folder of clean images named like the inputs")
    return {path: match_reference(reference, path) for path, _ in pairs}


def _record(path: Path, out: Path, noisy: torch.Tensor, image: torch.Tensor, bit_depth: int, result) -> Dict:
    """The record of a :class:`~.solver.DenoiseResult` (sure, sure_evaluations) or a
    :class:`~.restore.RestoreResult` (output_size, residual, lambda_evaluations)."""
    run = result.run
    record = {
        "input": str(path), "output": str(out), "size": size_record(noisy.shape[-2:]), "channels": noisy.shape[1],
        "bit_depth": bit_depth, "sigma": result.sigma, "sigma_255": result.sigma * 255,
        "sigma_estimated": result.sigma_estimated, "regularizer": result.regularizer, "tv_weight": result.tv_weight,
        "tv_weight_method": result.tv_weight_method,
    }
    if hasattr(result, "sure"):
        record.update(sure=result.sure, sure_evaluations=result.sure_evaluations)
    else:
        record.update(output_size=size_record(image.shape[-2:]), residual=result.residual,
                      lambda_evaluations=result.evaluations)
    record.update(tv_beta=result.tv_beta, optimizer=result.optimizer, iterations=run.iterations,
                  stop_reason=run.stop_reason, seconds=run.seconds)
    work = getattr(result, "work", None)  # restore's: every solve (a search's, NLTV's guide's) counted
    if work is not None:
        record.update(solves=work.solves, iterations_total=work.iterations)
    return record


def _scores(clean_path: Path, path: Path, data, noisy: torch.Tensor, image: torch.Tensor) -> Dict:
    """PSNR and SSIM of the result against the reference (of the result's size), and the input's PSNR when
    it has that size too."""
    clean = read_image(clean_path, what="reference image")
    want = (image.shape[-2], image.shape[-1], data.pixels.shape[2])
    if clean.pixels.shape != want:
        raise InputError(f"reference '{clean_path}' is {clean.pixels.shape[1]}x{clean.pixels.shape[0]}x"
                         f"{clean.pixels.shape[2]} but the result of '{path}' is {want[1]}x{want[0]}x{want[2]}: "
                         "pass the matching clean image")
    target = to_tensor(clean, channels=None)
    scores = {"reference": str(clean_path), "psnr": float(psnr(image, target)), "ssim": float(ssim(image, target))}
    if noisy.shape == target.shape:
        scores["psnr_noisy"] = float(psnr(noisy, target))
    return scores
