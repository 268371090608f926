"""One file of a ``denoise`` run: read, denoise, score against its reference, write; keeping what the
file was (mode, bit depth, alpha, ICC profile, EXIF data). Both the one-process batch
(:mod:`.runner`) and the worker processes (:mod:`.parallel`) run it."""

from pathlib import Path
from typing import Callable, Dict, Optional, Sequence, Tuple

import torch

from ..core.files import require_exists
from ..core.metrics import psnr, ssim
from ..core.optimize import Step
from ..errors import InputError
from ..io.decode import read_image, to_tensor
from ..io.encode import write_image
from ..io.report import size_record
from ..settings import DenoiseSettings
from .solver import DenoiseResult, run_denoise

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


def _record(path: Path, out: Path, noisy: torch.Tensor, bit_depth: int, result: DenoiseResult) -> Dict:
    run = result.run
    return {
        "input": str(path), "output": str(out), "size": size_record(noisy.shape[-2:]), "channels": noisy.shape[1],
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
