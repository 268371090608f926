"""A clip's frame folder: which run made its frames (``run.json``) and how far it got.

A rerun with the same clip, styles and settings continues where the folder stops; a folder of another
run is refused rather than mixed.
"""

import hashlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import List, Sequence

import torch

from ..errors import InputError, setting
from ..io.decode import read_image, to_tensor
from ..settings import StylizeSettings, VideoSettings

#: the run's identity in a frame folder (:func:`run_info`)
RUN_FILE = "run.json"
#: every finished frame's record in a frame folder
RECORDS_FILE = "frames.json"


def frame_path(folder: Path, index: int) -> Path:
    """The PNG of frame ``index`` (0-based) in a frame folder: ``000001.png`` for the first."""
    return folder / f"{index + 1:06d}.png"


def read_frame(folder: Path, index: int) -> torch.Tensor:
    """A finished frame as written, (1, 3, H, W) uint8."""
    return to_tensor(read_image(frame_path(folder, index), what="finished frame")).mul(255).round().to(torch.uint8)


def resume_point(folder: Path, run_info: dict) -> int:
    """How many frames ``folder`` already holds for this run (0 for a new or empty folder).

    Raises:
        InputError: the folder holds another run's frames (other settings or clip), or PNGs of no run.
    """
    if not folder.is_dir():
        return 0
    info = folder / RUN_FILE
    pngs = sorted(folder.glob("[0-9][0-9][0-9][0-9][0-9][0-9].png"))
    if not info.is_file():
        if pngs:
            raise InputError(f"'{folder}' holds numbered frames of no stylize run (no {RUN_FILE}): choose another "
                             "output, or move them away")
        return 0
    try:
        earlier = json.loads(info.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"'{info}' cannot be read ({exc}): remove the folder '{folder}' to start over") from exc
    changed = _differences(earlier, run_info)
    if changed and frame_path(folder, 0).is_file():  # a run that finished no frame holds nothing to keep
        raise InputError(f"'{folder}' holds frames of another run ({', '.join(changed[:4])}): run with the "
                         "same settings to continue it, or remove the folder to start over")
    done = 0
    while not changed and done < run_info["frames"] and frame_path(folder, done).is_file():
        done += 1
    return done


#: How a difference in a run record is named (the settings are named by their own names).
_WHAT = {"content": "another clip file", "styles": "other style images", "frames": "another number of frames",
         "size": "another frame size"}


def _differences(earlier: dict, now: dict) -> List[str]:
    """What differs between two run records, named: ``another clip file``, ``--iterations 3 -> 4``."""
    found = []
    for key in sorted(set(earlier) | set(now)):
        old, new = earlier.get(key), now.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            found += [f"{setting(k)} {old.get(k)} -> {new.get(k)}" for k in sorted(set(old) | set(new))
                      if old.get(k) != new.get(k)]
        else:
            found.append(_WHAT.get(key, key))
    return found


def earlier_records(folder: Path, done: int) -> List[dict]:
    """The records of the ``done`` frames an earlier run finished ([] when none or unreadable)."""
    try:
        records = json.loads((folder / RECORDS_FILE).read_text()) if done else []
    except (OSError, ValueError):
        return []
    return [r for r in records if isinstance(r, dict) and r.get("index", done) < done]


def run_info(content_sha256: str, frames: int, shape: Sequence[int], styles: Sequence[torch.Tensor],
             s: StylizeSettings, v: VideoSettings) -> dict:
    """What makes a run's frames: the clip file's and the styles' SHA-256 (the same file under another
    path resumes, another file under the same path does not), the number and (height, width) of the
    frames, and every setting that changes a frame (the part of the clip taken among them)."""
    settings = {k: _fingerprint(val) for k, val in asdict(s).items() if k not in ("device",)}
    style_hashes = [hashlib.sha256(style.numpy().tobytes()).hexdigest() for style in styles]
    return json.loads(json.dumps({"content": content_sha256, "styles": style_hashes, "frames": frames,
                                  "size": list(shape), "settings": settings, "video": asdict(v)},
                                 default=str))


def _fingerprint(value):
    """A setting as the run record holds it: tensors (masks read once) by the SHA-256 of their pixels."""
    if isinstance(value, torch.Tensor):
        return hashlib.sha256(value.contiguous().numpy().tobytes()).hexdigest()
    if isinstance(value, (list, tuple)):
        return [_fingerprint(v) for v in value]
    return value
