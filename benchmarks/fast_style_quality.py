"""Does a trained fast style network stylise photos it was not trained on?

Compares, on held-out photos (centre crops at the training image size), the perceptual
losses of the trained network's outputs with those of the untrained network (the same
seed's initial weights), and with what optimisation-based `stylize` runs reach on the same
photos, measured with the same loss network, layers and per-layer normalisation:

- "stylize (defaults)": a stylize run as a user gets it (stylize's own content, style and
  TV weights), with training's layers;
- "stylize (same weights)": stylize with the network's training weights, i.e. the
  per-photo optimum of the very objective the network was trained on.

    python benchmarks/fast_style_quality.py MODEL.pth HELDOUT_DIR [--stylize-photos 4]

Target (issue #4): style loss of the trained outputs <= 0.3 x the untrained network's, with
the content loss within the range a stylize run reaches.
"""

import argparse
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from neural_style.fast.model_file import load_model  # noqa: E402
from neural_style.fast.training import find_images, load_sample, training_objective  # noqa: E402
from neural_style.fast.transformer import TransformerNet  # noqa: E402
from neural_style.settings import StylizeSettings, TrainSettings  # noqa: E402
from neural_style.style_transfer.gatys import run_stylize  # noqa: E402

STYLIZE_DEFAULTS = {k: getattr(StylizeSettings, k) for k in ("content_weight", "style_weight", "tv_weight", "tv_beta")}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("model", type=Path)
    p.add_argument("heldout", type=Path)
    p.add_argument("--stylize-photos", type=int, default=4)
    p.add_argument("--stylize-iterations", type=int, default=200)
    args = p.parse_args()

    net, metadata = load_model(args.model)
    config = TrainSettings(**metadata["settings"])
    objective = training_objective(metadata["style"], config, download_progress=False)

    def losses(x, y):  # the training objective: y's terms against x's content
        return objective(y, objective.content_targets(x))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        untrained = TransformerNet(width=config.width).eval()
    photos = [s for s in (load_sample(f, config.image_size) for f in find_images(args.heldout)) if s is not None]
    x = torch.stack(photos)

    def terms(model):
        with torch.no_grad():
            return {k: float(v) for k, v in losses(x, model(x)).items()}

    trained, initial = terms(net.eval()), terms(untrained)
    ratio = trained["style"] / initial["style"]
    print(f"{len(photos)} held-out photos at {config.image_size} px, style {metadata['style']}, "
          f"{metadata['steps']} training steps, weights content {config.content_weight:g} "
          f"style {config.style_weight:g} tv {config.tv_weight:g}")
    print(f"untrained network: style {initial['style']:.4f}  content {initial['content']:.4f}")
    print(f"trained network:   style {trained['style']:.4f}  content {trained['content']:.4f}  "
          f"(style ratio {ratio:.3f}, target <= 0.3: {'met' if ratio <= 0.3 else 'NOT met'})")

    sub = x[: args.stylize_photos]
    if not len(sub):
        return
    with torch.no_grad():
        own = [float(losses(sub[i:i + 1], net(sub[i:i + 1]))["content"]) for i in range(len(sub))]
    print(f"trained network on the first {len(own)} photos: content {min(own):.4f}..{max(own):.4f} "
          f"(mean {sum(own) / len(own):.4f})")

    same = {"content_weight": config.content_weight, "style_weight": config.style_weight,
            "tv_weight": config.tv_weight, "tv_beta": config.tv_beta}
    for label, weights in (("defaults", STYLIZE_DEFAULTS), ("same weights", same)):
        reached = []
        for photo in photos[: args.stylize_photos]:
            result = run_stylize(photo[None], metadata["style"], size=config.image_size, weights=config.weights,
                                 model=config.model, weights_format=config.weights_format,
                                 content_layers=config.content_layers, style_layers=config.style_layers,
                                 style_scale=(config.style_size or config.image_size) / config.image_size,
                                 iterations=args.stylize_iterations, download_progress=False, **weights)
            with torch.no_grad():
                reached.append({k: float(v) for k, v in losses(photo[None], result.image).items()})
        if not reached:
            continue
        lo, hi = min(r["content"] for r in reached), max(r["content"] for r in reached)
        inside = lo <= sum(own) / len(own) <= hi
        print(f"stylize ({label}: content {weights['content_weight']:g} style {weights['style_weight']:g} "
              f"tv {weights['tv_weight']:g}; {args.stylize_iterations} iterations, {len(reached)} photos): "
              f"content {lo:.4f}..{hi:.4f}, style {min(r['style'] for r in reached):.4f}.."
              f"{max(r['style'] for r in reached):.4f} -> network's mean content on these photos "
              f"{'within' if inside else 'OUTSIDE'} this range")


if __name__ == "__main__":
    main()
