"""TV deblurring by ADMM (restore's choice for TV under a blur) against the primal-dual restorer, in one run.

For each held-out image (Set12 07-12, kodim13-24: benchmarks/restore_peers.py's degradations, seed = the
image's index) and deblurring case, TV runs with ``optimizer="primal-dual"`` and with ``"auto"`` (ADMM):

- fixed: at the lambda the primal-dual restorer's automatic run chose (sigma given), each the fastest of
  --repeats runs;
- auto: the whole automatic run (sigma estimated, the lambda search), fastest of --repeats.

It prints seconds, iterations and PSNR of each, and the ratio ADMM / primal-dual (below 1: ADMM faster),
per image and as a mean per case and set.

    python benchmarks/restore_admm_vs_pd.py                       # 2 images per set, every deblurring case
    python benchmarks/restore_admm_vs_pd.py --limit 6 --repeats 3
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import restore_peers as rp  # noqa: E402
from restore_vs_peers import KERNELS, ours  # noqa: E402

from neural_style.denoising.degradation import Degradation  # noqa: E402

CASES = ["deblur-gauss-2", "deblur-gauss-10", "deblur-motion-2", "deblur-motion-10"]


def fastest(repeats: int, degraded, degradation, **options):
    """(image, seconds, result) of the fastest of ``repeats`` runs."""
    runs = [ours(degraded, degradation, regularizer="tv", **options) for _ in range(repeats)]
    return min(runs, key=lambda run: run[1])


def compare(case: str, set_name: str, args) -> dict:
    ratios = {"fixed": [], "auto": []}
    offset = rp.seed_offset(set_name, "second")
    for index, (name, clean) in enumerate(rp.load_set(set_name, "second", args.limit)):
        _, blur, noise = case.split("-")
        kernel = KERNELS[blur]()
        degraded, target = rp.blur(clean, kernel, float(noise), offset + index), clean  # restore_vs_peers' degrade
        degradation = Degradation(kernel=torch.from_numpy(kernel))
        chosen = None  # the primal-dual restorer's automatic result: its lambda and sigma are the fixed ones
        for mode in ("auto", "fixed"):
            line, runs = [], {}
            for optimizer in ("primal-dual", "auto"):
                options = {"optimizer": optimizer}
                if mode == "fixed":
                    options.update(tv_weight=chosen.tv_weight, sigma=chosen.sigma)
                image, seconds, result = fastest(args.repeats, degraded, degradation, **options)
                runs[optimizer] = seconds
                if mode == "auto" and optimizer == "primal-dual":
                    chosen = result
                line.append(f"{result.optimizer} {seconds:.3f} s, {result.work.iterations} it, "
                            f"{rp.psnr(image, target):.3f} dB")
            ratio = runs["auto"] / runs["primal-dual"]
            ratios[mode].append(ratio)
            print(f"  {case} {set_name} {name} {mode}: " + "; ".join(line) + f"; ratio {ratio:.2f}", flush=True)
    summary = {mode: float(np.mean(values)) for mode, values in ratios.items()}
    print(f"{case} {set_name}: mean ratio ADMM / primal-dual: fixed lambda {summary['fixed']:.2f}, "
          f"automatic {summary['auto']:.2f}", flush=True)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", default="Set12,Kodak24", type=lambda s: s.split(","))
    parser.add_argument("--cases", default=",".join(CASES), type=lambda s: s.split(","))
    parser.add_argument("--limit", type=int, default=2, help="held-out images per set")
    parser.add_argument("--repeats", type=int, default=2, help="the fastest of this many runs each")
    args = parser.parse_args()
    for case in args.cases:
        for set_name in args.sets:
            compare(case, set_name, args)


if __name__ == "__main__":
    main()
