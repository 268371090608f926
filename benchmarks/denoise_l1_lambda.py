"""The automatic lambda of ``denoise --fidelity l1`` and ``charbonnier``: PSNR against lambda on impulse
(salt-and-pepper) and Gaussian noise, and what ``--tv-weight auto`` gives, in one run.

For the first ``--limit`` images of ../shared/denoise/Set12 (grey, 256 x 256): salt-and-pepper noise of
density 10% and 30% (each corrupted pixel 0 or 255 with equal odds) and white Gaussian noise of sigma 25
(0..255), from numpy.random.default_rng(0), rounded to 8 bits. Each fidelity is run (``neural_style.denoise``,
its defaults: L-BFGS, beta 1) at every lambda of the grid and with the automatic lambda; the table gives
the mean PSNR (dB) over the images per noise and lambda, the noisy input's PSNR, and the best grid lambda.

    python benchmarks/denoise_l1_lambda.py                    # 3 images, ~6 min on 2 cores

Before issue 27 the automatic lambda was the l2 rule's (lambda = 1.36 sigma^1.23: about 0.08 at sigma
25): far below what an l1 data term needs to move at all (a pixel leaves its noisy value only where
lambda times the TV's pull beats the l1 term's unit slope), so l1 and Charbonnier returned the input.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import neural_style  # noqa: E402
from neural_style.io.images import read_image  # noqa: E402

SET12 = ROOT.parent / "shared" / "denoise" / "Set12"
GRID = (0.25, 0.35, 0.5, 0.7, 1.0, 1.4)


def noisy_versions(clean: np.ndarray, rng) -> dict:
    """{noise: noisy image in [0, 1]} for salt-and-pepper 10% and 30% and Gaussian sigma 25."""
    out = {}
    for density in (0.1, 0.3):
        noisy = clean.copy()
        hit = rng.random(clean.shape) < density
        noisy[hit] = (rng.random(int(hit.sum())) < 0.5).astype(np.float32)
        out[f"s&p {int(density * 100)}%"] = noisy
    out["gauss 25"] = np.clip(np.round((clean + rng.normal(0, 25 / 255, clean.shape)) * 255) / 255, 0, 1)
    return {k: v.astype(np.float32) for k, v in out.items()}


def psnr(x: np.ndarray, clean: np.ndarray) -> float:
    return float(10 * np.log10(1 / np.mean((np.clip(x, 0, 1) - clean) ** 2)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=3)
    parser.add_argument("--fidelities", default="l1,charbonnier")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    images = sorted(SET12.glob("*.png"))[:args.limit]
    cleans = [read_image(p).pixels[..., 0] for p in images]
    noisy = [noisy_versions(c, rng) for c in cleans]
    kinds = list(noisy[0])
    print(f"{len(images)} Set12 images; mean PSNR (dB) per noise; lambda grid {GRID}", flush=True)
    print(f"{'noisy input':28s} " + "  ".join(f"{k:>10s}" for k in kinds))
    print(f"{'':28s} " + "  ".join(f"{np.mean([psnr(n[k], c) for n, c in zip(noisy, cleans)]):10.2f}" for k in kinds))
    for fidelity in args.fidelities.split(","):
        rows = {}
        for weight in (*GRID, "auto"):
            rows[weight] = [np.mean([psnr(neural_style.denoise(n[k], fidelity=fidelity, tv_weight=weight), c)
                                     for n, c in zip(noisy, cleans)]) for k in kinds]
            print(f"{fidelity:12s} lambda {str(weight):>8s}   " + "  ".join(f"{v:10.2f}" for v in rows[weight]),
                  flush=True)
        best = [max(GRID, key=lambda w, i=i: rows[w][i]) for i in range(len(kinds))]
        print(f"{fidelity:12s} best grid lambda  " + "  ".join(f"{b:10}" for b in best))


if __name__ == "__main__":
    main()
