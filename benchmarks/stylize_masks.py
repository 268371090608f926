"""Regions (``--style-masks``): does each region take its own style, and does a black region keep its content?

On a held-out content picture split into a left and a right half (``../shared/images``), runs ``run_stylize``
(single scale, every other setting at its default):

* ``two``: style A on the left mask, style B on the right;
* ``A``, ``B``: one style everywhere (no mask): what each region would get alone;
* ``left``: style A on the left, the right half black (no style);
* ``none``: ``style_weight=0`` (content and TV only).

Then judges the delivered 8-bit images with the guided style loss (``evaluate_losses`` with one style and
one region mask): in each region of ``two``, the loss against its own style over that against the other
style (target at most 0.5x) and over the one-style run's loss in the same region (target at most 1.2x);
and, in the black half of ``left``, the mean absolute difference from ``none`` in levels of 255 over the
pixels farther from the border than the deepest style layer's receptive-field radius (target at most 3).
Writes the images and a side-by-side picture to ``--out`` (default ``benchmarks/out/masks``).

    python benchmarks/stylize_masks.py                  # 384 px, 300 iterations
"""

import argparse
import sys
import time
from pathlib import Path

import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import pictures  # noqa: E402

from neural_style.core.objective import load_loss_network  # noqa: E402
from neural_style.core.tiling import geometry  # noqa: E402
from neural_style.io.encode import write_image  # noqa: E402
from neural_style.settings import StylizeSettings  # noqa: E402
from neural_style.style_transfer.gatys import evaluate_losses, run_stylize  # noqa: E402

SHARED = ROOT.parent / "shared"
CONTENT, STYLE_A, STYLE_B = "hoovertowernight.jpg", "the_scream.jpg", "woman-with-hat-matisse.jpg"


def as_written(image: torch.Tensor) -> torch.Tensor:
    return (image.clamp(0, 1) * 255).round() / 255


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=384)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--weights", type=Path, default=SHARED / "weights" / "vgg16-hed.pth")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "masks")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    content = SHARED / "images" / "content" / CONTENT
    style_a, style_b = SHARED / "images" / "style" / STYLE_A, SHARED / "images" / "style" / STYLE_B
    common = dict(size=args.size, iterations=args.iterations, weights=str(args.weights), precision=args.precision,
                  seed=0)
    w, h = Image.open(content).size
    left = torch.zeros(1, 1, h, w)
    left[..., : w // 2] = 1
    right = 1 - left
    runs = {"two": ([style_a, style_b], dict(style_masks=[left, right])), "A": ([style_a], {}), "B": ([style_b], {}),
            "left": ([style_a], dict(style_masks=[left])), "none": ([style_a], dict(style_weight=0))}
    images = {}
    for name, (styles, extra) in runs.items():
        started = time.perf_counter()
        result = run_stylize(content, styles, download_progress=False, **common, **extra)
        images[name] = as_written(result.image)
        write_image(args.out / f"{name}.png", images[name])
        print(f"{name:5s} {time.perf_counter() - started:7.1f} s  style {result.final_losses['style']:.4f}  "
              f"content {result.final_losses['content']:.4f}", flush=True)

    def guided(image, style, mask):
        return evaluate_losses(image, content, style, **common, style_masks=[mask])["style"]

    print(f"{args.size} px, {args.iterations} iterations, torch {torch.__version__}")
    for region, mask, own, other, alone in (("left", left, style_a, style_b, "A"), ("right", right, style_b, style_a, "B")):
        mine, theirs = guided(images["two"], own, mask), guided(images["two"], other, mask)
        single = guided(images[alone], own, mask)
        print(f"{region:5s} region: guided loss vs its own style {mine:.4f}, vs the other {theirs:.4f} "
              f"({mine / theirs:.3f}x; target <= 0.5x); one-style run's {single:.4f} ({mine / single:.3f}x; "
              "target <= 1.2x)")
    _black_region(images, args, common)
    _sheet(content, images, args.out)


def _black_region(images, args, common) -> None:
    settings = StylizeSettings(**{k: v for k, v in common.items() if k != "iterations"})
    net = load_loss_network(settings.content_layers, settings.style_layers, weights=settings.weights)
    geo = geometry(net.extractor.net)
    radius = (geo.stride + 2 * geo.reach + 1) // 2  # half the deepest layer's receptive field (VGG16 relu5_1: 66)
    width = images["left"].shape[-1]
    start = width // 2 + radius
    diff = (images["left"][..., start:] - images["none"][..., start:]).abs().mean() * 255
    print(f"black half, {width - start} px columns farther than {radius} px from the border: mean |left - none| "
          f"{float(diff):.2f} levels of 255 (target <= 3)")


def _sheet(content: Path, images, out: Path) -> None:
    pictures.side_by_side([content] + [out / f"{n}.png" for n in images], out / "side-by-side.jpg", height=384)


if __name__ == "__main__":
    main()
