"""Denoising files: inputs to outputs, keeping what each file was, scoring against references.

The command line's ``denoise`` calls this; it has no click in it. A file keeps its
mode (greyscale stays greyscale), bit depth (16-bit stays 16-bit), alpha channel
(untouched), ICC profile and EXIF data.
"""

import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch

from ..errors import InputError
from ..io.images import OUTPUT_EXTENSIONS, check_output_path, read_image, to_tensor, write_image

Pair = Tuple[Path, Path]


def plan_outputs(inputs: Sequence[Path], output: Path) -> List[Pair]:
    """(input, output) pairs: ``output`` is the file for one input (or a folder it goes into, keeping
    its name), and the folder for several. Checks every path before any work."""
    inputs = [Path(p) for p in inputs]
    for path in inputs:
        if not path.exists():
            raise InputError(f"input '{path}' does not exist: check the path")
        if path.is_dir():
            raise InputError(f"input '{path}' is a folder: pass the image files in it (e.g. '{path}'/*.png)")
    names = [p.name for p in inputs]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError(f"two inputs are named '{dup}': outputs keep input names, so rename one")
    if len(inputs) == 1 and not output.is_dir():
        pairs = [(inputs[0], output)]
    else:
        if output.exists() and not output.is_dir():
            raise InputError(f"output '{output}' is a file but {len(inputs)} inputs need a folder: "
                             "pass a folder as -o")
        pairs = [(p, output / p.name) for p in inputs]
    for _, out in pairs:
        check_output_path(out, inputs=inputs, extensions=OUTPUT_EXTENSIONS)
    return pairs


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


def denoise_files(pairs: Sequence[Pair], *, reference: Optional[Path] = None, report: Optional[Path] = None,
                  on_file: Optional[Callable[[int, Dict], None]] = None, **options) -> List[Dict]:
    """Denoise each input into its output; returns one record per image (also written to ``report``)."""
    from .solver import run_denoise
    from ..core.metrics import psnr, ssim

    if report is not None:
        check_output_path(report, inputs=[p for p, _ in pairs], extensions=(".json",), what="report")
    if reference is not None and not reference.exists():
        raise InputError(f"reference '{reference}' does not exist: pass the clean image or a folder of them")
    if reference is not None and len(pairs) > 1 and not reference.is_dir():
        raise InputError(f"reference '{reference}' is one file but there are {len(pairs)} inputs: "
                         "pass a folder of clean images named like the inputs")
    references = {path: match_reference(reference, path) for path, _ in pairs} if reference is not None else {}
    records = []
    for index, (path, out) in enumerate(pairs, start=1):
        data = read_image(path, what="input image")
        noisy = to_tensor(data, channels=None)
        result = run_denoise(noisy, **options)
        image = result.image.cpu()
        record = {
            "input": str(path), "output": str(out), "size": list(noisy.shape[-2:]), "channels": noisy.shape[1],
            "bit_depth": data.bit_depth, "sigma": result.sigma, "sigma_255": result.sigma * 255,
            "sigma_estimated": result.sigma_estimated, "tv_weight": result.tv_weight, "tv_beta": result.tv_beta,
            "solver": result.solver, "iterations": result.iterations, "stop_reason": result.stop_reason,
            "seconds": result.seconds,
        }
        if reference is not None:
            clean_path = references[path]
            clean = read_image(clean_path, what="reference image")
            if clean.pixels.shape != data.pixels.shape:
                raise InputError(f"reference '{clean_path}' is {clean.pixels.shape[1]}x{clean.pixels.shape[0]}x"
                                 f"{clean.pixels.shape[2]} but '{path}' is {data.pixels.shape[1]}x"
                                 f"{data.pixels.shape[0]}x{data.pixels.shape[2]}: pass the matching clean image")
            target = to_tensor(clean, channels=None)
            record.update(reference=str(clean_path), psnr=float(psnr(image, target)), ssim=float(ssim(image, target)),
                          psnr_noisy=float(psnr(noisy, target)))
        write_image(out, image, bit_depth=data.bit_depth, alpha=data.alpha, icc_profile=data.icc_profile,
                    exif=data.exif)
        records.append(record)
        if on_file is not None:
            on_file(index, record)
        if result.stop_reason == "interrupted":
            raise KeyboardInterrupt
    if report is not None:
        from ..io.report import write_report

        summary = {}
        if reference is not None:
            summary = {"mean_psnr": sum(r["psnr"] for r in records) / len(records),
                       "mean_ssim": sum(r["ssim"] for r in records) / len(records)}
        write_report(report, {"command": "denoise", "settings": {k: v for k, v in options.items() if k != "callback"},
                              "images": records, **summary})
    return records
