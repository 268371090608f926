"""Training under ``torchrun``: joining and leaving the process group.

``torchrun`` starts one process per device and sets ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK``
in each one's environment; with ``WORLD_SIZE`` > 1, :func:`process_group` joins the group
(NCCL on GPUs, gloo on CPUs) for the length of a training run. Without torchrun it is one
process of rank 0. (The command line ends a torchrun worker with ``os._exit``:
:func:`neural_style.cli.main`.)
"""

import contextlib
import os
from typing import Iterator, Tuple

import torch
import torch.distributed as dist

__all__ = ["process_group"]


@contextlib.contextmanager
def process_group(device: torch.device) -> Iterator[Tuple[torch.device, int, int]]:
    """(device, rank, world size) of this process for the block.

    Under torchrun (``WORLD_SIZE`` > 1), joins the process group on entry (a CUDA ``device`` becomes
    ``cuda:LOCAL_RANK``, made the current device) and, when the block ends, waits for the other
    processes before leaving the group, so that none exits while another still works; after a
    failure or an interrupt, leaves at once (the others may be stopped or gone). Otherwise yields
    ``device`` with ``RANK`` (0 when unset) and a world size of 1, and does nothing.

    Args:
        device: the resolved device of the run (:func:`neural_style.core.device.resolve_device`).
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world_size <= 1:
        yield device, rank, world_size
        return
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        yield device, rank, world_size
    except BaseException:  # the others may be stopped or gone: no barrier
        dist.destroy_process_group()
        raise
    dist.barrier()  # all leave together, once rank 0 has written the model: none exits while another still works
    dist.destroy_process_group()
