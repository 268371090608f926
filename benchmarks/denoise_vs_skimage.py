"""neural-style denoise against scikit-image's denoise_tv_chambolle, quality and speed, in one run.

For each set (../shared/denoise/Set12 grey, Kodak24 colour) and noise level (sigma 15, 25,
50 on the 0..255 scale): white Gaussian noise from numpy.random.default_rng(0) drawn over
the whole image, rounded and clipped, kept as 8-bit PNG files (in --work); then

- scikit-image: denoise_tv_chambolle on float64 input (colour with channel_axis) at its
  best weight on the grid 0.02..0.25 (step 0.01, as ../shared/denoise/PEERS.md), chosen with the
  clean images (an oracle);
- neural-style auto: --sigma auto, --tv-weight auto, default beta (no oracle);
- neural-style best: beta 1 with lambda = m * auto lambda, m chosen with the clean images on
  a grid (the same kind of oracle as scikit-image's).

PSNR is the mean over the set (outputs not rounded). Times are seconds per image of the
denoising call alone (no file I/O), both in this process; the speed ratio compares
neural-style auto with scikit-image at its oracle weight. scikit-image is needed only here:
pip install scikit-image.

--speed: the speed at a fixed lambda (scikit-image's oracle weight for both), idle and with
one CPU-bound competing process (--busy: only with it), per image (min of --repeats, both
in this process) and for the whole folder through the command line (a new process each:
start-up and imports included) with --jobs 1 and --jobs auto.

    python benchmarks/denoise_vs_skimage.py                 # everything (~25 min on 2 cores)
    python benchmarks/denoise_vs_skimage.py --sets Set12 --sigmas 25 --limit 4
    python benchmarks/denoise_vs_skimage.py --speed --sets Kodak24 --sigmas 25
"""

import argparse
import contextlib
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from neural_style.denoising.solver import run_denoise  # noqa: E402
from neural_style.io.images import read_image  # noqa: E402

SHARED = ROOT.parent / "shared" / "denoise"


def make_noisy(clean_path: Path, sigma: float, work: Path) -> Path:
    out = work / f"sigma{int(sigma)}" / clean_path.parent.name / clean_path.name
    if not out.exists():
        clean = np.asarray(Image.open(clean_path), dtype=np.float64) / 255
        noisy = clean + np.random.default_rng(0).normal(0, sigma / 255, clean.shape)
        out.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.clip(np.round(noisy * 255), 0, 255).astype(np.uint8)).save(out)
    return out


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / np.mean((a - b) ** 2)))


def skimage_run(noisy: np.ndarray, weight: float):
    from skimage.restoration import denoise_tv_chambolle

    start = time.perf_counter()
    out = denoise_tv_chambolle(noisy, weight=weight, channel_axis=-1 if noisy.ndim == 3 else None)
    return out, time.perf_counter() - start


def ours_run(noisy: np.ndarray, **options):
    x = torch.from_numpy(noisy if noisy.ndim == 3 else noisy[..., None]).permute(2, 0, 1)[None].float()
    result = run_denoise(x, **options)
    out = result.image[0].permute(1, 2, 0).double().numpy()
    return (out if noisy.ndim == 3 else out[..., 0]), result


def evaluate(set_name: str, sigma: float, args) -> dict:
    files = sorted((SHARED / set_name).glob("*.png"))[: args.limit or None]
    clean = [read_image(f).pixels.astype(np.float64) for f in files]
    clean = [c[..., 0] if c.shape[2] == 1 else c for c in clean]
    noisy = [read_image(make_noisy(f, sigma, args.work)).pixels.astype(np.float64) for f in files]
    noisy = [n[..., 0] if n.shape[2] == 1 else n for n in noisy]

    # scikit-image at its oracle weight
    sk = {}
    for weight in np.round(np.arange(0.02, 0.2501, 0.01), 2):
        runs = [skimage_run(n, weight) for n in noisy]
        sk[float(weight)] = (np.mean([psnr(o, c) for (o, _), c in zip(runs, clean)]),
                             np.mean([t for _, t in runs]))
    sk_weight = max(sk, key=lambda w: sk[w][0])
    sk_psnr, sk_time = sk[sk_weight]

    # neural-style, no oracle
    auto = [ours_run(n) for n in noisy]
    auto_psnr = np.mean([psnr(o, c) for (o, _), c in zip(auto, clean)])
    auto_time = np.mean([r.run.seconds for _, r in auto])
    sigma_est = np.mean([r.sigma for _, r in auto]) * 255

    # neural-style with the oracle multiplier of the auto lambda (beta 1)
    best = {}
    for m in args.multipliers:
        runs = [ours_run(n, tv_weight=m * r.tv_weight, sigma=r.sigma) for n, (_, r) in zip(noisy, auto)]
        best[m] = np.mean([psnr(o, c) for (o, _), c in zip(runs, clean)])
    best_m = max(best, key=best.get)

    return {"set": set_name, "sigma": sigma, "images": len(files),
            "noisy_psnr": float(np.mean([psnr(n, c) for n, c in zip(noisy, clean)])),
            "skimage_weight": sk_weight, "skimage_psnr": float(sk_psnr), "skimage_s": float(sk_time),
            "auto_psnr": float(auto_psnr), "auto_s": float(auto_time), "sigma_estimate": float(sigma_est),
            "auto_iterations": float(np.mean([r.run.iterations for _, r in auto])),
            "best_multiplier": best_m, "best_psnr": float(best[best_m]),
            "speed_ratio": float(auto_time / sk_time)}


def _spin(stop) -> None:
    x = 0
    while not stop.is_set():
        for i in range(100000):
            x += i


@contextlib.contextmanager
def competing(busy: bool):
    """One CPU-bound competing process for the block (nothing when not ``busy``)."""
    if not busy:
        yield
        return
    stop = multiprocessing.Event()
    process = multiprocessing.Process(target=_spin, args=(stop,), daemon=True)
    process.start()
    time.sleep(0.5)
    try:
        yield
    finally:
        stop.set()
        process.join()


def per_image_times(noisy, weight: float, repeats: int):
    """(scikit-image s, neural-style s) per image, the fastest of ``repeats`` each, interleaved."""
    rows = []
    for n in noisy:
        sk = min(skimage_run(n, weight)[1] for _ in range(repeats))
        ours = min(ours_run(n, tv_weight=weight, sigma=0.1)[1].run.seconds for _ in range(repeats))
        rows.append((sk, ours))
    return rows


def cli_seconds(folder: Path, weight: float, sigma: float, jobs: str) -> float:
    """Wall time of `neural-style denoise FOLDER -o OUT --tv-weight W --sigma S --jobs J` in a new process."""
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "neural_style.cli", "denoise", str(folder), "-o", out, "--tv-weight",
                        str(weight), "--sigma", str(sigma), "--jobs", jobs, "--quiet"], check=True, cwd=ROOT)
        return time.perf_counter() - start


def speed(set_name: str, sigma: float, args) -> None:
    files = sorted((SHARED / set_name).glob("*.png"))[: args.limit or None]
    noisy_files = [make_noisy(f, sigma, args.work) for f in files]
    noisy = [read_image(f).pixels.astype(np.float64) for f in noisy_files]
    noisy = [n[..., 0] if n.shape[2] == 1 else n for n in noisy]
    weight = {15: 0.04, 25: 0.07, 50: 0.17}.get(int(sigma), 0.07)  # scikit-image's oracle (PEERS.md)
    folder = noisy_files[0].parent
    for busy in ([True] if args.busy else [False, True]):
        with competing(busy):
            times = per_image_times(noisy, weight, args.repeats)
            one, auto = cli_seconds(folder, weight, sigma, "1"), cli_seconds(folder, weight, sigma, "auto")
        ratios = [ours / sk for sk, ours in times]
        sk_ms, ours_ms = (np.mean([t[i] for t in times]) * 1000 for i in (0, 1))
        print(f"{set_name:8} {sigma:5.0f} {'busy' if busy else 'idle':5} | skimage {sk_ms:6.0f} ms  ours {ours_ms:6.0f}"
              f" ms  ratio mean {np.mean(ratios):.2f} max "
              f"{max(ratios):.2f} | CLI {len(files)} files: --jobs 1 {one:5.1f} s, --jobs auto {auto:5.1f} s, "
              f"ratio {auto / one:.2f}", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sets", default="Set12,Kodak24")
    p.add_argument("--sigmas", default="15,25,50")
    p.add_argument("--limit", type=int, default=0, help="first N images of each set (0: all)")
    p.add_argument("--multipliers", default="0.7,0.8,0.9,1.0,1.1,1.2,1.3",
                   type=lambda s: [float(v) for v in s.split(",")])
    p.add_argument("--work", type=Path, default=Path("/tmp/neural-style-denoise-bench"))
    p.add_argument("--json", type=Path, help="also write the rows here")
    p.add_argument("--speed", action="store_true", help="only the speed at a fixed lambda, idle and busy")
    p.add_argument("--busy", action="store_true", help="with --speed: only with a competing process")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"needs {SHARED} (Set12, Kodak24)")
    if args.speed:
        print(f"torch threads {torch.get_num_threads()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
        for set_name in args.sets.split(","):
            for sigma in (float(s) for s in args.sigmas.split(",")):
                speed(set_name, sigma, args)
        print("ratio: neural-style s/image over scikit-image's (target <= 1.0, idle and busy); CLI ratio: "
              "--jobs auto over --jobs 1 (target <= 0.6)")
        return

    rows = []
    header = (f"{'set':8} {'sigma':>5} {'noisy':>6} | {'skimage (oracle w)':>19} {'ms':>5} | "
              f"{'auto':>6} {'d':>6} {'ms':>5} {'ratio':>5} | {'best (m)':>12} {'d':>6}")
    print(f"torch threads {torch.get_num_threads()}\n{header}\n{'-' * len(header)}")
    for set_name in args.sets.split(","):
        for sigma in (float(s) for s in args.sigmas.split(",")):
            r = evaluate(set_name, sigma, args)
            rows.append(r)
            print(f"{set_name:8} {sigma:5.0f} {r['noisy_psnr']:6.2f} | {r['skimage_psnr']:8.2f} ({r['skimage_weight']:.2f})"
                  f"      {r['skimage_s'] * 1000:5.0f} | {r['auto_psnr']:6.2f} {r['auto_psnr'] - r['skimage_psnr']:+6.2f} "
                  f"{r['auto_s'] * 1000:5.0f} {r['speed_ratio']:5.2f} | {r['best_psnr']:6.2f} ({r['best_multiplier']:.1f})"
                  f" {r['best_psnr'] - r['skimage_psnr']:+6.2f}", flush=True)
    print("d: dB above scikit-image's oracle; ratio: neural-style auto s/image over scikit-image's "
          "(targets: auto d >= 0, best d >= 0.3, ratio <= 1.0)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
