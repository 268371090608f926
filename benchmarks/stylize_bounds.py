"""The loss of the image stylize delivers, and the time it takes, for each way of keeping pixels in [0, 1].

For each (content, style) pair of held-out pictures (``../shared/images``: not the README's example)
and each ``--bounds`` way, runs ``run_stylize`` (single scale unless ``--scales``, the given size and
iterations (of each scale), every other setting at its default), then evaluates the objective once more
on the delivered image as it is written (8-bit), from scratch. Prints, per pair and way: the loss the
run reported as its best, the delivered image's total, style and content loss, and the loop's seconds;
then per way the mean over pairs of the delivered total loss and of the time, each as a ratio against
``clamp-result`` (the way before ``--bounds``: unconstrained, the result clamped) measured in the same run.

    python benchmarks/stylize_bounds.py                       # 512 px, 500 iterations, 2 pairs, 4 ways
    python benchmarks/stylize_bounds.py --size 256 --iterations 150 --ways clamp-result,project
    python benchmarks/stylize_bounds.py --size 256 --iterations 100 --tile-size 128 --ways clamp-result,project,penalty
    python benchmarks/stylize_bounds.py --size 256 --iterations 100 --scales auto --ways clamp-result,project,penalty

Target (issue 26): with the chosen way, the delivered total loss at most 0.5x clamp-result's, in at
most 1.1x its time. Writes the delivered images to ``--out`` (default ``benchmarks/out/bounds``).
"""

import argparse
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from neural_style.core.bounds import Bounds  # noqa: E402
from neural_style.core.choices import BOUNDS  # noqa: E402
from neural_style.io.encode import write_image  # noqa: E402
from neural_style.style_transfer.gatys import evaluate_losses, run_stylize  # noqa: E402

SHARED = ROOT.parent / "shared"
PAIRS = [("golden_gate.jpg", "the_scream.jpg"), ("hoovertowernight.jpg", "woman-with-hat-matisse.jpg")]


def as_written(image: torch.Tensor) -> torch.Tensor:
    """The image as an 8-bit file holds it."""
    return (image.clamp(0, 1) * 255).round() / 255


def one_run(content: Path, style: Path, way: str, args) -> dict:
    settings = dict(size=args.size, iterations=args.iterations, weights=str(args.weights), bounds=way,
                    precision=args.precision, seed=0, scales=args.scales, tile_size=args.tile_size)
    started = time.perf_counter()
    result = run_stylize(content, style, download_progress=False, **settings)
    wall = time.perf_counter() - started
    delivered = as_written(result.image)
    losses = evaluate_losses(delivered, content, style, **settings)  # at the output size, one scale
    reported = result.run.history[result.run.best_iteration - 1]
    name = f"{content.stem}-{style.stem}-{way}.png"
    write_image(args.out / name, delivered)
    return {"content": content.name, "style": style.name, "way": way, "reported_total": reported["total"],
            "reported_style": reported["style"], "delivered_total": losses["total"],
            "delivered_style": losses["style"], "delivered_content": losses["content"],
            "seconds": result.run.seconds, "wall": wall, "iterations": result.run.iterations, "image": name}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--ways", default=",".join(["clamp-result"] + [w for w in BOUNDS if w != "clamp-result"]),
                        help="comma-separated --bounds ways; clamp-result is the baseline")
    parser.add_argument("--pairs", type=int, default=len(PAIRS), help="how many of the held-out pairs")
    parser.add_argument("--scales", default="none", help="none (one scale), auto, or long sides like 128,181")
    parser.add_argument("--tile-size", default="auto", help="auto, 0 (whole) or a tile size in px")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--weights", type=Path, default=SHARED / "weights" / "vgg16-hed.pth")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "bounds")
    parser.add_argument("--json", type=Path, default=None, help="also write every row here")
    args = parser.parse_args()
    ways = args.ways.split(",")
    if args.scales not in ("none", "auto"):
        args.scales = [int(v) for v in args.scales.split(",")]
    args.tile_size = args.tile_size if args.tile_size == "auto" else int(args.tile_size)
    for way in ways:
        Bounds(way)  # an unknown way: one line before any work
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    print(f"{args.size} px, {args.iterations} iterations, scales {args.scales}, tile size {args.tile_size}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{'pair':45s} {'way':13s} {'reported':>9s} {'delivered':>9s} {'style':>9s} {'content':>8s} {'seconds':>8s}")
    warm = SHARED / "images" / "content" / PAIRS[0][0], SHARED / "images" / "style" / PAIRS[0][1]
    run_stylize(*warm, size=args.size, iterations=3, weights=str(args.weights), precision=args.precision,
                download_progress=False)  # the first run's one-off costs (threads, allocator) out of the timings
    for content_name, style_name in PAIRS[:args.pairs]:
        content = SHARED / "images" / "content" / content_name
        style = SHARED / "images" / "style" / style_name
        for way in ways:
            row = one_run(content, style, way, args)
            rows.append(row)
            print(f"{content.stem + ' + ' + style.stem:45s} {way:13s} {row['reported_total']:9.4g} "
                  f"{row['delivered_total']:9.4g} {row['delivered_style']:9.4g} {row['delivered_content']:8.4g} "
                  f"{row['seconds']:8.1f}", flush=True)
            if args.json:
                args.json.write_text(json.dumps(rows, indent=1))
    base = [r for r in rows if r["way"] == ways[0]]
    print(f"\nratios against {ways[0]} (mean over {len(base)} pairs of each pair's ratio):")
    for way in ways:
        mine = [r for r in rows if r["way"] == way]
        loss = sum(m["delivered_total"] / b["delivered_total"] for m, b in zip(mine, base)) / len(base)
        secs = sum(m["seconds"] / b["seconds"] for m, b in zip(mine, base)) / len(base)
        print(f"  {way:13s} delivered total loss {loss:6.3f}x   time {secs:6.3f}x")


if __name__ == "__main__":
    main()
