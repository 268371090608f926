"""The cost of non-local TV against TV per image, full run_denoise with automatic sigma and lambda.

For each set slice (default the held-out halves, Set12[6:] grey and Kodak24[12:] colour, from
../shared/denoise) the first --images images get white Gaussian noise of --sigma (0..255 scale)
from numpy.random.default_rng(0) drawn over the whole image, rounded and clipped to 8 bits (as
benchmarks/denoise_vs_skimage.py, here in memory); then, in this process, one after the other,

- TV:   run_denoise(noisy, regularizer="tv")   (sigma estimated, lambda by SURE);
- NLTV: run_denoise(noisy, regularizer="nltv") (the same, plus its TV guide, the graph and its own
  SURE search: the whole call is timed).

Each line gives the seconds of each call (wall time around run_denoise, the fastest of --repeats),
their ratio NLTV / TV, and both PSNRs (outputs not rounded); the last lines the mean ratio and
the mean PSNRs per slice. The target of issue 29 is a mean ratio <= 3 without losing PSNR.

    python benchmarks/nltv_cost.py                          # 3 held-out images of each set (~2 min)
    python benchmarks/nltv_cost.py --images 6 --sigma 25
    python benchmarks/nltv_cost.py --sets "Set12[:6],Kodak24[:12]" --images 12   # the tuning halves
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from denoise_vs_skimage import select  # noqa: E402

from neural_style.denoising.solver import run_denoise  # noqa: E402
from neural_style.io.images import read_image  # noqa: E402

SHARED = ROOT.parent / "shared" / "denoise"


def noisy_pair(path: Path, sigma: float):
    """(clean, noisy) (1, C, H, W) float32 on [0, 1]: the noise of denoise_vs_skimage.make_noisy."""
    clean = read_image(path).pixels.astype(np.float64)  # (H, W, C) in [0, 1]
    noisy = clean + np.random.default_rng(0).normal(0, sigma / 255, clean.shape)
    noisy = np.clip(np.round(noisy * 255), 0, 255) / 255

    def tensor(a):
        return torch.from_numpy(a).permute(2, 0, 1)[None].float().contiguous()
    return tensor(clean), tensor(noisy)


def psnr(x: torch.Tensor, clean: torch.Tensor) -> float:
    return float(10 * torch.log10(1.0 / (x.double() - clean.double()).square().mean()))


def timed(noisy: torch.Tensor, regularizer: str, repeats: int):
    """(seconds, result): the fastest of ``repeats`` calls of run_denoise with ``regularizer``."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run_denoise(noisy, regularizer=regularizer, tv_weight="auto", sigma="auto")
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sets", default="Set12[6:],Kodak24[12:]", help="comma-separated set slices")
    p.add_argument("--images", type=int, default=3, help="the first N images of each slice (0: all)")
    p.add_argument("--sigma", type=float, default=25.0, help="noise on the 0..255 scale")
    p.add_argument("--repeats", type=int, default=1, help="calls per image and regularizer (the fastest counts)")
    args = p.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"needs {SHARED} (Set12, Kodak24)")
    print(f"torch threads {torch.get_num_threads()}, load {os.getloadavg()[0]:.2f}, sigma {args.sigma:g}")
    ratios = []
    for spec in args.sets.split(","):
        rows = []
        for path in select(spec)[1][: args.images or None]:
            clean, noisy = noisy_pair(path, args.sigma)
            tv_s, tv = timed(noisy, "tv", args.repeats)
            nltv_s, nltv = timed(noisy, "nltv", args.repeats)
            rows.append((tv_s, nltv_s, nltv_s / tv_s, psnr(tv.image, clean), psnr(nltv.image, clean)))
            print(f"{path.parent.name}/{path.name} {noisy.shape[-1]}x{noisy.shape[-2]}x{noisy.shape[1]}: "
                  f"tv {tv_s:6.2f} s  nltv {nltv_s:6.2f} s  ratio {rows[-1][2]:5.2f} | "
                  f"PSNR tv {rows[-1][3]:6.2f}  nltv {rows[-1][4]:6.2f} dB", flush=True)
        m = np.mean(rows, axis=0)
        ratios += [r[2] for r in rows]
        print(f"{spec}: {len(rows)} images, mean tv {m[0]:.2f} s  nltv {m[1]:.2f} s  ratio {m[2]:.2f} | "
              f"mean PSNR tv {m[3]:.2f}  nltv {m[4]:.2f} dB", flush=True)
    print(f"mean ratio nltv / tv over {len(ratios)} images: {np.mean(ratios):.2f} (target <= 3)")


if __name__ == "__main__":
    main()
