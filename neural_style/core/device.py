"""Devices and precision: the torch device from a user's ``--device``, the autocast dtype
from ``--precision``, the memory a device has free, and out-of-memory errors as one line."""

import contextlib
import math
import os
import re
import sys
import time
import warnings
from typing import Iterator, Optional

import torch

from ..errors import InputError, Message, NeuralStyleError, ResourceError, format_bytes, setting
from .cgroup import cgroup_available
from .choices import PRECISIONS

_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def resolve_device(name: str = "auto"):
    """``auto`` (CUDA, then MPS, then CPU), ``cpu``, ``cuda``, ``cuda:N`` or ``mps`` as a torch.device.

    Raises:
        InputError: an unknown name, or a device this machine does not have.
    """
    name = str(name).strip().lower()
    if not _PATTERN.match(name):
        raise InputError(f"unknown device {name!r}: expected auto, cpu, cuda, cuda:N or mps")
    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps and mps.is_available())
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "mps" if has_mps else "cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise InputError(f"device {name!r} asked for, but CUDA is not available here: use {setting('device')} cpu "
                             "or auto")
        index = int(name.split(":")[1]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise InputError(f"device {name!r} asked for, but this machine has "
                             f"{torch.cuda.device_count()} CUDA device(s): use cuda:0 .. cuda:"
                             f"{torch.cuda.device_count() - 1}")
    if name == "mps" and not has_mps:
        raise InputError(f"device 'mps' asked for, but MPS is not available here: use {setting('device')} cpu or auto")
    return torch.device(name)


_MEMINFO = "/proc/meminfo"


def _meminfo_available() -> Optional[int]:
    """``MemAvailable`` of /proc/meminfo in bytes (free RAM plus what the kernel can reclaim,
    such as the page cache), or None where there is no such file or line."""
    try:
        with open(_MEMINFO, encoding="ascii", errors="ignore") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    value, *unit = line.split(":", 1)[1].split()
                    return int(value) * (1024 if unit and unit[0].lower() == "kb" else 1)
    except (OSError, ValueError):
        pass
    return None


def available_memory(device) -> int:
    """Bytes that work on ``device`` may use: free GPU memory, or available RAM (``MemAvailable``, else the
    free pages, else unknown: a huge number, so nothing is refused), and never more than the process's
    memory cgroup still allows (a container's limit: :func:`~neural_style.core.cgroup.cgroup_available`)."""

    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return free
    available = _meminfo_available()
    if available is None:
        try:
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            available = 1 << 62  # unknown: don't refuse
    limited = cgroup_available()
    return available if limited is None else min(available, limited)




#: The share of the free memory a run plans to use (the rest for the runtime and other programs).
HEADROOM = 0.9


def require_memory(need: int, device, what: str, advice: str) -> None:
    """Raise unless ``need`` bytes fit in :data:`HEADROOM` of :func:`available_memory`.

    Args:
        need: bytes the work will allocate.
        device: the torch device it runs on.
        what: the work, for the message (``"4096x3072 px"``).
        advice: what the user can change (``f"use a smaller {setting('size')}"``).

    Raises:
        ResourceError: one line naming the need, what is free, and ``advice``.
    """
    have = available_memory(device)
    if need > have * HEADROOM:
        raise ResourceError(f"{what} needs about {format_bytes(need)} on {device} but {format_bytes(have)} are free: "
                            f"{advice}")


def _cpu_has_native_bf16() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as f:
            flags = next((line for line in f if line.startswith("flags")), "")
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


#: The name of each autocast dtype :func:`resolve_precision` gives (None: float32), as reports write it.
PRECISION_NAMES = {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}


def resolve_precision(precision: str, device):
    """The autocast dtype for ``precision`` on ``device``, or None for float32.

    ``auto`` is bfloat16 only on CPUs that compute it natively (AVX512-BF16 or AMX): in
    benchmarks/stylize_vs_tutorial.py it is ~1.5x faster than float32 on such a CPU and
    reaches the same loss. On CUDA and MPS ``auto`` is float32, as bfloat16 has not been
    measured on a GPU yet; ask for ``bf16`` explicitly there (CUDA: compute capability 8.0
    or newer, Ampere on).

    Raises:
        InputError: an unknown precision, ``fp16`` on the CPU, or ``bf16`` on a CUDA GPU
            older than compute capability 8.0.
    """
    if precision not in PRECISIONS:
        raise InputError(f"unknown precision {precision!r}: expected one of {', '.join(PRECISIONS)}")
    if precision == "auto":
        precision = "bf16" if device.type == "cpu" and _cpu_has_native_bf16() else "fp32"
    if precision == "bf16" and device.type == "cuda":
        major, minor = torch.cuda.get_device_capability(device)
        if major < 8:
            raise InputError(f"precision bf16 needs a CUDA GPU of compute capability 8.0 or newer, "
                             f"{device} has {major}.{minor}: use fp16 or fp32")
    if precision == "fp16" and device.type == "cpu":
        raise InputError("precision fp16 is for GPUs: use bf16 or fp32 on the CPU")
    if precision == "bf16" and device.type == "cpu" and not _cpu_has_native_bf16():
        precision_ = setting("precision")
        warnings.warn(Message(f"{precision_} bf16 on a CPU without native bf16 (AVX512-BF16 or AMX) is emulated and "
                              f"can be several times slower than fp32: use {precision_} auto or fp32"), UserWarning,
                      stacklevel=2)
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


@contextlib.contextmanager
def out_of_memory_errors(where: str, advice: str = f"use a smaller {setting('size')}") -> Iterator[None]:
    """Turn the allocators' out-of-memory errors in the block into a one-line NeuralStyleError
    (``out of GPU memory at <where>: <advice> or device cpu``; ``out of memory at ...`` on the
    CPU), keeping the original as its cause. Other errors pass through unchanged."""
    try:
        yield
    except torch.cuda.OutOfMemoryError as exc:
        raise NeuralStyleError(f"out of GPU memory at {where}: {advice} or {setting('device')} cpu") from exc
    except RuntimeError as exc:  # the CPU allocator's (and other backends') out-of-memory errors
        text = str(exc).lower()
        if "out of memory" in text or "can't allocate memory" in text:
            raise NeuralStyleError(f"out of memory at {where}: {advice}") from exc
        raise


def peak_memory(device) -> Optional[int]:
    """Peak memory of this process in bytes: allocated on a CUDA device, else the peak resident
    set size (``ru_maxrss``, Linux and macOS); None where the platform does not tell."""
    device = torch.device(device)
    if device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(device))
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def other_load(samples: int = 5, interval: float = 0.01) -> float:
    """How many threads of other processes are runnable now: the mean over a few samples of the
    kernel's count of runnable threads (``/proc/loadavg``'s 4th field) less this process's own
    (``/proc/self/task/*/stat`` in state R: torch's threads spin for a while after each operation);
    where that is not available, the 1-minute load average minus 1 (which lags: it still counts a
    run that ended a minute ago); 0 where the OS says neither."""
    try:
        others = []
        for index in range(samples):
            with open("/proc/loadavg") as stream:
                running = int(stream.read().split()[3].split("/")[0])
            others.append(running - _own_running())
            if index + 1 < samples:
                time.sleep(interval)
        return max(0.0, sum(others) / len(others))
    except (OSError, ValueError, IndexError):
        pass
    try:
        return max(0.0, os.getloadavg()[0] - 1.0)
    except (AttributeError, OSError):  # Windows
        return 0.0


def _own_running() -> int:
    """This process's threads in state R (running or runnable); at least 1, the one asking."""
    count = 0
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/stat") as stream:
                count += stream.read().rsplit(")", 1)[1].split()[0] == "R"
        except OSError:  # the thread ended meanwhile
            continue
    return max(1, count)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def shared_cpu() -> Iterator[int]:
    """Within the block, torch's intra-op threads are the cores left by other work (:func:`other_load`,
    rounded; at least 1, at most torch's own number), unless ``OMP_NUM_THREADS`` says how many to
    use; yields the number. With other work on the cores, torch's threads wait for each other
    (measured: docs/measurements.md, "Speed on a busy machine")."""
    previous = torch.get_num_threads()
    if os.environ.get("OMP_NUM_THREADS"):
        yield previous
        return
    count = max(1, min(previous, _cores() - math.floor(other_load() + 0.5)))
    with cpu_threads(count):
        yield count


@contextlib.contextmanager
def cpu_threads(count: int) -> Iterator[None]:
    """Run the block with ``count`` intra-op CPU threads (``torch.set_num_threads``), then restore
    the previous number. A count at or above the current one changes nothing."""
    previous = torch.get_num_threads()
    if count >= previous:
        yield
        return
    torch.set_num_threads(max(1, count))
    try:
        yield
    finally:
        torch.set_num_threads(previous)
