"""The studio's cost on a run (issue 28): the same stylize run through the studio's handler, run as the
server runs it (the job in the main thread, the page's handler in another making and encoding a PNG
preview every 0.5 s), and through ``stylize_file`` directly, alternated in one process. Target: time
ratio at most 1.05.

    python benchmarks/studio_overhead.py [--size 256] [--iterations 100] [--repeats 4]

Each way runs ``repeats`` times, alternated, after a warm-up run; the ratio is of the medians (single
runs of the same thing vary by about 10% on this shared 2-core machine).

Uses ../shared/weights/vgg16-hed.pth and the shared pictures when present (random weights and
images otherwise). Check ``uptime`` first: another busy process skews both runs, not the ratio.
"""

import argparse
import io
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from neural_style.settings import StylizeSettings  # noqa: E402
from neural_style.studio import handlers  # noqa: E402
from neural_style.studio.jobs import MainThread  # noqa: E402
from neural_style.style_transfer.runner import stylize_file  # noqa: E402
from tests.conftest import random_vgg_state, shared_dir  # noqa: E402


def inputs(folder: Path):
    shared = shared_dir() / "images"
    content, style = shared / "content" / "tubingen.jpg", shared / "style" / "starry_night.jpg"
    weights = shared_dir() / "weights" / "vgg16-hed.pth"
    if not weights.is_file():
        weights = folder / "vgg.pth"
        torch.save(random_vgg_state("vgg16"), weights)
    if not content.is_file():
        content, style = folder / "c.png", folder / "s.png"
        for path, seed in ((content, 1), (style, 2)):
            Image.fromarray(np.random.default_rng(seed).integers(0, 256, (384, 512, 3), np.uint8)).save(path)
    return content, style, weights


def direct(content, style, settings, folder: Path) -> float:
    started = time.perf_counter()
    stylize_file(content, [style], folder / "direct.png", settings, download_progress=False)
    return time.perf_counter() - started


def through_the_studio(content, style, settings, folder: Path) -> float:
    """As the server runs it: the job in the main thread (:class:`~neural_style.studio.jobs.MainThread`), the
    page's handler in another thread making each preview and encoding it as PNG, as Gradio does."""
    started = time.perf_counter()
    main = MainThread()
    job = handlers.stylize_job(content, [style], {}, settings, folder, run_on=main.submit)
    seen = {"previews": 0, "error": None}

    def page():
        for view in handlers.views(job, handlers.stylize_finish(folder), handlers.STYLIZE_TERMS):
            if view.preview is not None:
                Image.fromarray(view.preview).save(io.BytesIO(), format="PNG")
                seen["previews"] += 1
            seen["error"] = view.error
    watcher = threading.Thread(target=page)
    watcher.start()
    main.run_next()
    watcher.join()
    assert seen["error"] is None, seen["error"]
    through_the_studio.previews = seen["previews"]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=4)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    content, style, weights = inputs(folder)
    settings = StylizeSettings(size=args.size, iterations=args.iterations, scales="none", weights=str(weights),
                               device="cpu")
    direct(content, style, settings, folder)  # warm-up: weights read, caches filled
    times = {"direct": [], "studio": []}
    for _ in range(args.repeats):
        times["direct"].append(direct(content, style, settings, folder))
        times["studio"].append(through_the_studio(content, style, settings, folder))
    for name, values in times.items():
        print(f"{name}: " + ", ".join(f"{t:.2f} s" for t in values))
    ratio = statistics.median(times["studio"]) / statistics.median(times["direct"])
    print(f"previews per studio run: {through_the_studio.previews}; time ratio studio / direct (medians): "
          f"{ratio:.3f} (target <= 1.05)")


if __name__ == "__main__":
    main()
