"""One run of a runner in a worker thread, which the page watches and can stop.

The runner reports through its step callback (:class:`~neural_style.core.optimize.Step`); the job keeps
the latest step and the loss history, and its :meth:`Job.watch` yields them at most every ``every``
seconds while the run goes on. :meth:`Job.stop` makes the next step raise KeyboardInterrupt inside the
runner, which keeps the best result so far as Ctrl-C does on the command line.
"""

import queue
import signal
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

from .. import signals
from ..errors import NeuralStyleError, one_line, spelled


@dataclass
class Snapshot:
    """What a job has done so far.

    Attributes:
        step: the latest step reported (any object the runner's callback gets), or None before the first.
        history: one dict of losses per step (``"iteration"`` and the runner's loss names).
        seconds: since the job started.
        done: whether the run has ended (then ``result`` or ``error`` is set).
        result: what the runner returned.
        error: the one-line message of the error that ended it (settings spelled by the page's labels).
        notes: the warnings the run gave, one line each.
        stopped: whether :meth:`Job.stop` was asked.
    """

    step: Any = None
    history: List[Dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0
    done: bool = False
    result: Any = None
    error: Optional[str] = None
    notes: List[str] = field(default_factory=list)
    stopped: bool = False


class Job:
    """``work(callback)`` in a worker thread.

    Args:
        work: the run; it calls ``callback(step)`` after each step and returns its result.
        losses: turns a step into the dict of losses kept in the history (None: none kept).
        spell: how a setting named in a message is written (the page's label for it).
    """

    def __init__(self, work: Callable[[Callable[[Any], None]], Any], *,
                 losses: Optional[Callable[[Any], Dict[str, float]]] = None,
                 spell: Optional[Callable[[str], str]] = None):
        self._work, self._losses, self._spell = work, losses, spell
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._snapshot = Snapshot()
        self._started = 0.0
        self._ended = threading.Event()

    def start(self, run_on: Optional[Callable[[Callable[[], None]], None]] = None) -> "Job":
        """Start the run: in a new thread, or handed to ``run_on`` (:meth:`MainThread.submit`)."""
        self._started = time.perf_counter()
        if run_on is None:
            threading.Thread(target=self._run, name="neural-style studio job", daemon=True).start()
        else:
            run_on(self._run)
        return self

    def stop(self) -> None:
        """Stop at the next step, keeping the best result so far (as Ctrl-C)."""
        self._snapshot.stopped = True
        self._stop.set()

    def join(self, timeout: Optional[float] = None) -> bool:
        """Wait until the run has ended (at most ``timeout`` seconds); whether it has."""
        return self._ended.wait(timeout)

    def watch(self, every: float = 0.5) -> Iterator[Snapshot]:
        """The job's state at most every ``every`` seconds while it runs (only when a step came since the
        last), then once when it has ended."""
        last = None
        while True:
            with self._changed:
                self._changed.wait_for(lambda last=last: self._snapshot.done or self._snapshot.step is not last,
                                       timeout=every)
                snap = self._snapshot
            if snap.done:
                yield snap
                return
            if snap.step is not last:
                last = snap.step
                snap.seconds = time.perf_counter() - self._started
                yield snap
                time.sleep(max(0.0, every - 0.01))  # at most every `every` seconds

    def _callback(self, step) -> None:
        with self._changed:
            self._snapshot.step = step
            if self._losses is not None:
                self._snapshot.history.append(self._losses(step))
            self._changed.notify_all()
        if self._stop.is_set():
            raise KeyboardInterrupt  # the runner keeps the best result so far

    def _run(self) -> None:
        snap = self._snapshot
        try:
            with warnings.catch_warnings(record=True) as caught:  # one job runs at a time (the page's queue)
                warnings.simplefilter("always")
                snap.result = self._work(self._callback)
            snap.notes = list(dict.fromkeys(spelled(w.message, self._spell) for w in caught if _ours(w)))
        except KeyboardInterrupt:
            snap.error = "stopped before the first step: nothing was made"
        except NeuralStyleError as exc:
            snap.error = spelled(exc, self._spell)
        except MemoryError:
            snap.error = "out of memory: use a smaller size"
        except Exception as exc:  # a bug: one line in the page, never a traceback
            snap.error = f"internal error: {one_line(exc, 200)}"
        finally:
            with self._changed:
                snap.seconds = time.perf_counter() - self._started
                snap.done = True
                self._changed.notify_all()
            self._ended.set()


def _ours(warning: warnings.WarningMessage) -> bool:
    """A warning neural-style gave the user (not a library's resource or deprecation warning)."""
    return issubclass(warning.category, UserWarning) and "neural_style" in Path(warning.filename).parts


class MainThread:
    """Runs the jobs handed to it, one at a time, in the thread that calls :meth:`serve`: the main thread,
    where Python delivers signals, so Ctrl-C, SIGTERM or SIGHUP reaches the running job as it does on the
    command line (it stops and keeps its result) and then ends :meth:`serve`.
    """

    def __init__(self):
        self._queue: "queue.Queue[Callable[[], None]]" = queue.Queue()
        self._signalled: List[int] = []

    def submit(self, run: Callable[[], None]) -> None:
        """Run ``run`` in the serving thread, after the jobs before it."""
        self._queue.put(run)

    def run_next(self, timeout: Optional[float] = None) -> bool:
        """Run the next job handed over (waiting at most ``timeout`` seconds for one); whether one ran."""
        try:
            run = self._queue.get(timeout=timeout)
        except queue.Empty:
            return False
        run()
        return True

    def serve(self) -> None:
        """Run the jobs as they come until a signal (returns then; KeyboardInterrupt outside a job too)."""
        def interrupted(signum, frame):
            self._signalled.append(signum)
            raise KeyboardInterrupt
        previous = signal.signal(signal.SIGINT, interrupted)
        try:
            while not self._signalled and not signals.received():
                self.run_next(timeout=0.2)  # a signal inside stops the job (it keeps its result); the loop then ends
        except KeyboardInterrupt:  # between jobs
            pass
        finally:
            signal.signal(signal.SIGINT, previous)
