"""One thread against torch's default for the primal-dual ROF solver, idle and with a competing process.

The basis of neural_style.denoising.resources.SINGLE_THREAD_BELOW: for each image shape, the time
per iteration (100 iterations, tolerance 0, best of --repeats) with 1 thread and with torch's
default number of threads, both in this process, first with nothing else started by this script
(check `uptime`: other users' work counts) and then with one CPU-bound competing process.

    python benchmarks/denoise_threads.py
"""

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from denoise_vs_skimage import competing  # noqa: E402

from neural_style.denoising.rof import rof_primal_dual  # noqa: E402

SHAPES = [(1, 128, 128), (1, 321, 481), (3, 256, 256), (3, 512, 768), (1, 1024, 1024), (3, 1024, 1024),
          (3, 2048, 2048)]


def per_iteration(y: torch.Tensor, threads: int, repeats: int) -> float:
    torch.set_num_threads(threads)
    return min(rof_primal_dual(y, 0.08, True, 100, 0.0, None).seconds for _ in range(repeats)) / 100


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    default = torch.get_num_threads()
    print(f"torch default threads {default}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    rng = np.random.default_rng(0)
    for busy in (False, True):
        with competing(busy):
            for c, h, w in SHAPES:
                y = torch.from_numpy(rng.random((1, c, h, w), dtype=np.float32))
                one, many = per_iteration(y, 1, args.repeats), per_iteration(y, default, args.repeats)
                print(f"{'busy' if busy else 'idle':4} {c}x{h}x{w:<5} 1 thread {one * 1000:8.2f} ms/it  {default} threads "
                      f"{many * 1000:8.2f} ms/it  ratio {many / one:6.2f}", flush=True)
        torch.set_num_threads(default)
    print("ratio: default threads over one thread (> 1: one thread is faster)")


if __name__ == "__main__":
    main()
