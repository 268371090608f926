"""Choosing the torch device from a user's ``--device`` value."""

import re

from .errors import InputError

_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def resolve_device(name: str = "auto"):
    """``auto`` (CUDA, then MPS, then CPU), ``cpu``, ``cuda``, ``cuda:N`` or ``mps`` as a torch.device.

    Raises:
        InputError: an unknown name, or a device this machine does not have.
    """
    import torch

    name = str(name).strip().lower()
    if not _PATTERN.match(name):
        raise InputError(f"unknown device {name!r}: expected auto, cpu, cuda, cuda:N or mps")
    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps and mps.is_available())
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "mps" if has_mps else "cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise InputError(f"device {name!r} asked for, but CUDA is not available here: use --device cpu or auto")
        index = int(name.split(":")[1]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise InputError(f"device {name!r} asked for, but this machine has "
                             f"{torch.cuda.device_count()} CUDA device(s): use cuda:0 .. cuda:"
                             f"{torch.cuda.device_count() - 1}")
    if name == "mps" and not has_mps:
        raise InputError("device 'mps' asked for, but MPS is not available here: use --device cpu or auto")
    return torch.device(name)


def available_memory(device) -> int:
    """Bytes that work on ``device`` may use: free GPU memory, or available RAM."""
    import os

    import torch

    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return free
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 1 << 62  # unknown: don't refuse
