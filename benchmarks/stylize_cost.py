"""Time and memory of ``neural-style stylize`` with its defaults, from 512 to 4096 px.

A full default run at 4096 px takes hours on a CPU, so each size runs ``--iterations N`` (N at every
scale, every other setting at its default: coarse to fine, ``--tile-size auto``, ``--lbfgs-history auto``)
in its own process, and the report gives, per scale, the seconds per iteration and the tiles, and the
run's peak memory. From those:

* full run time: the default schedule (``scales.default_iterations``) times each scale's measured
  seconds per iteration (an estimate: the line search makes a few iterations cost more, and the
  first iterations of a process are slower than the rest, so it errs high);
* full peak memory: the measured peak plus the L-BFGS correction pairs the short run did not fill at
  the last scale (two float32 image-sized vectors each: 24 bytes per pixel and pair, as the memory
  check counts them).

    python benchmarks/stylize_cost.py --sizes 512,1024,2048,4096 --iterations 3
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"

from neural_style.style_transfer.scales import default_iterations  # noqa: E402

#: Bytes of one L-BFGS correction pair per pixel: s and y, 3 float32 channels each.
PAIR_BYTES_PER_PIXEL = 2 * 3 * 4


def run(args, size: int, folder: Path) -> dict:
    report = folder / f"r-{size}.json"
    command = [sys.executable, "-m", "neural_style", "stylize", args.content, args.style, "-o",
               str(folder / f"o-{size}.png"), "--size", str(size), "--iterations", str(args.iterations),
               "--weights", args.weights, "--precision", args.precision, "--report", str(report), "-q"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        return {"size": size, "error": done.stderr.strip().splitlines()[-1] if done.stderr else "?"}
    data = json.loads(report.read_text())
    scales = data["scales"]
    plan = default_iterations(len(scales))
    per_it = [sc["seconds"] / max(sc["iterations"], 1) for sc in scales]
    last = scales[-1]
    h, w = last["size"]
    unfilled = max(0, last["lbfgs_history"] - (last["iterations"] - 1))
    return {"size": size, "shape": [h, w], "scales": [sc["long_side"] for sc in scales],
            "tiles": [sc["tiles"] for sc in scales], "tile_size": last.get("tile_size"),
            "history": last["lbfgs_history"], "peak_gib": data["peak_memory_bytes"] / 2**30,
            "full_peak_gib": (data["peak_memory_bytes"] + unfilled * PAIR_BYTES_PER_PIXEL * h * w) / 2**30,
            "s_per_it": per_it, "full_seconds": sum(n * t for n, t in zip(plan, per_it)), "plan": plan}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--content", default=str(SHARED / "images/content/tubingen.jpg"))
    p.add_argument("--style", default=str(SHARED / "images/style/starry_night.jpg"))
    p.add_argument("--weights", default=str(SHARED / "weights/vgg16-hed.pth"))
    p.add_argument("--sizes", default="512,1024,2048,4096")
    p.add_argument("--iterations", type=int, default=3, help="run at every scale")
    p.add_argument("--precision", default="auto")
    p.add_argument("--json", help="also write the rows here")
    args = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for size in (int(s) for s in args.sizes.split(",")):
            row = run(args, size, Path(folder))
            rows.append(row)
            if "error" in row:
                print(f"{size:5d} | refused or failed: {row['error']}", flush=True)
                continue
            print(f"{size:5d} | {row['shape'][1]}x{row['shape'][0]} scales {row['scales']} tiles {row['tiles']} "
                  f"history {row['history']} | peak {row['peak_gib']:.2f} GiB measured, {row['full_peak_gib']:.2f} "
                  f"GiB with the full history | s/it per scale {' '.join(f'{t:.2f}' for t in row['s_per_it'])} | "
                  f"full run ({'/'.join(map(str, row['plan']))} its) {row['full_seconds']:.0f} s", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
