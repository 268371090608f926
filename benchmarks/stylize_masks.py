"""Regions (``--style-masks``): does each region take its own style, and does a black region keep its content?

On a held-out content picture split into a left and a right half (``../shared/images``), runs ``run_stylize``
(every setting at its default unless given: coarse to fine, 256 then 384 px):

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

``--carry`` chooses how a mask reaches each style layer's grid: ``area`` (what stylize does: area
averaging, so a position weighs by the share of its pixels inside) or ``inside`` (Gatys et al.'s eroded
masks: a position counts only when its whole receptive field lies inside the region; where no position
of a layer does, that layer falls back to area averaging), or ``both`` (the runs with masks once each).

    python benchmarks/stylize_masks.py                  # 384 px, the default schedule
    python benchmarks/stylize_masks.py --carry both --scales none --iterations 300
"""

import argparse
import contextlib
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
from neural_style.core.style_term import StyleTerm  # noqa: E402
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
    parser.add_argument("--iterations", type=int, default=None, help="of each scale (default: the default schedule)")
    parser.add_argument("--scales", default=None, help="none, auto or long sides (default: stylize's default)")
    parser.add_argument("--carry", choices=("area", "inside", "both"), default="area")
    parser.add_argument("--runs", default="A,B,none,two,left", help="a subset: two, A and B judge the regions, "
                        "left and none the black half")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--weights", type=Path, default=SHARED / "weights" / "vgg16-hed.pth")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "masks")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    content = SHARED / "images" / "content" / CONTENT
    style_a, style_b = SHARED / "images" / "style" / STYLE_A, SHARED / "images" / "style" / STYLE_B
    common = dict(size=args.size, iterations=args.iterations, weights=str(args.weights), precision=args.precision,
                  seed=0)
    if args.scales is not None:
        common["scales"] = args.scales if args.scales in ("none", "auto") else [int(v) for v in args.scales.split(",")]
    w, h = Image.open(content).size
    left = torch.zeros(1, 1, h, w)
    left[..., : w // 2] = 1
    right = 1 - left
    plain = {"A": ([style_a], {}), "B": ([style_b], {}), "none": ([style_a], dict(style_weight=0))}
    masked = {"two": ([style_a, style_b], dict(style_masks=[left, right])), "left": ([style_a], dict(style_masks=[left]))}
    carries = ("area", "inside") if args.carry == "both" else (args.carry,)
    wanted = args.runs.split(",")
    images = {name: _run(name, content, styles, {**common, **extra}, args.out)
              for name, (styles, extra) in plain.items() if name in wanted}
    for carry in carries:
        with _carried(carry):
            images.update({f"{name}-{carry}": _run(f"{name}-{carry}", content, styles, {**common, **extra}, args.out)
                           for name, (styles, extra) in masked.items() if name in wanted})

    def guided(image, style, mask):  # judged by stylize's own (area-averaged) guided loss, whatever the carry
        return evaluate_losses(image, content, style, **common, style_masks=[mask])["style"]

    print(f"{args.size} px, iterations {args.iterations or 'default'}, scales {args.scales or 'default'}, "
          f"torch {torch.__version__}")
    for carry in carries:
        for region, mask, own, other, alone in (("left", left, style_a, style_b, "A"),
                                                ("right", right, style_b, style_a, "B")):
            if not {"two", "A", "B"} <= set(wanted):
                break
            mine, theirs = guided(images[f"two-{carry}"], own, mask), guided(images[f"two-{carry}"], other, mask)
            single = guided(images[alone], own, mask)
            print(f"{carry:6s} {region:5s} region: guided loss vs its own style {mine:.4f}, vs the other {theirs:.4f} "
                  f"({mine / theirs:.3f}x; target <= 0.5x); one-style run's {single:.4f} ({mine / single:.3f}x; "
                  "target <= 1.2x)")
        if {"left", "none"} <= set(wanted):
            _black_region(images, carry, common)
    _sheet(content, images, args.out)


def _run(name: str, content: Path, styles, settings: dict, out: Path) -> torch.Tensor:
    started = time.perf_counter()
    result = run_stylize(content, styles, download_progress=False, **settings)
    image = as_written(result.image)
    write_image(out / f"{name}.png", image)
    print(f"{name:12s} {time.perf_counter() - started:7.1f} s  style {result.final_losses['style']:.4f}  "
          f"content {result.final_losses['content']:.4f}  iterations {result.run.iterations}", flush=True)
    return image


@contextlib.contextmanager
def _carried(carry: str):
    """``StyleTerm.layer_guides`` as ``carry`` says for the runs inside (``area``: as it is)."""
    real = StyleTerm.layer_guides
    if carry == "inside":
        StyleTerm.layer_guides = _inside_guides
    try:
        yield
    finally:
        StyleTerm.layer_guides = real


def _inside_guides(self, guide: torch.Tensor, shape):
    """Eroded ("inside") masks: at each style layer, the least guide value over a position's receptive field
    (the image's edges replicated); a layer where no position is inside keeps the area average."""
    area = _AREA(self, guide, shape)
    out = {}
    for name in self.layers:
        stride, r = self.geometry.strides[name], self.geometry.reaches[name]
        padded = torch.nn.functional.pad(guide, (r, r, r, r), mode="replicate")
        eroded = -torch.nn.functional.max_pool2d(-padded, stride + 2 * r, stride)
        eroded = eroded[..., : area[name].shape[-2], : area[name].shape[-1]]
        out[name] = eroded if float(eroded.sum()) > 0 else area[name]
    return out


_AREA = StyleTerm.layer_guides


def _black_region(images, carry: str, common) -> None:
    settings = StylizeSettings(**{k: v for k, v in common.items() if k not in ("iterations", "scales")})
    net = load_loss_network(settings.content_layers, settings.style_layers, weights=settings.weights)
    geo = geometry(net.extractor.net)
    radius = (geo.stride + 2 * geo.reach + 1) // 2  # half the deepest layer's receptive field (VGG16 relu5_1: 66)
    width = images[f"left-{carry}"].shape[-1]
    start = width // 2 + radius
    diff = (images[f"left-{carry}"][..., start:] - images["none"][..., start:]).abs().mean() * 255
    print(f"{carry:6s} black half, {width - start} px columns farther than {radius} px from the border: mean |left - none| "
          f"{float(diff):.2f} levels of 255 (target <= 3)")


def _sheet(content: Path, images, out: Path) -> None:
    pictures.side_by_side([content] + [out / f"{n}.png" for n in images], out / "side-by-side.jpg", height=384)


if __name__ == "__main__":
    main()
