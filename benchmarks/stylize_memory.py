"""Peak memory and seconds per iteration of ``neural-style stylize``, tiled and untiled.

Each configuration runs in its own process (``neural-style stylize ... --iterations N
--report``), so the peak resident set size it reports (``ru_maxrss``) is that run's alone.
Prints one row per size and tile setting, and the ratio tiled / untiled of peak memory.

    python benchmarks/stylize_memory.py --sizes 512,1024,2048,4096 --tiles 0,256
    python benchmarks/stylize_memory.py --sizes 1536 --tiles 0,256      # the 0.4x target
    python benchmarks/stylize_memory.py --sizes 4096 --tiles 512 --lbfgs-history 20   # under 12 GB

Runs that the memory check refuses are printed as "refused" with the reason.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def run(args, size: int, tile: str, folder: Path) -> dict:
    report = folder / f"r-{size}-{tile}.json"
    command = [sys.executable, "-m", "neural_style", "stylize", args.content, args.style, "-o",
               str(folder / f"o-{size}-{tile}.png"), "--size", str(size), "--iterations", str(args.iterations),
               "--tile-size", tile, "--lbfgs-history", args.lbfgs_history, "--scales", "none", "--weights", args.weights,
               "--precision", args.precision, "--report", str(report),
               "-q"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        return {"size": size, "tile": tile, "error": done.stderr.strip().splitlines()[-1] if done.stderr else "?"}
    data = json.loads(report.read_text())
    return {"size": size, "tile": tile, "tile_used": data["tile_size"], "tiles": data["scales"][-1]["tiles"],
            "history": data["lbfgs_history"], "peak_gib": data["peak_memory_bytes"] / 2**30,
            "s_per_it": data["seconds_per_iteration"], "total": data["final_losses"]["total"]}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--content", default=str(SHARED / "images/content/tubingen.jpg"))
    p.add_argument("--style", default=str(SHARED / "images/style/starry_night.jpg"))
    p.add_argument("--weights", default=str(SHARED / "weights/vgg16-hed.pth"))
    p.add_argument("--sizes", default="512,1024,2048")
    p.add_argument("--tiles", default="0,256", help="tile sizes to compare (0: untiled; auto allowed)")
    p.add_argument("--iterations", type=int, default=2)
    p.add_argument("--precision", default="auto")
    p.add_argument("--lbfgs-history", default="auto")
    p.add_argument("--json", help="also write the rows here")
    args = p.parse_args()

    rows = []
    print(f"{'size':>5} {'tile':>5} | {'tiles':>5} {'L-BFGS':>6} | {'peak GiB':>8} {'s/it':>7}", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        for size in (int(s) for s in args.sizes.split(",")):
            untiled = None
            for tile in args.tiles.split(","):
                row = run(args, size, tile, Path(folder))
                rows.append(row)
                if "error" in row:
                    print(f"{size:5d} {tile:>5} | refused or failed: {row['error']}", flush=True)
                    continue
                ratio = ""
                if tile == "0":
                    untiled = row
                elif untiled is not None:
                    ratio = f"  peak {row['peak_gib'] / untiled['peak_gib']:.2f}x untiled"
                print(f"{size:5d} {tile:>5} | {row['tiles']:5d} {row['history']:6d} | {row['peak_gib']:8.2f} "
                      f"{row['s_per_it']:7.2f}{ratio}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
