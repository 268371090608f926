"""The cost of train --temporal-weight: seconds per training step with and without the temporal term,
interleaved in one process (real VGG16 from ../shared/weights, photos from ../shared/train/photos).

    python benchmarks/temporal_train_cost.py --image-size 128 --batch-size 4 --rounds 3
"""

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from neural_style.fast.training import Trainer  # noqa: E402
from neural_style.settings import TrainSettings  # noqa: E402

SHARED = ROOT.parent / "shared"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--image-size", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--steps", type=int, default=3, help="steps per round and setting")
    args = p.parse_args()
    style = ROOT / "examples" / "inputs" / "starry_night.jpg"
    trainers = {w: Trainer(style, SHARED / "train" / "photos",
                           TrainSettings(image_size=args.image_size, batch_size=args.batch_size, iterations=10**6,
                                         weights=str(SHARED / "weights" / "vgg16-hed.pth"), temporal_weight=w),
                           download_progress=False)
                for w in (0.0, 100.0)}
    for trainer in trainers.values():
        trainer.train_step()  # warm-up
    seconds = {w: [] for w in trainers}
    for _ in range(args.rounds):
        for weight, trainer in trainers.items():
            start = time.perf_counter()
            for _ in range(args.steps):
                trainer.train_step()
            seconds[weight].append((time.perf_counter() - start) / args.steps)
    plain, temporal = min(seconds[0.0]), min(seconds[100.0])
    print(f"{args.image_size} px, batch {args.batch_size}: {plain:.3f} s per step without the temporal term, "
          f"{temporal:.3f} s with it: {temporal / plain:.2f}x")


if __name__ == "__main__":
    main()
