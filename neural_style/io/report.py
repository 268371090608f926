"""``--report out.json``: what a run did, written atomically."""

import dataclasses
import json
import math
import platform
from pathlib import Path
from typing import Any, ClassVar, Dict, Optional, Union

import torch

from .. import __version__
from ..errors import NeuralStyleError
from .atomic import atomic_write


def size_record(shape) -> Dict[str, int]:
    """An image size in a report: ``{"width": W, "height": H}`` from ``shape`` (H, W): named, so that no
    reader has to know an order (messages write W x H, arrays hold H x W)."""
    height, width = (int(v) for v in shape)
    return {"width": width, "height": height}


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


@dataclasses.dataclass
class Report:
    """Base of each command's typed report: a dataclass whose fields are the report's fields, in order
    (docs/reports.md lists them; ``tests/io/test_report.py`` checks that the two agree). Subclasses set
    :attr:`command`; :meth:`to_dict` gives the JSON object, ``command`` first."""

    command: ClassVar[str] = ""

    def to_dict(self) -> Dict[str, Any]:
        """``{"command": ..., <field>: <value>, ...}`` (nested dataclasses as dicts)."""
        return {"command": self.command, **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)}}

    def write(self, path, *, kept: Optional[str] = None) -> Path:
        """:func:`write_report` of this report to ``path`` (``kept``: as there)."""
        return write_report(path, self, kept=kept)


def environment() -> Dict[str, str]:
    """Versions that explain a run's speed and results."""
    return {"neural_style": __version__, "torch": torch.__version__, "python": platform.python_version(),
            "platform": platform.platform()}


def write_report(path, data: Union[Report, Dict[str, Any]], *, kept: Optional[str] = None) -> Path:
    """Write ``data`` (a :class:`Report`, or its dict) plus the environment as indented JSON to ``path``,
    atomically.

    Args:
        kept: what the run wrote before its report (``"wrote out.png"``): when the report cannot be
            written, the error says it too, so that a user knows the work was kept.

    Raises:
        NeuralStyleError: the report could not be written (no space, permissions).
    """
    data = data.to_dict() if isinstance(data, Report) else data
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
