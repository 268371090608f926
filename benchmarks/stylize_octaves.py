"""Style loss per octave of the image stylize delivers: single scale against the scale controls.

For each (content, style) pair of held-out pictures (``../shared/images``: not the README's example), each
size and each mode, runs ``run_stylize`` (every setting at its default but the mode's), then judges the
delivered image as written (8-bit) from scratch with ``evaluate_losses``: the content loss and the style
loss of every octave (the image and the style images halved o times, antialiased, down to a long side of
128 px; ``neural_style.style_octave_losses``). Modes:

* ``single``: one scale, ``--style-octaves 1``, 500 iterations (the baseline);
* ``default``: every setting at stylize's default (coarse to fine since issue 26: ``c2f``);
* ``octaves``: one scale, ``--style-octaves`` down to 256 px (512: 2, 1024: 3, 2048: 4), 500 iterations;
* ``c2f``: ``--scales auto`` (256 px up by sqrt 2; each scale holds the octaves down to 256 px, each
  with ``stage.HELD_WEIGHT``), default schedule;
* ``c2f-hold:W``: ``c2f`` with the held octaves weighted W (``c2f-hold:0.5`` with one held octave is
  the mean of the two);
* ``c2f-its:F/M/L``: ``c2f`` with F iterations at the first scale, M at each middle one, L at the last;
* ``c2f-plain``: ``--scales auto`` with every scale at one octave (before issue 26: nothing held).

Prints one row per run (seconds, content loss, each octave's style loss) and, per size, each mode's
ratios against ``single`` measured in the same run. Writes the delivered images and a side-by-side
picture per pair and size (content, then each mode) to ``--out`` (default ``benchmarks/out/octaves``).

    python benchmarks/stylize_octaves.py --modes single,default          # 512 and 1024 px, 2 pairs
    python benchmarks/stylize_octaves.py --sizes 2048 --tile-size 512 --iterations-scale 0.2

Targets (issue 26), for the default: at 1024 px every octave but the finest at most 0.5x single scale's
style loss, the finest at most 1.15x, content at most 1.15x, in at most single scale's time; at 512 px no
octave above 1.1x single scale's, in at most its time.
"""

import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import pictures  # noqa: E402

from neural_style.io.encode import write_image  # noqa: E402
from neural_style.style_transfer.gatys import evaluate_losses, run_stylize  # noqa: E402
from neural_style.style_transfer.scales import auto_sides, default_iterations  # noqa: E402

SHARED = ROOT.parent / "shared"
PAIRS = [("golden_gate.jpg", "the_scream.jpg"), ("hoovertowernight.jpg", "woman-with-hat-matisse.jpg")]
MODES = ("single", "default", "octaves", "c2f-plain")  # and c2f-hold:W, c2f-its:F/M/L


def mode_settings(mode: str, size: int, scale: float) -> dict:
    """The settings of ``mode`` at ``size`` (``scale`` multiplies every iteration count)."""
    def its(counts):
        return [max(1, round(n * scale)) for n in counts]
    if mode == "single":
        return dict(scales="none", style_octaves=1, iterations=its([500]))
    if mode == "default":
        return {} if scale == 1 else dict(iterations=its(default_iterations(len(auto_sides(size)))))
    if mode == "octaves":
        return dict(scales="none", style_octaves=1 + max(0, int(math.log2(size / 256))), iterations=its([500]))
    if mode in ("c2f", "c2f-plain") or mode.startswith(("c2f-hold:", "c2f-its:")):
        sides = auto_sides(size)
        counts = default_iterations(len(sides))
        if mode.startswith("c2f-its:"):
            first, middle, last = (int(n) for n in mode.split(":")[1].split("/"))
            counts = [first] + [middle] * (len(sides) - 2) + [last]
        settings = dict(scales=sides[:-1], iterations=its(counts))
        weight = float(mode.split(":")[1]) if mode.startswith("c2f-hold:") else None
        return {**settings, "held": mode != "c2f-plain", "held_weight": weight}
    raise SystemExit(f"unknown mode {mode!r}: use {', '.join(MODES)}")


def as_written(image: torch.Tensor) -> torch.Tensor:
    """The image as an 8-bit file holds it."""
    return (image.clamp(0, 1) * 255).round() / 255


def one_run(content: Path, style: Path, size: int, mode: str, args) -> dict:
    settings = mode_settings(mode, size, args.iterations_scale)
    held, weight = settings.pop("held", True), settings.pop("held_weight", None)
    from neural_style.style_transfer import stage
    default_weight, stage.HELD_WEIGHT = stage.HELD_WEIGHT, weight if weight is not None else stage.HELD_WEIGHT
    common = dict(size=size, weights=str(args.weights), precision=args.precision, seed=0, tile_size=args.tile_size)
    if not held:  # every scale at one octave: the stage's held octaves switched off for this mode
        real = stage.stage_octaves
        stage.stage_octaves = lambda asked, shape, first, min_side: real(asked, shape, None, min_side)
    try:
        started = time.perf_counter()
        result = run_stylize(content, style, download_progress=False, **common, **settings)
        wall = time.perf_counter() - started
    finally:
        stage.HELD_WEIGHT = default_weight
        if not held:
            stage.stage_octaves = real
    delivered = as_written(result.image)
    losses = evaluate_losses(delivered, content, style, **common)
    name = f"{content.stem}-{style.stem}-{size}-{mode}.png"
    write_image(args.out / name, delivered)
    return {"pair": f"{content.stem}+{style.stem}", "size": size, "mode": mode, "seconds": result.run.seconds,
            "wall": wall, "iterations": result.run.iterations, "content": losses["content"],
            "style": losses["style"], "octaves": losses["style_octaves"], "image": name,
            "scales": [s.long_side for s in result.scales], "held": [s.octaves for s in result.scales]}


def side_by_side(rows, content: Path, out: Path) -> None:
    """Content then each mode's output, one height, in one picture."""
    pictures.side_by_side([content] + [out / r["image"] for r in rows],
                          out / f"{rows[0]['pair']}-{rows[0]['size']}-side-by-side.jpg")


def summary(rows, modes) -> None:
    """Per size and mode, the mean over pairs of each ratio against single scale."""
    for size in sorted({r["size"] for r in rows}):
        base = {r["pair"]: r for r in rows if r["size"] == size and r["mode"] == "single"}
        for mode in modes:
            mine = [r for r in rows if r["size"] == size and r["mode"] == mode and r["pair"] in base]
            if not mine or mode == "single":
                continue
            def mean(values):
                return sum(values) / len(values)
            octs = [mean([r["octaves"][o] / base[r["pair"]]["octaves"][o] for r in mine])
                    for o in range(len(mine[0]["octaves"]))]
            time_ratio = mean([r["seconds"] / base[r["pair"]]["seconds"] for r in mine])
            content = mean([r["content"] / base[r["pair"]]["content"] for r in mine])
            print(f"{size:5d} px {mode:10s} vs single: octaves (finest first) "
                  f"{' '.join(f'{v:.3f}x' for v in octs)}; content {content:.3f}x; time {time_ratio:.3f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="512,1024")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated; single is the baseline")
    parser.add_argument("--pairs", type=int, default=len(PAIRS))
    parser.add_argument("--first", type=int, default=0, help="the index of the first pair (0: golden_gate)")
    parser.add_argument("--iterations-scale", type=float, default=1.0, help="multiplies every iteration count")
    parser.add_argument("--tile-size", default="auto")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--weights", type=Path, default=SHARED / "weights" / "vgg16-hed.pth")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "octaves")
    parser.add_argument("--json", type=Path, default=None, help="also write every row here")
    args = parser.parse_args()
    args.tile_size = args.tile_size if args.tile_size == "auto" else int(args.tile_size)
    modes = args.modes.split(",")
    for mode in modes:
        mode_settings(mode, 512, 1)  # an unknown mode: one line before any work
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, iterations x{args.iterations_scale:g}")
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        for content_name, style_name in PAIRS[args.first:args.first + args.pairs]:
            content = SHARED / "images" / "content" / content_name
            style = SHARED / "images" / "style" / style_name
            pair_rows = []
            for mode in modes:
                row = one_run(content, style, size, mode, args)
                pair_rows.append(row)
                print(f"{row['pair']:40s} {size:5d} {mode:10s} {row['seconds']:8.1f} s  content {row['content']:.4f}"
                      f"  octaves {' '.join(f'{v:.4f}' for v in row['octaves'])}  scales {row['scales']} "
                      f"held {row['held']}", flush=True)
            rows += pair_rows
            side_by_side(pair_rows, content, args.out)
        summary(rows, modes)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
