"""Why coarse to fine misses the time-to-quality target: loss against full-size iterations.

Runs single-scale L-BFGS and coarse-to-fine schedules with a long last scale, records the total
loss of every evaluation, and prints, at each number of full-size iterations, the loss of both,
with the time each run had spent by then. Its question: can any split of a fixed budget between
cheap coarse scales and the full size reach single scale's final loss in at most half its time?

    python benchmarks/stylize_multiscale_curves.py --size 512 --schedules 100,50,400 200,100,300

Each schedule lists the iterations of the auto scales (256, 362, ... up to --size), the last one
at full size. Prints the table and, for each schedule, the lowest total loss reached within half
the single-scale run's time (the ratio to single scale's final loss: the target is <= 1).
"""

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from neural_style.style_transfer.gatys import run_stylize  # noqa: E402

SHARED = ROOT.parent / "shared"


def curve(args, scales, iterations):
    """[(scale index, total loss, seconds since the start)] of every evaluation."""
    points, start = [], time.perf_counter()

    def record(step):
        points.append((step.scale[0] if step.scale else 1, step.losses["total"], time.perf_counter() - start))

    run_stylize(args.content, args.style, size=args.size, weights=args.weights, download_progress=False,
                scales=scales, iterations=iterations, callback=record)
    return points


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--content", default=str(SHARED / "images/content/tubingen.jpg"))
    p.add_argument("--style", default=str(SHARED / "images/style/starry_night.jpg"))
    p.add_argument("--weights", default=str(SHARED / "weights/vgg16-hed.pth"))
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--single-iterations", type=int, default=500)
    p.add_argument("--schedules", nargs="+", default=["100,50,400", "200,100,300"])
    args = p.parse_args()

    single = curve(args, "none", args.single_iterations)
    final, budget = single[-1][1], single[-1][2] / 2
    runs = {}
    for text in args.schedules:
        its = [int(t) for t in text.split(",")]
        points = curve(args, "auto", its)
        top = max(s for s, _, _ in points)
        runs[text] = ([(loss, t) for s, loss, t in points if s == top], points)
    marks = [n for n in (50, 100, 150, 200, 250, 300, 400, 500) if n <= args.single_iterations]
    print(f"{args.size} px: total loss (seconds) after N full-size iterations")
    print("N      single         " + "  ".join(f"c2f {k:<14}" for k in runs))
    for n in marks:
        cells = [f"{single[n - 1][1]:.4f} ({single[n - 1][2]:4.0f} s)"]
        for top, _ in runs.values():
            cells.append(f"{top[n - 1][0]:.4f} ({top[n - 1][1]:4.0f} s)" if n <= len(top) else " " * 17)
        print(f"{n:<6} " + "  ".join(cells))
    print(f"single scale: {final:.4f} after {args.single_iterations} in {single[-1][2]:.0f} s; half of it: {budget:.0f} s")
    for text, (_, points) in runs.items():
        within = [loss for _, loss, t in points if t <= budget]
        best = min(within) if within else float("nan")
        print(f"c2f {text}: best within {budget:.0f} s {best:.4f} = {best / final:.3f}x single's final "
              f"({'met' if best <= final else 'NOT met'}); its final {points[-1][1]:.4f} in {points[-1][2]:.0f} s")


if __name__ == "__main__":
    main()
