"""How long a batch command plans before any work: ``plan_batch`` (what ``denoise`` and ``transfer`` do
with their inputs: list them, name each output, check each output path against every input) on folders of
empty files, against the bare listing of the same folder (``folder_files``) measured in the same run.

    python benchmarks/batch_planning.py                  # 1000, 2000, 10000 files

Issue 27's target: 10000 files planned in under 2 s (before: 1000 files 43 s, 2000 files 201 s: each
output was compared with every input by resolving both paths).
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from neural_style.io.inputs import folder_files, plan_batch  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", default="1000,2000,10000")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for count in map(int, args.counts.split(",")):
            folder = Path(tmp) / f"in{count}"
            folder.mkdir()
            for index in range(count):
                (folder / f"img{index:06d}.png").touch()
            started = time.perf_counter()
            listed = folder_files(folder, (".png",))
            listing = time.perf_counter() - started
            started = time.perf_counter()
            pairs = plan_batch([folder], str(Path(tmp) / f"out{count}") + "/", (".png",), lambda src: (".png",))
            planning = time.perf_counter() - started
            assert len(pairs) == len(listed) == count
            print(f"{count:6d} files: planning {planning:6.2f} s, listing {listing:6.3f} s, "
                  f"planning / listing {planning / listing:6.1f}x", flush=True)


if __name__ == "__main__":
    main()
