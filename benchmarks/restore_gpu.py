"""Issue 29's GPU row: a 3840x2160 colour deblur on the GPU, its time per image and its PSNR against the
CPU's result of the same restoration (run where a GPU is lent; a few minutes on one H100 or H200).

The clean image is examples/inputs/kodim23.jpg enlarged by Pillow's Lanczos filter and cropped to the size
asked (the repository's own picture: ../shared does not travel to a lent machine; an enlargement is
smoother than a 4K photo, which changes the PSNR, not the parity being measured). It is degraded as
benchmarks/restore_vs_peers.py degrades (``restore_peers.blur``: reflect boundary, Gaussian noise of sigma
2 on the 0..255 scale, seed 0, not clipped). Each device then runs
``run_restore`` with the defaults (``--regularizer auto``: TV above 4 megapixels, by ADMM; sigma and
lambda automatic; ``--regularizer`` for another prior), and, with ``--fixed``, at the lambda the CPU's
automatic run chose. A first run on a
small image warms each device up (CUDA's start, cuFFT's plans). Printed and written: seconds, PSNR,
lambda, iterations, peak GPU memory, and the largest difference between the devices' images.

    python benchmarks/restore_gpu.py --json $OUT/restore_gpu.json          # on the GPU (CPU row too)
    python benchmarks/restore_gpu.py --devices cpu,cpu --size 384x216      # dry run here, small
"""

import argparse
import json
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import torch
from PIL import Image

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import restore_peers as rp  # noqa: E402

from neural_style.core import metrics  # noqa: E402
from neural_style.denoising.degradation import Degradation  # noqa: E402
from neural_style.denoising.kernels import kernel_from_spec  # noqa: E402
from neural_style.denoising.restore import run_restore  # noqa: E402

PICTURE = ROOT / "examples/inputs/kodim23.jpg"


def clean_image(width: int, height: int) -> np.ndarray:
    """(H, W, 3) float64 in [0, 1]: the picture enlarged (Lanczos) to cover the size, centre-cropped."""
    picture = Image.open(PICTURE).convert("RGB")
    scale = max(width / picture.width, height / picture.height)
    big = picture.resize((round(picture.width * scale), round(picture.height * scale)), Image.LANCZOS)
    left, top = (big.width - width) // 2, (big.height - height) // 2
    return np.asarray(big.crop((left, top, left + width, top + height)), dtype=np.float64) / 255


def degraded(clean: np.ndarray, kernel: torch.Tensor, noise_255: float) -> torch.Tensor:
    """The benchmark's blurred, noisy image (module doc) as a (1, 3, H, W) float32 tensor."""
    return torch.from_numpy(rp.blur(clean, kernel.numpy(), noise_255)).permute(2, 0, 1)[None].float().contiguous()


def psnr(image: torch.Tensor, clean: torch.Tensor) -> float:
    return float(metrics.psnr(image.float().cpu().clamp(0, 1), clean))


def timed_restore(y: torch.Tensor, kernel: torch.Tensor, device: str, **options) -> dict:
    """One restoration on ``device``: its image (on the CPU), seconds and what the result says."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    result = run_restore(y, Degradation(kernel=kernel), device=device, **options)
    image = result.run.image.float().cpu()  # the copy back waits for the device
    seconds = time.perf_counter() - start
    return {"image": image, "seconds": seconds, "tv_weight": result.tv_weight, "optimizer": result.optimizer,
            "regularizer": result.regularizer, "iterations": result.run.iterations,
            "stop_reason": str(result.run.stop_reason),
            "peak_gib": torch.cuda.max_memory_allocated() / 2**30 if device.startswith("cuda") else None}


def run_device(device: str, y: torch.Tensor, clean: torch.Tensor, kernel: torch.Tensor, plan: dict,
               small: torch.Tensor = None) -> dict:
    """The warm-up on ``small`` (when given), then each ``plan`` entry (name -> run_restore options)."""
    row = {"device": device}
    try:
        if small is not None:
            row["warm_up_seconds"] = round(timed_restore(small, kernel, device)["seconds"], 3)
        for name, options in plan.items():
            r = timed_restore(y, kernel, device, **options)
            row[name] = {k: v for k, v in r.items() if k != "image"}
            row[name]["psnr"] = round(psnr(r["image"], clean), 3)
            row[name + "_image"] = r["image"]
            print(f"{device} {name}: {r['seconds']:.2f} s, PSNR {row[name]['psnr']:.2f} dB, {r['regularizer']} by "
                  f"{r['optimizer']}, lambda {r['tv_weight']:.4g}, {r['iterations']} iterations"
                  + (f", peak {r['peak_gib']:.2f} GiB" if r["peak_gib"] is not None else ""), flush=True)
    except Exception as exc:  # one device's failure is a figure too: record it and go on
        row["error"] = f"{type(exc).__name__}: {exc}"
        row["traceback"] = traceback.format_exc()
        print(f"{device}: {row['error']}", flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="3840x2160", help="WIDTHxHEIGHT of the image")
    parser.add_argument("--devices", default="cpu,cuda", help="the reference device first, then the one compared")
    parser.add_argument("--blur", default="gaussian:1.6")
    parser.add_argument("--noise", type=float, default=2.0, help="noise sigma on the 0..255 scale")
    parser.add_argument("--fixed", action="store_true", help="also both devices at the first one's lambda")
    parser.add_argument("--regularizer", default="auto", help="auto (TV above 4 megapixels), tv, tgv or nltv")
    parser.add_argument("--json")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    kernel = kernel_from_spec(args.blur)
    picture = clean_image(width, height)
    clean = torch.from_numpy(picture).permute(2, 0, 1)[None].float()
    y = degraded(picture, kernel, args.noise)
    small = degraded(clean_image(128, 96), kernel, args.noise)
    print(f"{width}x{height} colour, blur {args.blur}, noise {args.noise:g}; degraded PSNR {psnr(y, clean):.2f} dB; "
          f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads"
          + (f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ", no GPU"), flush=True)
    reference, compared = args.devices.split(",")
    prior = {"regularizer": args.regularizer}
    first = run_device(reference, y, clean, kernel, {"auto": prior}, small)
    plan = {"auto": prior}
    if args.fixed and "auto" in first:
        plan["fixed"] = {**prior, "tv_weight": first["auto"]["tv_weight"]}
        first.update(run_device(reference, y, clean, kernel, {"fixed": plan["fixed"]}))
    second = run_device(compared, y, clean, kernel, plan, small)
    summary = {}
    for name in ("auto", "fixed"):
        if name in first and name in second:
            difference = float((first[name + "_image"] - second[name + "_image"]).abs().max())
            summary[name] = {"seconds_ratio": round(second[name]["seconds"] / first[name]["seconds"], 4),
                             "psnr_difference_db": round(second[name]["psnr"] - first[name]["psnr"], 4),
                             "max_abs_difference_255": round(difference * 255, 3)}
            print(f"{name}: {compared} / {reference} time {summary[name]['seconds_ratio']:.3f}, PSNR difference "
                  f"{summary[name]['psnr_difference_db']:+.3f} dB, largest pixel difference "
                  f"{summary[name]['max_abs_difference_255']:.2f} levels", flush=True)
    if args.json:
        rows = [{k: v for k, v in row.items() if not k.endswith("_image")} for row in (first, second)]
        Path(args.json).write_text(json.dumps({"size": [width, height], "blur": args.blur, "noise": args.noise,
                                               "regularizer": args.regularizer, "rows": rows, "summary": summary},
                                              indent=2))


if __name__ == "__main__":
    main()
