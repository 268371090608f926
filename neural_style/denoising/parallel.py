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

A worker that dies (the OOM killer's SIGKILL, a segfault) breaks the whole pool: the file it was on
(each worker says which file it begins) fails with a line naming the process and how it ended, and
the files whose results were lost with the pool are done again in new workers. The batch ends
``completed`` with that failure (exit 1), and its report lists what was written.
"""

import multiprocessing
import os
import signal
import sys
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch

from .. import signals
from ..errors import Message, setting
from ..io.batch import ITEM_ERRORS, failure_message
from ..io.locks import owned
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


def _worker_start(started) -> None:
    """In each worker: one thread; Ctrl-C is the parent's to handle (the terminal sends it to the
    whole process group); SIGTERM from the parent stops the file in progress, or the next one.
    ``started`` is the queue on which it says which file it begins (so that the parent can name the file
    a worker that died was on)."""
    torch.set_num_threads(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_requested)
    _state["started"] = started


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
    _state["started"].put((os.getpid(), index))
    try:
        with owned(out, "output"):  # while it is made: another run's same output is refused
            _state["busy"] = True  # from here a stop interrupts the file (its lock is released on the way out)
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
    ``"unprocessed"``. A worker that dies (the OOM killer, a segfault) fails the file it was on, with a
    message naming the process and how it ended; the files whose results died with the pool are done
    again in new workers. Returns whether the run was interrupted (KeyboardInterrupt or SIGTERM/SIGHUP
    in this process, after the workers have finished or stopped).
    """
    outcomes: Dict[int, Outcome] = {}
    emitted = 0

    def settle(outcome: Outcome) -> None:  # passed on in input order, as soon as the ones before are
        nonlocal emitted
        if outcome[0] < emitted or outcome[0] in outcomes:  # known already (Ctrl-C collects every file again)
            return
        outcomes[outcome[0]] = outcome
        while emitted in outcomes:
            emitted += 1  # first: a Ctrl-C from on_outcome itself must not pass it on twice
            with signals.deferred():  # a Ctrl-C arriving meanwhile: raised once the file is recorded
                on_outcome(outcomes.pop(emitted - 1))

    pending = list(range(len(work)))
    while pending:
        pool = None
        try:
            pool = _Pool(jobs, work, settings, pending)
            pending = pool.collect(settle)
        except KeyboardInterrupt:  # Ctrl-C, or Terminated (SIGTERM, SIGHUP) in this process
            if pool is not None:
                pool.stop(settle)
            for index in range(len(work)):  # what no worker reached
                settle((index, "unprocessed", None))
            return True
        finally:
            if pool is not None:
                pool.close()
    return False


class _Pool:
    """One round of workers over the files ``indices``; when one dies, what is left for the next round."""

    def __init__(self, jobs: int, work, settings: DenoiseSettings, indices: Sequence[int]):
        context = _context()
        self.started = context.SimpleQueue()
        self.executor = ProcessPoolExecutor(max_workers=min(jobs, len(indices)), mp_context=context,
                                            initializer=_worker_start, initargs=(self.started,))
        self.futures = {i: self.executor.submit(_work, i, work[i][0], work[i][1], settings, work[i][2])
                        for i in indices}
        self.processes = list(getattr(self.executor, "_processes", {}).values())
        self.work = work

    def collect(self, settle: Callable[[Outcome], None]) -> List[int]:
        """Pass on each file's outcome; returns the files to do again ([] unless a worker died)."""
        for index, future in self.futures.items():
            try:
                outcome = _outcome(index, future)
            except BrokenProcessPool:
                return self._after_death(settle)
            settle(outcome)
        return []

    def _after_death(self, settle: Callable[[Outcome], None]) -> List[int]:
        """A worker died: the file it was on fails, naming it; the files without a result go to new workers."""
        on = {}  # pid -> the file it began last
        while not self.started.empty():
            pid, index = self.started.get()
            on[pid] = index
        for process in self.processes:
            process.join(timeout=10)
        dead = [p for p in self.processes if p.exitcode not in (0, None, -signal.SIGTERM) and p.pid in on]
        for process in dead:
            index = on[process.pid]
            with owned(self.work[index][1], "output"):  # its lock and temporary, left by the dead worker: removed
                pass
            settle((index, "failed", Message(f"'{self.work[index][0]}': the worker process {process.pid} denoising "
                                             f"it {_how_it_ended(process.exitcode)}")))
        culprits = {on[p.pid] for p in dead}
        left = []
        for index, future in self.futures.items():
            if index in culprits:
                continue
            if future.done() and not future.cancelled() and future.exception() is None:
                settle(future.result())
            else:
                left.append(index)
        if not culprits:  # no worker's death is explained: do not loop
            for index in left:
                settle((index, "failed", f"'{self.work[index][0]}': the worker processes stopped unexpectedly"))
            return []
        return left

    def stop(self, settle: Callable[[Outcome], None]) -> None:
        """Ctrl-C: cancel the files not started, ask each worker to stop its file, pass on what they did."""
        _stop_workers(self.executor, list(self.futures.values()))
        for index, future in self.futures.items():
            try:
                outcome = _outcome(index, future)
            except BrokenProcessPool:
                outcome = (index, "unprocessed", None)
            settle(outcome)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


def _outcome(index: int, future: Future) -> Outcome:
    """A finished file's outcome: its worker's, ``"unprocessed"`` when cancelled, ``"failed"`` for an unexpected
    error in the worker (the others go on). BrokenProcessPool (a worker died) is the caller's to handle."""
    try:
        return future.result()
    except CancelledError:
        return index, "unprocessed", None
    except BrokenProcessPool:
        raise
    except Exception as exc:
        return index, "failed", f"internal error: {type(exc).__name__}: {exc}"


def _how_it_ended(exitcode: int) -> str:
    """``"was killed by SIGKILL (the OOM killer sends it when memory runs out): ..."``."""
    if exitcode < 0:
        name = signal.Signals(-exitcode).name if -exitcode in signal.valid_signals() else f"signal {-exitcode}"
        why = {"SIGKILL": f" (the OOM killer sends it when memory runs out: try fewer {setting('jobs')})",
               "SIGSEGV": " (a crash in native code)"}.get(name, "")
        return f"was killed by {name}{why}"
    return f"exited with code {exitcode}"


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
