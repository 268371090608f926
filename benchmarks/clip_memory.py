"""Peak memory of stylize and transfer on a clip and on a 10x longer one (issue 27: clips stream).

Each run is a fresh ``python -m neural_style`` process; its peak resident memory is what the kernel
reports (``os.wait4``). The clips are 1280x720 (2.8 MB per uint8 frame), so holding a clip shows.

    python benchmarks/clip_memory.py                      # this tree
    git worktree add /tmp/old 3d27265 && python benchmarks/clip_memory.py --code /tmp/old   # before streaming

Prints each command's peaks (MiB) for 6 and 60 frames and their ratio (target: at most 1.2).
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import random_vgg_state  # noqa: E402
from tests.fast.test_training import _tiny_model  # noqa: E402
from tests.video.test_streaming import clip  # noqa: E402


def peak_mib(code: Path, *args) -> float:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(code))
    proc = subprocess.Popen([sys.executable, "-m", "neural_style", *map(str, args), "-q"], env=env,
                            stderr=subprocess.PIPE, cwd=tempfile.gettempdir())  # not this tree's folder
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(proc.stderr.read().decode()[-2000:])
    return usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="source tree whose neural_style runs [this one]")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    model = _tiny_model(tmp)
    torch.save(random_vgg_state("vgg16"), tmp / "vgg.pth")
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (36, 36, 3), np.uint8)).save(tmp / "style.png")
    runs = {"transfer": lambda src, out: ("transfer", model, src, "-o", out, "--size", "160"),
            "stylize": lambda src, out: ("stylize", src, tmp / "style.png", "-o", out, "--weights", tmp / "vgg.pth",
                                         "--size", "32", "--iterations", "1", "--first-frame-iterations", "1")}
    clips = {n: clip(tmp / f"clip{n}.mp4", n) for n in (6, 60)}
    for name, command in runs.items():
        peaks = [peak_mib(args.code, *command(src, tmp / f"{name}{n}.mp4")) for n, src in clips.items()]
        print(f"{name}: 6 frames {peaks[0]:.0f} MiB, 60 frames {peaks[1]:.0f} MiB, ratio {peaks[1] / peaks[0]:.3f}")


if __name__ == "__main__":
    main()
