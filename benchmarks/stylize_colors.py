"""How close the colours of stylize's output come to the content's, for each ``--colors`` mode.

For each (content, style) pair of held-out pictures (``../shared/images``: not the README's example) runs
``run_stylize`` (single scale, the given size and iterations, every other setting at its default) with
``colors="style"``, ``"luminance-only"`` and ``"histogram"``, and measures the distance of the output's RGB statistics
(values 0..1) to the content's at the output size (:func:`neural_style.core.color.color_distance`):

    d(out, content) = ||mu_out - mu_c||_2 + ||Sigma_out - Sigma_c||_F

``colors="luminance"`` is not run again: its optimisation is the style run's (the luminance transfer comes
after it), so its output is the style run's image with the content's chrominance, computed here. Prints
per pair and mode d, the loop's seconds and the style loss of the output (histogram: against the recoloured
style, luminance-only: the luminance's), d of the style image itself, then the mean over pairs of
d(histogram) / d(style); writes content | style | each mode's output side by side (``--out``/colors-*.jpg).

    python benchmarks/stylize_colors.py                       # 256 px, 150 iterations, 2 pairs
    python benchmarks/stylize_colors.py --maps                # only the colour maps, side by side

``--luminance-only`` compares the two ways of keeping the content's colours: ``swap`` (``--colors
luminance``: stylise in colour, then keep the result's luminance with the content's chrominance) and Gatys
et al.'s (2017, Sec. 5.1) luminance-only transfer (``--colors luminance-only``: stylise the luminance of the
content with the luminance of the style, then recombine with the content's chrominance). Both keep the
content's chrominance, so they are judged by what the style gives, the luminance: the style loss of the
output's luminance against the style's (grey images, the objective's normalised Gram loss,
``evaluate_losses``), the content loss of the output, and the loop's seconds.

    python benchmarks/stylize_colors.py --luminance-only      # 256 px, 150 iterations, 2 pairs

``--maps`` runs no stylisation: for each pair it writes content | style | style mapped by ``pca`` |
by ``cholesky`` (clamped to [0, 1], as stylize uses them) to ``--out``/maps-*.png and prints d of each
map, unclamped and clamped: the pictures that chose ``match_color``'s default.

Target (the issue): d(histogram) at most 0.3x d(style). Writes the outputs to ``--out`` (default
``benchmarks/out/colors``).
"""

import argparse
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import pictures  # noqa: E402

from neural_style.core.color import (  # noqa: E402
    COLOR_MATCH_METHODS,
    color_distance,
    match_color,
    transfer_luminance,
)
from neural_style.core.tensors import resize_to, to_grey  # noqa: E402
from neural_style.io.decode import to_tensor  # noqa: E402
from neural_style.io.encode import write_image  # noqa: E402
from neural_style.style_transfer.gatys import evaluate_losses, run_stylize  # noqa: E402

SHARED = ROOT.parent / "shared"
PAIRS = [("golden_gate.jpg", "the_scream.jpg"), ("hoovertowernight.jpg", "woman-with-hat-matisse.jpg")]
MODES = ("style", "luminance", "luminance-only", "histogram")


def one_pair(content: Path, style: Path, args) -> dict:
    """d(out, content) for style, luminance and histogram; the loop's seconds and the style loss of each."""
    rows = {}
    for colors in ("style", "luminance-only", "histogram"):
        result = run_stylize(content, style, size=args.size, iterations=args.iterations, weights=str(args.weights),
                             precision=args.precision, colors=colors, scales="none", download_progress=False)
        content_out = resize_to(to_tensor(content, channels=3, reduce_to=args.size), result.content_size)
        rows[colors] = (result.image, result.run.seconds, (result.final_losses or {}).get("style", float("nan")))
        if colors == "style":
            rows["luminance"] = (transfer_luminance(result.image, content_out), 0.0, float("nan"))
    style_image = to_tensor(style, channels=3, reduce_to=args.size)
    out = {"style image": color_distance(style_image, content_out).item()}
    written = []
    for colors in MODES:
        image, seconds, style_loss = rows[colors]
        written.append(write_image(args.out / f"{content.stem}-{style.stem}-{colors}.png", image))
        out[colors] = (color_distance(image, content_out).item(), seconds, style_loss)
    pictures.side_by_side([content, style, *written], args.out / f"colors-{content.stem}.jpg", height=args.size)
    return out


def grey(image: torch.Tensor) -> torch.Tensor:
    """The luminance Y of an RGB image (1, 3, H, W), as a grey RGB image."""
    return to_grey(image).expand(-1, 3, -1, -1).clamp(0, 1).contiguous()


def luminance_ways(content: Path, style: Path, args) -> dict:
    """``swap`` and ``luminance-only``: (style loss of the output's luminance, content loss, seconds)."""
    common = dict(size=args.size, iterations=args.iterations, weights=str(args.weights), precision=args.precision,
                  scales="none")
    content_in = to_tensor(content, channels=3, reduce_to=args.size)
    style_in = to_tensor(style, channels=3, reduce_to=args.size)
    rows = {}
    for name, colors in (("swap", "luminance"), ("luminance-only", "luminance-only")):
        result = run_stylize(content_in, style_in, colors=colors, download_progress=False, **common)
        image = (result.image.clamp(0, 1) * 255).round() / 255  # as written
        write_image(args.out / f"{content.stem}-{style.stem}-{name}.png", image)
        style_loss = evaluate_losses(grey(image), content_in, grey(style_in), **common)["style"]
        content_loss = evaluate_losses(image, content_in, style_in, **common)["content"]
        rows[name] = (style_loss, content_loss, result.run.seconds)
    return rows


def compare_maps(content: Path, style: Path, args) -> None:
    """content | style | each map of the style, side by side; d of each map unclamped and clamped."""
    target = to_tensor(content, channels=3, reduce_to=args.size)
    source = to_tensor(style, channels=3, reduce_to=args.size)
    strip = [target, source]
    for method in COLOR_MATCH_METHODS:
        mapped = match_color(source, target, method=method)
        strip.append(mapped.clamp(0, 1))
        print(f"{content.stem + ' + ' + style.stem:45s} {method:9s} d unclamped {color_distance(mapped, target).item():.2e}"
              f"  clamped {color_distance(strip[-1], target).item():.4f}  "
              f"pixels clamped {((mapped < 0) | (mapped > 1)).any(dim=1).float().mean().item():.3f}")
    height = max(image.shape[-2] for image in strip)
    padded = [torch.nn.functional.pad(image, (0, 4, 0, height - image.shape[-2]), value=1.0) for image in strip]
    write_image(args.out / f"maps-{content.stem}-{style.stem}.png", torch.cat(padded, dim=3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--iterations", type=int, default=150)
    parser.add_argument("--pairs", type=int, default=len(PAIRS), help="how many of the held-out pairs")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--weights", type=Path, default=SHARED / "weights" / "vgg16-hed.pth")
    parser.add_argument("--maps", action="store_true", help="only write the colour maps side by side")
    parser.add_argument("--luminance-only", action="store_true", help="compare the luminance swap with "
                        "Gatys et al.'s luminance-only transfer")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "colors")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.maps:
        for content_name, style_name in PAIRS[:args.pairs]:
            compare_maps(SHARED / "images" / "content" / content_name, SHARED / "images" / "style" / style_name, args)
        return
    print(f"{args.size} px, {args.iterations} iterations, torch {torch.__version__}, {torch.get_num_threads()} threads")
    if args.luminance_only:
        for content_name, style_name in PAIRS[:args.pairs]:
            content, style = SHARED / "images" / "content" / content_name, SHARED / "images" / "style" / style_name
            rows = luminance_ways(content, style, args)
            for name, (style_loss, content_loss, seconds) in rows.items():
                print(f"{content.stem + ' + ' + style.stem:45s} {name:15s} luminance style loss {style_loss:.4f}  "
                      f"content loss {content_loss:.4f}  {seconds:7.1f} s", flush=True)
            print(f"{'':45s} luminance-only / swap: style loss {rows['luminance-only'][0] / rows['swap'][0]:.3f}x, "
                  f"content {rows['luminance-only'][1] / rows['swap'][1]:.3f}x, "
                  f"time {rows['luminance-only'][2] / rows['swap'][2]:.3f}x")
        return
    print(f"{'pair':45s} {'colors':10s} {'d(out, content)':>15s} {'seconds':>8s} {'style loss':>10s}")
    ratios = []
    for content_name, style_name in PAIRS[:args.pairs]:
        content = SHARED / "images" / "content" / content_name
        style = SHARED / "images" / "style" / style_name
        row = one_pair(content, style, args)
        name = f"{content.stem} + {style.stem}"
        print(f"{name:45s} {'(style img)':10s} {row['style image']:15.4f}")
        for colors in MODES:
            d, seconds, style_loss = row[colors]
            timing = f"{seconds:8.1f} {style_loss:10.4g}" if colors != "luminance" else f"{'(style run)':>19s}"
            print(f"{name:45s} {colors:10s} {d:15.4f} {timing}", flush=True)
        ratios.append(row["histogram"][0] / row["style"][0])
    print(f"\nd(histogram) / d(style): {', '.join(f'{r:.3f}' for r in ratios)}; mean {sum(ratios) / len(ratios):.3f}x "
          "(target <= 0.3x)")


if __name__ == "__main__":
    main()
