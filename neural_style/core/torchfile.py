"""Reading PyTorch files safely (``torch.load(weights_only=True)``), with one line for each way it fails.

VGG weights, model files and checkpoints are all read here, so that each failure is told the same
way whatever the file: unreadable (permissions), saved with pickle protocol 5 (which the safe
loader does not read), refused because it holds Python objects that could run code, not a PyTorch
file, or damaged.
"""

import pickle
import warnings
import zipfile
from pathlib import Path
from typing import Any, Type

import torch

from ..errors import InputError, one_line

_ZIP_MAGIC = b"PK\x03\x04"  # torch.save's archives are zip files


def load_torch_file(path, label: str, advice: str, *, error: Type[Exception] = InputError) -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU; every failure one line naming the file.

    Args:
        path: the file (checked to exist by the caller, which knows what to advise).
        label: how messages name it, e.g. ``"model file 'm.pth'"``.
        advice: what to do about a file that is not what was asked for, e.g. ``"pass a file
            written by `neural-style train`"``.
        error: the exception class raised (:class:`~neural_style.errors.InputError` or a subclass).

    Returns:
        What the file holds (tensors, dicts, lists, numbers, strings).

    Raises:
        ``error``: the file cannot be read (OS error), was saved with pickle protocol 5, holds
        Python objects beyond tensors and containers (``weights_only=True`` refuses them: they could
        run code), is not a PyTorch file, or is damaged or truncated.
    """
    path = Path(path)
    try:
        with open(path, "rb") as stream:
            head = stream.read(4)
    except OSError as exc:
        reason = "permission denied" if isinstance(exc, PermissionError) else one_line(exc, strerror=True)
        raise error(f"{label} cannot be read ({reason}): check the file and its permissions") from exc
    try:
        with warnings.catch_warnings():  # torch's pickle-protocol notice: our own line says it
            warnings.filterwarnings("ignore", message=".*pickle protocol")
            return torch.load(path, map_location="cpu", weights_only=True)
    except PermissionError as exc:  # lost between the check above and the load
        raise error(f"{label} cannot be read (permission denied): check the file and its permissions") from exc
    except pickle.UnpicklingError as exc:
        torch_file = zipfile.is_zipfile(path)
        if "Unsupported operand" in str(exc) and torch_file:  # torch's safe loader stops at protocol 5's opcodes
            raise error(f"{label} was saved with pickle protocol 5, which torch's safe loader (weights_only=True) "
                        "does not read: save it again with torch.save at its default protocol") from exc
        if torch_file or "Unsupported global" in str(exc):
            raise error(f"{label} refused: it holds Python objects that could run code when loaded, so it cannot "
                        f"be loaded safely (weights_only=True): {advice}") from exc
        raise error(f"{label} is not a PyTorch file (or is corrupt): {advice}") from exc
    except Exception as exc:  # RuntimeError, OSError, EOFError... from a damaged, truncated or foreign file
        if head == _ZIP_MAGIC:  # a torch archive, cut short or damaged
            reason = one_line(exc, 100, words=True)
            raise error(f"{label} is corrupt or truncated (torch.load: {reason}): download or copy it again, "
                        f"or {advice}") from exc
        raise error(f"{label} is not a PyTorch file (or is corrupt): {advice}") from exc
