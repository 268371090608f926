"""Does a trained fast style network stylise photos it was not trained on?

Compares, on held-out photos (centre crops at the training image size), the perceptual
losses of the trained network's outputs with those of the untrained network (the same
seed's initial weights), and with what an optimisation-based `stylize` run reaches on the
same photos with the same layers and weights.

    python benchmarks/fast_style_quality.py MODEL.pth HELDOUT_DIR [--stylize-photos 2]

Target (issue #4): style loss of the trained outputs <= 0.3 x the untrained network's, with
the content loss within the range a stylize run reaches.
"""

import argparse
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from neural_style.model_file import load_model  # noqa: E402
from neural_style.style_transfer import run_stylize  # noqa: E402
from neural_style.training import TrainConfig, Trainer, find_images, load_sample  # noqa: E402
from neural_style.transformer import TransformerNet  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("model", type=Path)
    p.add_argument("heldout", type=Path)
    p.add_argument("--stylize-photos", type=int, default=2)
    p.add_argument("--stylize-iterations", type=int, default=200)
    args = p.parse_args()

    net, metadata = load_model(args.model)
    settings = metadata["settings"]
    config = TrainConfig(**settings)
    trainer = Trainer(metadata["style"], args.heldout, config, download_progress=False)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        untrained = TransformerNet(width=config.width).eval()
    photos = [s for s in (load_sample(f, config.image_size) for f in find_images(args.heldout)) if s is not None]
    x = torch.stack(photos)

    def terms(model):
        with torch.no_grad():
            return {k: float(v) for k, v in trainer.losses(x, model(x)).items()}

    trained, initial = terms(net.eval()), terms(untrained)
    print(f"{len(photos)} held-out photos at {config.image_size} px, style {metadata['style']}")
    print(f"untrained network: style {initial['style']:.4f}  content {initial['content']:.4f}")
    print(f"trained network:   style {trained['style']:.4f}  content {trained['content']:.4f}  "
          f"(style ratio {trained['style'] / initial['style']:.3f}, target <= 0.3)")

    reached = []
    for photo in photos[: args.stylize_photos]:
        result = run_stylize(photo[None], metadata["style"], size=None, weights=config.weights, model=config.model,
                             content_layers=config.content_layers, style_layers=config.style_layers,
                             content_weight=config.content_weight, style_weight=config.style_weight,
                             tv_weight=config.tv_weight, tv_beta=config.tv_beta,
                             style_scale=(config.style_size or config.image_size) / config.image_size,
                             iterations=args.stylize_iterations, download_progress=False)
        with torch.no_grad():
            reached.append({k: float(v) for k, v in trainer.losses(photo[None], result.image).items()})
    if reached:
        contents = [r["content"] for r in reached]
        print(f"stylize ({args.stylize_iterations} iterations, {len(reached)} photos): content "
              f"{min(contents):.4f}..{max(contents):.4f}, style "
              f"{min(r['style'] for r in reached):.4f}..{max(r['style'] for r in reached):.4f}")


if __name__ == "__main__":
    main()
