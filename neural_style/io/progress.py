"""A one-line terminal progress bar, fed by the optimisation callbacks (no click, no tqdm)."""

import os
import sys
import time
from typing import Dict, Optional, TextIO


def format_duration(seconds: float) -> str:
    seconds = int(round(max(seconds, 0)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


#: Off a terminal, without ``log_every``: a progress line about this often (seconds).
LOG_SECONDS = 10.0


class ProgressBar:
    """``  120/500 [######-----------] content 1.2e+00 style 3.4e-01 tv 5.6e-03  2.1 it/s  ETA 3:01``.

    On a terminal it is redrawn in place, at most ``rate`` times a second. Elsewhere (a log file, nohup,
    CI, a cluster job) it prints plain lines, ``120/500 content 1.2 style 0.34 tv 0.0056  2.1 it/s  ETA
    3:01``, each time the count passes a multiple of ``log_every``, else about every :data:`LOG_SECONDS`
    (a run shorter than that prints none: its summary line says what it did). Nothing at all when not
    ``enabled`` (``--quiet``).
    The clock starts at the first :meth:`update`, so the speed and the ETA leave out whatever
    came before it (loading the model, preparing the images): they count the items done
    since that first update over the time since then. With ``limit`` the total is a limit the work may
    stop short of (a solver that stops when it converges): the ETA is printed as an upper bound, ``ETA <=
    3:01``.
    """

    def __init__(self, total: int, *, label: str = "", stream: Optional[TextIO] = None,
                 enabled: bool = True, width: int = 20, rate: float = 10.0, log_every: Optional[int] = None,
                 unit: str = "it", limit: bool = False):
        self.total, self.label, self.width, self.unit = total, label, width, unit
        self.limit = limit  # the total is a limit the work may stop short of: the ETA is an upper bound
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.terminal = bool(getattr(self.stream, "isatty", lambda: False)())
        self.min_interval = 1.0 / rate
        self.log_every = log_every
        self.start: Optional[float] = None  # time and count of the first update
        self.start_done = 0
        self.last_draw: Optional[float] = None
        self.last_logged: Optional[int] = None
        self.line_time: Optional[float] = None  # the first update, then each plain line (kept by restart)
        self.drawn = False

    def update(self, done: int, values: Optional[Dict[str, float]] = None, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if self.start is None:
            self.start, self.start_done = now, done
        if self.line_time is None:
            self.line_time = now
        if not (self._due(now, done) or (force and self.terminal)):
            return
        self.last_draw, self.last_logged = now, done
        elapsed, counted = now - self.start, done - self.start_done
        if elapsed > 0 and counted > 0:
            rate = counted / elapsed
            bound = "<= " if self.limit else ""
            speed = f"{rate:.2f} {self.unit}/s  ETA {bound}{format_duration((self.total - done) / rate)}"
        else:
            speed = f"-.-- {self.unit}/s  ETA -:--"  # not measured yet
        terms = " ".join(f"{k} {v:.3g}" for k, v in (values or {}).items())
        if self.terminal:  # the count padded: the bar stays in place
            fill = int(self.width * done / max(self.total, 1))
            self.drawn = self._write(f"\r{self.label}{done:>{len(str(self.total))}}/{self.total} "
                                     f"[{'#' * fill}{'-' * (self.width - fill)}] {terms}  {speed}\x1b[K")
        else:
            self._write(f"{self.label}{done}/{self.total} {terms}  {speed}\n")
            self.line_time = now

    def _write(self, text: str) -> bool:
        """Write and flush ``text``; a reader that went away (``2>&1 | head``: a broken pipe) turns the bar off
        instead of ending the work it reports on (:func:`write_text`). Whether it was written."""
        if write_text(self.stream, text):
            return True
        self.enabled, self.drawn = False, False
        return False

    def restart(self, total: int, label: Optional[str] = None, unit: Optional[str] = None) -> None:
        """Count anew (the next frame of a clip, the next file): ``total`` items (of ``unit``, when given),
        the speed and ETA measured from the next :meth:`update`. Off a terminal the clock of the plain lines
        runs on: work restarted more often than every :data:`LOG_SECONDS` still prints a line that often."""
        self.total, self.start, self.last_draw, self.last_logged = total, None, None, None
        self.label = self.label if label is None else label
        self.unit = self.unit if unit is None else unit

    def _due(self, now: float, done: int) -> bool:
        """Whether to draw (a terminal: the first, then at most ``rate`` a second, and the last) or print a
        line (a log: each ``log_every`` items, else each :data:`LOG_SECONDS`; a short run prints none, its
        summary says it all) for ``done`` now."""
        if self.terminal:
            if done >= self.total:
                return done != self.last_logged  # the last one, once
            return self.last_draw is None or now - self.last_draw >= self.min_interval
        if self.log_every is not None:
            last = 0 if self.last_logged is None else self.last_logged  # a count starts at 0: its first report counts
            return done // self.log_every > last // self.log_every
        return now - self.line_time >= LOG_SECONDS

    def close(self) -> None:
        if self.drawn:
            self._write("\n")
            self.drawn = False


def write_text(stream: TextIO, text: str) -> bool:
    """Write and flush ``text`` to ``stream``; whether it was written. A reader that went away (``| head``: a
    broken pipe) is not an error of the work: the stream's descriptor is pointed at the null device, so that
    neither a later write nor the interpreter's last flush fails (Python's docs, signal: "Note on SIGPIPE")."""
    try:
        stream.write(text)
        stream.flush()
        return True
    except BrokenPipeError:
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
        except (OSError, ValueError):  # a stream with no descriptor (a test's capture): nothing to flush later
            pass
        return False
