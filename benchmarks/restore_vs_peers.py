"""neural-style restore against scikit-image, OpenCV and Pillow: deblurring, inpainting, enlarging.

The degradations and peers are benchmarks/restore_peers.py's (its docstring is the method): Set12 (grey)
and Kodak24 (colour) from ../shared/denoise, each image degraded with seed = its index in the set;
the first half of each set (Set12 01-06, kodim01-12) is where constants were tuned, the second half
is held out, and the two are reported apart.

Cases (noise sigma on 0..255):
- deblur: Gaussian blur sigma 1.6 and a 15 px motion blur at 30 degrees, noise 2 and 10. Peers:
  scikit-image's richardson_lucy at its best iteration count (oracle, grid RL_GRID), wiener at its best
  balance (oracle) and unsupervised_wiener, each on the image extended by 32 px of reflection (the usual
  edge handling, in their timed call; without it they lose to the blurred input).
- inpaint: 50% of the pixels missing at random, and a text overlay. Peers: inpaint_biharmonic, OpenCV's
  Telea and Navier-Stokes (cv2.inpaint, radius 3).
- upscale x2 and x4 (torch's antialiased bicubic reduction, the model restore uses), noise 0 and 5.
  Peers: Pillow's bicubic and Lanczos enlargement.

neural-style: ``run_restore`` with everything automatic (sigma estimated, lambda by the discrepancy
principle), per prior (--priors). ``best prior - best peer`` is the gain over the best peer of the row
(oracles included). With --oracle, TV also at its best lambda among multiples of the automatic one
(the gap says what the discrepancy principle costs).

--speed: seconds per image at a fixed lambda (sigma given), the default prior (auto) and TV, each at
the lambda its automatic run chose, against the peer it is compared with (Richardson-Lucy at its best
count; biharmonic; Pillow bicubic), each the fastest of --repeats runs (3), held-out images, idle and
with one busy competing process, ratio printed (benchmarks/denoise_vs_skimage.py's ``competing``).

    pip install scikit-image            # the peers (opencv-python-headless is in the test extra)
    python benchmarks/restore_vs_peers.py                                   # everything
    python benchmarks/restore_vs_peers.py --sets Set12,Kodak24 --limit Kodak24=4 --priors nltv   # docs/restore.md
    python benchmarks/restore_vs_peers.py --limit 2 --cases deblur-gauss-2,inpaint-text --priors tv
    python benchmarks/restore_vs_peers.py --speed --limit 2
"""

import argparse
import importlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import restore_peers as rp  # noqa: E402
from denoise_vs_skimage import competing  # noqa: E402

from neural_style.denoising.degradation import Degradation  # noqa: E402
from neural_style.denoising.restore import run_restore  # noqa: E402

#: Richardson-Lucy iteration counts the oracle tries.
RL_GRID = (10, 20, 40, 80, 160, 320)
KERNELS = {"gauss": lambda: rp.gaussian_kernel(1.6), "motion": lambda: rp.motion_kernel(15, 30)}
CASES = ["deblur-gauss-2", "deblur-gauss-10", "deblur-motion-2", "deblur-motion-10", "inpaint-random",
         "inpaint-text", "upscale-2-0", "upscale-2-5", "upscale-4-0", "upscale-4-5"]
#: The gain over the best peer each kind of case aims at (issue 29), in dB.
TARGETS = {"deblur": 0.5, "inpaint": 0.3, "upscale": 0.3}
ORACLE_MULTIPLIERS = (0.25, 0.5, 1.0, 2.0, 4.0)


def tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(image if image.ndim == 3 else image[..., None])).permute(
        2, 0, 1)[None].float()


def array(result, grey: bool) -> np.ndarray:
    out = result.image[0].permute(1, 2, 0).double().numpy()
    return out[..., 0] if grey else out


def degrade(case: str, clean: np.ndarray, seed: int):
    """(degraded, clean target, Degradation, peers: {name: (image, seconds, parameter)})."""
    kind, *args = case.split("-")
    if kind == "deblur":
        kernel = KERNELS[args[0]]()
        degraded = rp.blur(clean, kernel, float(args[1]), seed)
        pad = rp.DECONVOLUTION_PAD
        rl, n, rl_s = rp.richardson_lucy_oracle(degraded, kernel, clean, RL_GRID, pad=pad)
        wi, balance, wi_s = rp.wiener_oracle(degraded, kernel, clean, pad=pad)
        uw, uw_s = rp.unsupervised_wiener(degraded, kernel, seed, pad=pad)
        peers = {"richardson_lucy": (rl, rl_s, n), "wiener": (wi, wi_s, balance), "unsupervised_wiener": (uw, uw_s, None)}
        return degraded, clean, Degradation(kernel=torch.from_numpy(kernel)), peers
    if kind == "inpaint":
        known = rp.random_mask(clean.shape, 0.5, seed) if args[0] == "random" else rp.text_mask(clean.shape, seed)
        damaged = rp.inpaint_input(clean, known)
        peers = {"biharmonic": (*rp.inpaint_biharmonic(damaged, known), None),
                 "telea": (*rp.cv2_inpaint(damaged, known, "telea"), None),
                 "navier_stokes": (*rp.cv2_inpaint(damaged, known, "ns"), None)}
        return damaged, clean, Degradation(known=torch.from_numpy(known)), peers
    factor, noise = int(args[0]), float(args[1])
    small, target = rp.downsample(clean, factor)
    small = rp.add_noise(small, noise, seed) if noise else small
    size = (target.shape[1], target.shape[0])
    peers = {m: (*rp.pillow_upscale(small, size, m), None) for m in ("bicubic", "lanczos")}
    return small, target, Degradation(upscale=factor), peers


def ours(degraded: np.ndarray, degradation: Degradation, **options):
    start = time.perf_counter()
    result = run_restore(tensor(degraded), degradation, **options)
    return array(result, degraded.ndim == 2), time.perf_counter() - start, result


def limit_for(limit, set_name: str):
    """Images per half of ``set_name`` from --limit: ``"N"`` for every set, or ``"SET=N,SET=N"`` (None: all)."""
    if limit is None:
        return None
    if "=" not in limit:
        return int(limit)
    limits = dict(part.split("=") for part in limit.split(","))
    return int(limits[set_name]) if set_name in limits else None


def evaluate(case: str, set_name: str, half: str, args) -> dict:
    """Mean PSNR and seconds of every method over one half of one set."""
    rows = []
    offset = rp.seed_offset(set_name, half)
    for index, (name, clean) in enumerate(rp.load_set(set_name, half, limit_for(args.limit, set_name))):
        degraded, target, degradation, peers = degrade(case, clean, seed=offset + index)
        row = {"image": name, "input": rp.psnr(np.clip(degraded, 0, 1), target) if degraded.shape == target.shape
               else None}
        for peer, (image, seconds, parameter) in peers.items():
            row[peer] = {"psnr": rp.psnr(image, target), "seconds": seconds, "parameter": parameter}
        for prior in args.priors:
            image, seconds, result = ours(degraded, degradation, regularizer=prior)
            row[prior] = {"psnr": rp.psnr(image, target), "seconds": seconds, "tv_weight": result.tv_weight,
                          "sigma_255": result.sigma * 255}
        if args.oracle:
            auto = row["tv"]
            trials = {m: rp.psnr(ours(degraded, degradation, tv_weight=m * auto["tv_weight"],
                                      sigma=auto["sigma_255"] / 255)[0], target) for m in ORACLE_MULTIPLIERS}
            best = max(trials, key=trials.get)
            row["tv_oracle"] = {"psnr": trials[best], "multiplier": best}
        rows.append(row)
        print(f"  {case} {name}: " + ", ".join(f"{k} {v['psnr']:.2f}" for k, v in row.items()
                                               if isinstance(v, dict)), flush=True)
    return summarise(case, set_name, half, rows, list(peers), args.priors)


def summarise(case, set_name, half, rows, peers, priors) -> dict:
    def mean(key, field="psnr"):
        return float(np.mean([r[key][field] for r in rows]))

    summary = {"case": case, "set": set_name, "half": half, "images": len(rows), "rows": rows,
               "peers": {p: mean(p) for p in peers}, "priors": {p: mean(p) for p in priors},
               "seconds": {p: mean(p, "seconds") for p in [*peers, *priors]}}
    if rows and rows[0]["input"] is not None:
        summary["input"] = float(np.mean([r["input"] for r in rows]))
    if "tv_oracle" in rows[0]:
        summary["tv_oracle"] = mean("tv_oracle")
    best_peer = max(summary["peers"], key=summary["peers"].get)
    best_prior = max(summary["priors"], key=summary["priors"].get)
    summary["gain"] = summary["priors"][best_prior] - summary["peers"][best_peer]
    summary["best_peer"], summary["best_prior"] = best_peer, best_prior
    summary["target"] = TARGETS[case.split("-")[0]]
    return summary


def table(summaries) -> str:
    lines = ["| case | set | half | input | best peer | " + " | ".join(PRIOR_NAMES) + " | gain | target | holds |",
             "|---|---|---|---|---|" + "---|" * len(PRIOR_NAMES) + "---|---|---|"]
    for s in summaries:
        priors = " | ".join(f"{s['priors'][p]:.2f}" if p in s["priors"] else "-" for p in PRIOR_NAMES)
        peer = f"{s['peers'][s['best_peer']]:.2f} ({s['best_peer']})"
        entry = f"{s['input']:.2f}" if "input" in s else "-"
        lines.append(f"| {s['case']} | {s['set']} | {s['half']} | {entry} | {peer} | {priors} | "
                     f"{s['gain']:+.2f} | +{s['target']} | {'yes' if s['gain'] >= s['target'] else 'no'} |")
    return "\n".join(lines)


PRIOR_NAMES = ("tv", "tgv", "nltv")


def compared_seconds(case: str, degraded: np.ndarray, degradation: Degradation, peers: dict, size_wh) -> float:
    """One timed run of the peer ``case`` is compared with, at the parameter its oracle chose (``peers``)."""
    kind = case.split("-")[0]
    if kind == "deblur":
        count = peers["richardson_lucy"][2]
        return rp.timed(rp.richardson_lucy, degraded, degradation.kernel.numpy(), count, rp.DECONVOLUTION_PAD)[1]
    if kind == "inpaint":
        return rp.inpaint_biharmonic(degraded, degradation.known.numpy())[1]
    return rp.pillow_upscale(degraded, size_wh, "bicubic")[1]


def speed(args) -> None:
    """Seconds per image at a fixed lambda against the compared peer, idle and busy, each the fastest of
    ``--repeats`` runs: the default prior (auto) and TV, each at the lambda its automatic run chose (once per
    image, for both loads)."""
    peer = {"deblur": "richardson_lucy", "inpaint": "biharmonic", "upscale": "bicubic"}
    for case in args.cases:
        compared = peer[case.split("-")[0]]
        for set_name in args.sets:
            ratios = {(busy, prior): [] for busy in (False, True) for prior in ("auto", "tv")}
            offset = rp.seed_offset(set_name, "second")
            for index, (name, clean) in enumerate(rp.load_set(set_name, "second", limit_for(args.limit, set_name))):
                degraded, target, degradation, peers = degrade(case, clean, offset + index)
                chosen = {prior: ours(degraded, degradation, regularizer=prior)[2] for prior in ("auto", "tv")}
                for busy, prior in ratios:
                    with competing(busy):
                        peer_s = min(compared_seconds(case, degraded, degradation, peers, target.shape[1::-1])
                                     for _ in range(args.repeats))
                        mine = min(ours(degraded, degradation, regularizer=prior, tv_weight=chosen[prior].tv_weight,
                                        sigma=chosen[prior].sigma)[1] for _ in range(args.repeats))
                    ratios[busy, prior].append(mine / peer_s)
                    print(f"  {case} {set_name} {name} {'busy' if busy else 'idle'} {prior} "
                          f"({chosen[prior].regularizer}): neural-style {mine:.3f} s, {compared} {peer_s:.3f} s, "
                          f"ratio {mine / peer_s:.2f}", flush=True)
            for busy in (False, True):
                print(f"{case} {set_name} {'busy' if busy else 'idle'}: mean ratio " + ", ".join(
                    f"{prior} {np.mean(ratios[busy, prior]):.2f}" for prior in ("auto", "tv")), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", default="Set12,Kodak24", type=lambda s: s.split(","))
    parser.add_argument("--halves", default="first,second", type=lambda s: s.split(","))
    parser.add_argument("--cases", default=",".join(CASES), type=lambda s: s.split(","))
    parser.add_argument("--priors", default="tv,tgv,nltv", type=lambda s: s.split(","))
    parser.add_argument("--limit", default=None, help="images per half: N, or SET=N,... (e.g. Kodak24=4)")
    parser.add_argument("--oracle", action="store_true", help="TV at its best lambda too")
    parser.add_argument("--speed", action="store_true")
    parser.add_argument("--repeats", type=int, default=3, help="--speed: the fastest of this many runs each")
    parser.add_argument("--constant", action="append", default=[], metavar="MODULE.NAME=VALUE",
                        help="tuning: set a constant of neural_style.denoising.MODULE for this run")
    parser.add_argument("--json", type=Path, default=HERE / "out" / "restore_vs_peers.json")
    args = parser.parse_args()
    for constant in args.constant:
        name, _, value = constant.partition("=")
        module, _, attribute = name.rpartition(".")
        setattr(importlib.import_module(f"neural_style.denoising.{module}"), attribute,
                int(value) if value.lstrip("-").isdigit() else float(value))
    if args.speed:
        speed(args)
        return
    started = time.perf_counter()
    summaries = []
    for case in args.cases:
        for set_name in args.sets:
            for half in args.halves:
                summaries.append(evaluate(case, set_name, half, args))
                print(table(summaries[-1:]).splitlines()[-1], flush=True)
    print(table(summaries))
    print(f"{time.perf_counter() - started:.0f} s in all")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(summaries, indent=1, default=float))


if __name__ == "__main__":
    main()
