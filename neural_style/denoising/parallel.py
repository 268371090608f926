"""Denoise the files of a batch in worker processes (``denoise --jobs N``), one thread each.

Each primal-dual iteration is a few dozen small tensor operations: on a few hundred thousand
pixels, threads inside one solve spend more time waiting for each other (and for a thread the
scheduler took away) than they save, while separate files are independent. So a batch runs
``jobs`` single-threaded processes, each solving whole files (README, "Speed", has the
measurements). On Linux the workers are forked from this process (:func:`_context`): they start
at once, with torch and the solver already imported, and set one thread before any work, so they
never enter an OpenMP parallel region the parent may have set up. Elsewhere they are spawned (fork
is unsafe on macOS) and import the package afresh.

Each worker runs :func:`~.files.denoise_one`; the parent collects the outcomes into the batch
(:mod:`.runner`), so this module does not import the runner.

Results come back in input order. On Ctrl-C, SIGTERM or SIGHUP in the parent, files not yet
started are cancelled, each worker busy with a file stops its solver and writes that file with
its best image so far (as the one-process batch does), and the files never started are listed
as unprocessed.
"""

import multiprocessing
import os
import signal
import sys
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

import torch

from ..io.batch import ITEM_ERRORS, failure_message
from ..settings import DenoiseSettings
from .files import denoise_one

#: In a worker process only: whether it is inside a file, and whether the parent asked it to stop.
_state = {"busy": False, "stop": False}


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def resolve_jobs(jobs, files: int) -> int:
    """``jobs`` as a number of processes: ``"auto"`` is one per available core, at most one per file."""
    count = available_cores() if jobs == "auto" else int(jobs)
    return max(1, min(count, files))


def _context():
    """``fork`` on Linux: the workers start at once with torch already imported; they run one thread,
    so they never enter an OpenMP parallel region the parent may have set up. Elsewhere ``spawn``
    (fork is unsafe on macOS)."""
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _worker_start() -> None:
    """In each worker: one thread; Ctrl-C is the parent's to handle (the terminal sends it to the
    whole process group); SIGTERM from the parent stops the file in progress, or the next one."""
    torch.set_num_threads(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_requested)


def _stop_requested(signum, frame) -> None:
    _state["stop"] = True
    if _state["busy"]:
        _state["busy"] = False  # one interruption per file: writing it is not interrupted again
        raise KeyboardInterrupt


def _solved() -> None:
    """The file's solver has finished: a stop asked from now on waits for the next file (its output is
    written, not cut short)."""
    _state["busy"] = False


def _work(index: int, path: Path, out: Path, settings: DenoiseSettings, reference: Optional[Path]):
    """One file in a worker: ("done", record), ("failed", message) or ("unprocessed", None)."""
    if _state["stop"]:
        return index, "unprocessed", None
    _state["busy"] = True
    try:
        return index, "done", denoise_one(path, out, settings, reference, None, solved=_solved)
    except ITEM_ERRORS as exc:  # as in one process (:func:`~neural_style.io.batch.run_batch`)
        return index, "failed", failure_message(path, exc)
    except KeyboardInterrupt:  # stopped before the solver started: nothing written
        return index, "unprocessed", None
    finally:
        _state["busy"] = False


#: (index in the batch, "done" | "failed" | "unprocessed", the record or the message).
Outcome = Tuple[int, str, Optional[object]]


def run_parallel(jobs: int, work: Sequence[Tuple[Path, Path, Optional[Path]]], settings: DenoiseSettings,
                 on_outcome: Callable[[Outcome], None]) -> bool:
    """Denoise ``work`` ((input, output, reference) triples) in ``jobs`` processes.

    ``on_outcome`` is called in input order with (index, kind, value) for every file: kind
    ``"done"`` (value: the record), ``"failed"`` (value: the one-line message naming the file) or
    ``"unprocessed"``. Returns whether the run was interrupted (KeyboardInterrupt or SIGTERM/SIGHUP
    in this process, after the workers have finished or stopped).
    """
    executor = ProcessPoolExecutor(max_workers=jobs, mp_context=_context(), initializer=_worker_start)
    futures: List[Future] = []
    emitted = 0

    def emit(outcome: Outcome) -> None:
        nonlocal emitted
        emitted = outcome[0] + 1
        on_outcome(outcome)

    try:
        futures = [executor.submit(_work, i, path, out, settings, ref) for i, (path, out, ref) in enumerate(work)]
        _collect(futures, emit, 0)
        return False
    except KeyboardInterrupt:  # Ctrl-C, or Terminated (SIGTERM, SIGHUP) in this process
        _stop_workers(executor, futures)
        _collect(futures, emit, emitted)
        return True
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _collect(futures: Sequence[Future], emit: Callable[[Outcome], None], start: int) -> None:
    """Wait for each future in input order from ``start``, passing its outcome on."""
    for index in range(start, len(futures)):
        try:
            outcome = futures[index].result()
        except (CancelledError, BrokenProcessPool):
            outcome = (index, "unprocessed", None)
        except Exception as exc:  # an unexpected error in a worker: that file failed, the others go on
            outcome = (index, "failed", f"internal error: {type(exc).__name__}: {exc}")
        emit(outcome)


def _stop_workers(executor: ProcessPoolExecutor, futures: Sequence[Future]) -> None:
    """Cancel the files not started and ask every worker to stop the one it is on."""
    for future in futures:
        future.cancel()
    for process in list(getattr(executor, "_processes", {}).values()):
        if process.is_alive():
            try:
                os.kill(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
