"""Time to quality: coarse-to-fine ``stylize`` against single-scale L-BFGS with 500 iterations.

Both runs use the same images, weights, output size and objective at the output size, so their
final total losses, evaluated at the output size, compare directly, as long as the style image
is at least as large as the output (a coarse-to-fine run never upscales it; the shared
1024 px Starry Night covers --size up to 1024; the script warns otherwise). Timings are the wall time
of ``run_stylize`` (loading the network included, once per run); the two runs alternate in
one process.

    python benchmarks/stylize_multiscale.py --size 512
    python benchmarks/stylize_multiscale.py --size 1024 --out /tmp/multiscale   # also writes both images

Prints both final losses, both times and the ratio, and whether the targets hold (coarse to
fine: final total loss no higher, in at most 0.5x the time).
"""

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from neural_style.io.images import write_image  # noqa: E402
from neural_style.style_transfer.gatys import run_stylize  # noqa: E402

SHARED = ROOT.parent / "shared"


def timed(args, **settings):
    start = time.perf_counter()
    result = run_stylize(args.content, args.style, size=args.size, weights=args.weights, precision=args.precision,
                         download_progress=False, **settings)
    return result, time.perf_counter() - start


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--content", default=str(SHARED / "images/content/tubingen.jpg"))
    p.add_argument("--style", default=str(SHARED / "images/style/starry_night.jpg"))
    p.add_argument("--weights", default=str(SHARED / "weights/vgg16-hed.pth"))
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--single-iterations", type=int, default=500)
    p.add_argument("--scales", default="auto", help="auto or long sides like 256,362")
    p.add_argument("--iterations", default=None, help="per scale, e.g. 300,150,80 [the default schedule]")
    p.add_argument("--precision", default="auto")
    p.add_argument("--out", type=Path, help="write single.png and multiscale.png here")
    args = p.parse_args()

    scales = args.scales if args.scales in ("auto", "none") else [int(s) for s in args.scales.split(",")]
    iterations = None if args.iterations is None else [int(s) for s in args.iterations.split(",")]
    single, t_single = timed(args, scales="none", iterations=args.single_iterations)
    multi, t_multi = timed(args, scales=scales, iterations=iterations)
    schedule = ", ".join(f"{s.long_side} px x {s.iterations}" for s in multi.scales)
    if single.style_sizes != multi.style_sizes:
        print(f"warning: style sizes differ ({single.style_sizes} vs {multi.style_sizes}): the losses do not compare")
    a, b = single.final_losses["total"], multi.final_losses["total"]
    ratio = t_multi / t_single
    print(f"{args.size} px, {Path(args.content).name} + {Path(args.style).name}, precision {single.precision}")
    print(f"single scale   {args.single_iterations} iterations: total {a:.4f} "
          f"(content {single.final_losses['content']:.4f}, style {single.final_losses['style']:.4f})  {t_single:.1f} s")
    print(f"coarse to fine {schedule}: total {b:.4f} (content {multi.final_losses['content']:.4f}, "
          f"style {multi.final_losses['style']:.4f})  {t_multi:.1f} s")
    print(f"loss ratio {b / a:.3f} (target <= 1: {'met' if b <= a else 'NOT met'}); "
          f"time ratio {ratio:.3f} (target <= 0.5: {'met' if ratio <= 0.5 else 'NOT met'})")
    if args.out:
        write_image(args.out / "single.png", single.image)
        write_image(args.out / "multiscale.png", multi.image)


if __name__ == "__main__":
    main()
