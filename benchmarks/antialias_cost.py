"""The cost of train --antialias at transfer time, as a ratio to the plain network's.

Seconds per forward pass of the plain and the anti-aliased transform network (same weights),
interleaved in one process, and their ratio.

    python benchmarks/antialias_cost.py --size 720x1280 --rounds 5
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from neural_style.fast.transformer import TransformerNet  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", default="512x512", help="HEIGHTxWIDTH of the image")
    p.add_argument("--width", type=float, default=1.0, help="the network's channel multiplier")
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    height, width = (int(v) for v in args.size.split("x"))
    torch.manual_seed(0)
    nets = {"plain": TransformerNet(args.width).eval()}
    nets["antialias"] = TransformerNet(args.width, antialias=True).eval()
    nets["antialias"].load_state_dict(nets["plain"].state_dict())
    image = torch.rand(1, 3, height, width)
    seconds = {name: [] for name in nets}
    with torch.inference_mode():
        for net in nets.values():
            net(image)  # warm-up
        for _ in range(args.rounds):
            for name, net in nets.items():
                start = time.perf_counter()
                net(image)
                seconds[name].append(time.perf_counter() - start)
    plain, antialias = (statistics.median(seconds[k]) for k in ("plain", "antialias"))
    print(f"{height}x{width}, width {args.width:g}, torch threads {torch.get_num_threads()}, {args.rounds} rounds: "
          f"plain {plain:.3f} s, antialias {antialias:.3f} s per image (medians): antialias/plain "
          f"{antialias / plain:.2f}x")


if __name__ == "__main__":
    main()
