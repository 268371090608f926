"""neural-style denoise against scikit-image's denoise_tv_chambolle, quality and speed, in one run.

For each set (../shared/denoise/Set12 grey, Kodak24 colour) and noise level (sigma 15, 25,
50 on the 0..255 scale): white Gaussian noise from numpy.random.default_rng(0) drawn over
the whole image, rounded and clipped, kept as 8-bit PNG files (in --work); then

- scikit-image: denoise_tv_chambolle on float64 input (colour with channel_axis) at its
  best weight on the grid 0.02..0.25 (step 0.01, as ../shared/denoise/PEERS.md), chosen with the
  clean images (an oracle);
- neural-style rule: --sigma auto, --tv-weight rule (the power law), no oracle;
- neural-style SURE: --sigma auto, --tv-weight auto (the default: lambda per image by SURE);
- neural-style best: beta 1 with lambda = m * the rule's lambda, m chosen with the clean images
  on a grid (the same kind of oracle as scikit-image's);
- with --tgv, neural-style --regularizer tgv with SURE's lambda (no oracle);
- with --nltv, neural-style --regularizer nltv, the default (auto) at these sizes: its lambda from its
  rule over a TV guide chosen by SURE (no oracle; its time is the whole call: the guide, the graph and
  the solve); every other neural-style column is --regularizer tv;
- with --nlm, scikit-image's denoise_nl_means at its best h (an oracle too).

A set may be sliced: Kodak24[:12] and Kodak24[12:] report the halves (the lambda rule was fitted
on the first 8 Kodak images and all of Set12; the second half is held out).

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
    python benchmarks/denoise_vs_skimage.py --calibrate --sets Set12 --sigmas 25 --limit 4
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
    """run_denoise on ``noisy``, TV unless ``regularizer`` is given (the default, auto, is NLTV at these sizes)."""
    options.setdefault("regularizer", "tv")
    x = torch.from_numpy(noisy if noisy.ndim == 3 else noisy[..., None]).permute(2, 0, 1)[None].float()
    result = run_denoise(x, **options)
    out = result.image[0].permute(1, 2, 0).double().numpy()
    return (out if noisy.ndim == 3 else out[..., 0]), result


def select(spec: str):
    """``Set12``, ``Kodak24``, or a slice of a set's files in name order: ``Kodak24[12:]``."""
    name, _, part = spec.partition("[")
    files = sorted((SHARED / name).glob("*.png"))
    if part:
        start, _, stop = part.rstrip("]").partition(":")
        files = files[int(start or 0): int(stop) if stop else None]
    return name, files


def evaluate(spec: str, sigma: float, args) -> dict:
    set_name, files = select(spec)
    files = files[: args.limit or None]
    clean = [read_image(f).pixels.astype(np.float64) for f in files]
    clean = [c[..., 0] if c.shape[2] == 1 else c for c in clean]
    noisy = [read_image(make_noisy(f, sigma, args.work)).pixels.astype(np.float64) for f in files]
    noisy = [n[..., 0] if n.shape[2] == 1 else n for n in noisy]

    def mean_psnr(outputs):
        return float(np.mean([psnr(o, c) for o, c in zip(outputs, clean)]))

    # scikit-image at its oracle weight
    sk = {}
    for weight in np.round(np.arange(0.02, 0.2501, 0.01), 2):
        runs = [skimage_run(n, weight) for n in noisy]
        sk[float(weight)] = (mean_psnr([o for o, _ in runs]), np.mean([t for _, t in runs]))
    sk_weight = max(sk, key=lambda w: sk[w][0])
    sk_psnr, sk_time = sk[sk_weight]

    # neural-style, no oracle: the power-law rule, and SURE per image (the default)
    rule = [ours_run(n, tv_weight="rule") for n in noisy]
    auto = [ours_run(n) for n in noisy]

    # neural-style with the oracle multiplier of the rule's lambda (beta 1)
    best = {}
    for m in args.multipliers:
        best[m] = mean_psnr([ours_run(n, tv_weight=m * r.tv_weight, sigma=r.sigma)[0] for n, (_, r) in zip(noisy, rule)])
    best_m = max(best, key=best.get)
    row = {"set": spec, "sigma": sigma, "images": len(files),
           "noisy_psnr": mean_psnr(noisy),
           "skimage_weight": sk_weight, "skimage_psnr": sk_psnr, "skimage_s": float(sk_time),
           "rule_psnr": mean_psnr([o for o, _ in rule]), "rule_s": float(np.mean([r.run.seconds for _, r in rule])),
           "auto_psnr": mean_psnr([o for o, _ in auto]), "auto_s": float(np.mean([r.run.seconds for _, r in auto])),
           "sigma_estimate": float(np.mean([r.sigma for _, r in auto]) * 255),
           "best_multiplier": best_m, "best_psnr": float(best[best_m])}
    if args.tgv:
        runs = [ours_run(n, regularizer="tgv") for n in noisy]
        row.update(tgv_psnr=mean_psnr([o for o, _ in runs]), tgv_s=float(np.mean([r.run.seconds for _, r in runs])))
    if args.nltv:
        runs, seconds = [], []
        for n in noisy:
            start = time.perf_counter()
            runs.append(ours_run(n, regularizer="nltv"))
            seconds.append(time.perf_counter() - start)
        row.update(nltv_psnr=mean_psnr([o for o, _ in runs]), nltv_s=float(np.mean(seconds)))
    if args.nlm:
        row.update(nl_means(noisy, clean, sigma, mean_psnr))
    return row


def nl_means(noisy, clean, sigma: float, mean_psnr) -> dict:
    """scikit-image's denoise_nl_means (fast mode, sigma given) at its best h = k * sigma (an oracle)."""
    from skimage.restoration import denoise_nl_means

    scores = {}
    for k in (0.4, 0.6, 0.8, 1.0):
        outputs = [denoise_nl_means(n, h=k * sigma / 255, sigma=sigma / 255, fast_mode=True, patch_size=5,
                                    patch_distance=6, channel_axis=-1 if n.ndim == 3 else None) for n in noisy]
        scores[k] = mean_psnr(outputs)
    k = max(scores, key=scores.get)
    return {"nlm_h_over_sigma": k, "nlm_psnr": scores[k]}


def calibrate_speed(spec: str, sigma: float, args) -> None:
    """The automatic choice: SURE's search against scikit-image's calibrate_denoiser (J-invariance)
    choosing denoise_tv_chambolle's weight from the same number of candidates, per image."""
    from skimage.restoration import calibrate_denoiser, denoise_tv_chambolle

    from neural_style.denoising import sure

    _, files = select(spec)
    files = files[: args.limit or None]
    rows = []
    for f in files:
        clean = read_image(f).pixels.astype(np.float64)
        noisy = read_image(make_noisy(f, sigma, args.work)).pixels.astype(np.float64)
        if clean.shape[2] == 1:
            clean, noisy = clean[..., 0], noisy[..., 0]
        axis = {"channel_axis": [-1]} if noisy.ndim == 3 else {}
        weights = np.exp(np.linspace(np.log(0.02), np.log(0.25), sure.EVALUATIONS))
        start = time.perf_counter()
        calibrated = calibrate_denoiser(noisy, denoise_tv_chambolle, {"weight": list(weights), **axis})
        theirs = calibrated(noisy)
        their_s = time.perf_counter() - start
        out, result = ours_run(noisy)
        rows.append((their_s, result.run.seconds, psnr(theirs, clean), psnr(out, clean)))
        print(f"{f.name}: calibrate_denoiser {their_s:6.2f} s {rows[-1][2]:6.2f} dB | SURE {result.run.seconds:6.2f} s "
              f"{rows[-1][3]:6.2f} dB", flush=True)
    t = np.mean(rows, axis=0)
    print(f"{spec} sigma {sigma:g}, {len(rows)} images, {sure.EVALUATIONS} candidates each: calibrate_denoiser "
          f"{t[0]:.2f} s {t[2]:.2f} dB, SURE {t[1]:.2f} s {t[3]:.2f} dB, time ratio {t[1] / t[0]:.2f} (target <= 0.5)")


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
    p.add_argument("--tgv", action="store_true", help="also --regularizer tgv (SURE's lambda; slow)")
    p.add_argument("--nltv", action="store_true", help="also --regularizer nltv (the default at these sizes)")
    p.add_argument("--nlm", action="store_true", help="also scikit-image's denoise_nl_means at its oracle h (slow)")
    p.add_argument("--calibrate", action="store_true",
                   help="only the SURE search's time against scikit-image's calibrate_denoiser")
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

    if args.calibrate:
        for spec in args.sets.split(","):
            for sigma in (float(s) for s in args.sigmas.split(",")):
                calibrate_speed(spec, sigma, args)
        return
    rows = []
    header = (f"{'set':14} {'sigma':>5} {'noisy':>6} | {'sk TV (oracle w)':>16} | {'rule':>6} {'d':>6} | "
              f"{'SURE':>6} {'d':>6} {'ms':>6} | {'best (m)':>12} {'d':>6}"
              + (f" | {'TGV':>6} {'d':>6} {'ms':>6}" if args.tgv else "")
              + (f" | {'NLTV':>6} {'d':>6} {'ms':>6}" if args.nltv else "")
              + (f" | {'NLM (h/s)':>12} {'d':>6}" if args.nlm else ""))
    print(f"torch threads {torch.get_num_threads()}, load {os.getloadavg()[0]:.2f}\n{header}\n{'-' * len(header)}")
    for spec in args.sets.split(","):
        for sigma in (float(s) for s in args.sigmas.split(",")):
            r = evaluate(spec, sigma, args)
            rows.append(r)
            base = r["skimage_psnr"]
            line = (f"{spec:14} {sigma:5.0f} {r['noisy_psnr']:6.2f} | {base:8.2f} ({r['skimage_weight']:.2f}) | "
                    f"{r['rule_psnr']:6.2f} {r['rule_psnr'] - base:+6.2f} | {r['auto_psnr']:6.2f} "
                    f"{r['auto_psnr'] - base:+6.2f} {r['auto_s'] * 1000:6.0f} | {r['best_psnr']:6.2f} "
                    f"({r['best_multiplier']:.1f}) {r['best_psnr'] - base:+6.2f}")
            if args.tgv:
                line += f" | {r['tgv_psnr']:6.2f} {r['tgv_psnr'] - base:+6.2f} {r['tgv_s'] * 1000:6.0f}"
            if args.nltv:
                line += f" | {r['nltv_psnr']:6.2f} {r['nltv_psnr'] - base:+6.2f} {r['nltv_s'] * 1000:6.0f}"
            if args.nlm:
                line += f" | {r['nlm_psnr']:6.2f} ({r['nlm_h_over_sigma']:.1f}) {r['nlm_psnr'] - base:+6.2f}"
            print(line, flush=True)
    print("d: dB above scikit-image's oracle TV; rule, SURE, best: --regularizer tv with --tv-weight rule, auto, and "
          "the rule's lambda times the oracle multiplier m; TGV: --regularizer tgv, SURE; NLTV: --regularizer nltv, "
          "the default (auto) at these sizes, lambda by its rule (ms: the whole call); "
          "NLM: denoise_nl_means at its oracle h")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
