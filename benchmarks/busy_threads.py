"""Torch threads on a busy machine: each command's wall time with torch's default threads against
the threads ``shared_cpu`` picks, both with one CPU-bound competing process, in one run.

    python benchmarks/busy_threads.py --weights ../shared/weights/vgg16-hed.pth

Prints, per command, the seconds with ``OMP_NUM_THREADS`` = the core count (torch's default) and
without it (neural-style fits the threads to the other work), and their ratio (fitted / default;
below 1 is faster). Run it on a machine with no other work: the competitor is started here.
"""

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def spin(stop):
    while not stop.is_set():
        pass


def timed(args, env) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "neural_style.cli", *map(str, args)], check=True, env=env, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", type=Path, default=SHARED / "weights" / "vgg16-hed.pth")
    p.add_argument("--repeats", type=int, default=2)
    args = p.parse_args()
    content, style = ROOT / "examples" / "inputs" / "kodim23.jpg", ROOT / "examples" / "inputs" / "starry_night.jpg"
    work = Path(tempfile.mkdtemp())
    commands = {
        "stylize 64 px x 60": ["stylize", content, style, "-o", work / "s.png", "--size", "64", "--iterations", "60",
                               "--weights", args.weights, "--quiet"],
        "denoise beta 1.5 (L-BFGS) 256 px": ["denoise", content, "-o", work / "d.png", "--tv-beta", "1.5",
                                              "--sigma", "20", "--iterations", "100", "--quiet"],
    }
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    stop = multiprocessing.Event()
    competitor = multiprocessing.Process(target=spin, args=(stop,), daemon=True)
    competitor.start()
    time.sleep(1.0)
    try:
        print(f"{cores} cores, one competing process; load {os.getloadavg()[0]:.2f}")
        print(f"{'command':36} {'default s':>10} {'fitted s':>10} {'ratio':>7}")
        for name, command in commands.items():
            fixed = dict(os.environ, OMP_NUM_THREADS=str(cores))
            fitted = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
            default_s = min(timed(command, fixed) for _ in range(args.repeats))
            fitted_s = min(timed(command, fitted) for _ in range(args.repeats))
            print(f"{name:36} {default_s:10.2f} {fitted_s:10.2f} {fitted_s / default_s:7.2f}", flush=True)
    finally:
        stop.set()
        competitor.join()


if __name__ == "__main__":
    main()
