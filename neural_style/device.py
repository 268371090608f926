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


PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def _cpu_has_native_bf16() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as f:
            flags = next((line for line in f if line.startswith("flags")), "")
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def resolve_precision(precision: str, device):
    """The autocast dtype for ``precision`` on ``device``, or None for float32.

    ``auto`` is bfloat16 where the hardware computes it natively (CPUs with AVX512-BF16
    or AMX, CUDA GPUs that support it): in benchmarks/stylize_vs_tutorial.py it is ~1.5x
    faster than float32 on such a CPU and reaches the same loss. Elsewhere float32.
    """
    import torch

    if precision not in PRECISIONS:
        raise InputError(f"unknown precision {precision!r}: expected one of {', '.join(PRECISIONS)}")
    if precision == "auto":
        native = (torch.cuda.is_bf16_supported() if device.type == "cuda"
                  else device.type == "cpu" and _cpu_has_native_bf16())
        precision = "bf16" if native else "fp32"
    if precision == "fp16" and device.type == "cpu":
        raise InputError("precision fp16 is for GPUs: use bf16 or fp32 on the CPU")
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
