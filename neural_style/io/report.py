"""``--report out.json``: what a run did, written atomically."""

import json
import math
import platform
from pathlib import Path
from typing import Any, Dict, Optional

import torch

from .. import __version__
from ..errors import NeuralStyleError
from .atomic import atomic_write


def _clean(value: Any) -> Any:
    """JSON-safe values: NaN/inf become strings, tuples become lists, paths strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def environment() -> Dict[str, str]:
    """Versions that explain a run's speed and results."""
    return {"neural_style": __version__, "torch": torch.__version__, "python": platform.python_version(),
            "platform": platform.platform()}


def write_report(path, data: Dict[str, Any], *, kept: Optional[str] = None) -> Path:
    """Write ``data`` (plus the environment) as indented JSON to ``path``, atomically.

    Args:
        kept: what the run wrote before its report (``"wrote out.png"``): when the report cannot be
            written, the error says it too, so that a user knows the work was kept.

    Raises:
        NeuralStyleError: the report could not be written (no space, permissions).
    """
    text = json.dumps(_clean({**data, "environment": environment()}), indent=2, allow_nan=False,
                      default=lambda value: f"<{type(value).__name__}>")  # an image given as a PIL image, tensor...

    def write(tmp):
        Path(tmp).write_text(text + "\n", encoding="utf-8")

    try:
        return atomic_write(path, write)
    except NeuralStyleError as exc:
        if kept:
            raise NeuralStyleError(f"{exc}; {kept}") from exc
        raise
