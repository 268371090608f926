"""Training under ``torchrun``: joining and leaving the process group.

``torchrun`` starts one process per device and sets ``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``,
``MASTER_ADDR`` and ``MASTER_PORT`` in each one's environment; when they describe a world of more than
one process (:func:`~neural_style.fast.launch.launch_environment`, which refuses an incomplete or
malformed set), :func:`process_group` joins the group (NCCL on GPUs, gloo on CPUs) for the length of a
training run. The processes meet at ``MASTER_ADDR:MASTER_PORT`` within :data:`RENDEZVOUS_SECONDS`;
peers that never come are one line, not a wait without end. Without a launch it is one process of
rank 0. (The command line ends a torchrun worker with ``os._exit``: :func:`neural_style.cli.main`.)
"""

import contextlib
import os
import threading
from datetime import timedelta
from typing import Iterator, Tuple

import torch
import torch.distributed as dist
from torch.distributed.constants import default_pg_timeout

from ..errors import NeuralStyleError
from .launch import launch_environment

#: How long the processes of a launch wait for one another to meet (``NEURAL_STYLE_RENDEZVOUS_SECONDS``).
RENDEZVOUS_SECONDS = 120

__all__ = ["process_group"]


@contextlib.contextmanager
def process_group(device: torch.device) -> Iterator[Tuple[torch.device, int, int]]:
    """(device, rank, world size) of this process for the block.

    Under torchrun (``WORLD_SIZE`` > 1), joins the process group on entry (a CUDA ``device`` becomes
    ``cuda:LOCAL_RANK``, made the current device) and, when the block ends, waits for the other
    processes before leaving the group, so that none exits while another still works; after a
    failure or an interrupt, leaves at once (the others may be stopped or gone). Otherwise yields
    ``device`` with rank 0 and a world size of 1, and does nothing.

    Args:
        device: the resolved device of the run (:func:`neural_style.core.device.resolve_device`).

    Raises:
        InputError: an incomplete or malformed launch environment (:func:`~.launch.launch_environment`).
        NeuralStyleError: the other processes did not meet within :data:`RENDEZVOUS_SECONDS`.
    """
    launch = launch_environment()
    if launch is None:
        yield device, 0, 1
        return
    rank, world_size = launch.rank, launch.world_size
    if device.type == "cuda":
        device = torch.device("cuda", launch.local_rank)
        torch.cuda.set_device(device)
    _join(launch, "nccl" if device.type == "cuda" else "gloo")
    try:
        yield device, rank, world_size
    except BaseException:  # the others may be stopped or gone: no barrier
        dist.destroy_process_group()
        raise
    dist.barrier()  # all leave together, once rank 0 has written the model: none exits while another still works
    dist.destroy_process_group()


def _join(launch, backend: str) -> None:
    """Meet the other processes (torch's ``env://`` rendezvous, given at most the rendezvous time; under
    torchrun, at its agent's store), then form the process group, whose operations keep torch's own
    timeout."""
    from torch.distributed.rendezvous import rendezvous  # torch's own: it knows torchrun's agent store

    seconds = int(os.environ.get("NEURAL_STYLE_RENDEZVOUS_SECONDS", RENDEZVOUS_SECONDS))
    try:
        store, rank, world_size = _interruptible(lambda: next(rendezvous("env://", timeout=timedelta(seconds=seconds))))
        store.set_timeout(default_pg_timeout)
        dist.init_process_group(backend, store=store, rank=rank, world_size=world_size)
    except (RuntimeError, OSError, ValueError) as exc:  # DistStoreError, DistNetworkError: RuntimeErrors
        raise NeuralStyleError(f"the {launch.world_size} training processes did not meet at {launch.master} within "
                               f"{seconds} s (this is rank {launch.rank}): start all of them with torchrun, or unset "
                               "WORLD_SIZE if this is one process") from exc


def _interruptible(wait):
    """``wait()`` in a thread, this thread waiting on it in short joins: a wait inside torch's C++ code
    holds off Python's signal handlers until it returns, so Ctrl-C and SIGTERM would act only when the
    rendezvous gave up; here they stop the run at once (the thread is a daemon, gone with the process)."""
    box = {}

    def run():
        try:
            box["value"] = wait()
        except BaseException as exc:  # passed to the waiting thread
            box["error"] = exc

    thread = threading.Thread(target=run, name="rendezvous", daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(0.2)
    if "error" in box:
        raise box["error"]
    return box["value"]
