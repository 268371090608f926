"""How much a fast style network's output changes, beyond moving, when its input moves.

The mean squared difference between f(T x) and T f(x) (the moved output) for integer shifts of 1, 2, 3 and
4 px and for the random small motions of train --temporal-weight, on photos of ../shared/train/photos.

A network that follows its input exactly scores 0. Stride-2 convolutions alias, so a plain network
changes its texture under shifts that are not a multiple of 4 px (its two stride-2 stages); the
anti-aliased network of train --antialias much less. The last column is the output's mean squared
horizontal gradient, a measure of how much texture it draws (a network can score low by drawing none).

    python benchmarks/shift_equivariance.py plain.pth antialiased.pth
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from neural_style.fast.model_file import load_model  # noqa: E402
from neural_style.fast.temporal import move, random_motion, temporal_loss  # noqa: E402

PHOTOS = ROOT.parent / "shared" / "train" / "photos"


def photos(count: int, size: int) -> torch.Tensor:
    """``count`` photos spread over the folder, each its top-left ``size`` square after scaling the short side."""
    files = sorted(PHOTOS.glob("*.jpg"))
    chosen = files[::max(len(files) // count, 1)][:count]
    crops = []
    for path in chosen:
        image = Image.open(path).convert("RGB")
        scale = size / min(image.size)
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.BICUBIC)
        crops.append(torch.from_numpy(np.asarray(image)[:size, :size].copy()).permute(2, 0, 1).float() / 255)
    return torch.stack(crops)


def shift_change(net, x: torch.Tensor, y: torch.Tensor, shift: int, margin: int = 8) -> float:
    """Mean squared f(roll x) - roll y, with y = f(x), away from the borders (a wrapped column and the padding)."""
    change = net(torch.roll(x, shift, -1)) - torch.roll(y, shift, -1)
    return float(change[..., margin:-margin, margin + shift:-margin].square().mean())


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("models", nargs="+", type=Path)
    p.add_argument("--photos", type=int, default=16, help="how many photos of ../shared/train/photos")
    p.add_argument("--size", type=int, default=128, help="side of the square crops in px (at least 32)")
    args = p.parse_args()
    if args.size < 32 or args.photos < 1:
        p.error(f"expected --size >= 32 and --photos >= 1, got {args.size} and {args.photos}")
    x = photos(args.photos, args.size)
    print(f"{args.photos} photos, {args.size} px; mean squared change of the output beyond moving it")
    print(f"{'model':40} {'1 px':>8} {'2 px':>8} {'3 px':>8} {'4 px':>8} {'motions':>8} {'texture':>8}")
    for path in args.models:
        net, _ = load_model(path)
        with torch.no_grad():
            y = net(x)  # once: every comparison below is against it
            shifts = [shift_change(net, x, y, s) for s in (1, 2, 3, 4)]
            motions = []
            for seed in range(4):
                grid, mask = random_motion(x, torch.Generator().manual_seed(seed))
                motions.append(float(temporal_loss(net(move(x, grid)), y, grid, mask)))
            texture = float((y[..., 1:] - y[..., :-1]).square().mean())
        name = ("antialiased " if net.antialias else "") + path.name
        print(f"{name[-40:]:40} " + " ".join(f"{v:8.5f}" for v in shifts) + f" {np.mean(motions):8.5f} {texture:8.5f}")


if __name__ == "__main__":
    main()
