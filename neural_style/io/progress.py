"""A one-line terminal progress bar, fed by the optimisation callbacks (no click, no tqdm)."""

import sys
import time
from typing import Dict, Optional, TextIO


def format_duration(seconds: float) -> str:
    seconds = int(round(max(seconds, 0)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class ProgressBar:
    """``  120/500 [######-----------] content 1.2e+00 style 3.4e-01 tv 5.6e-03  2.1 it/s  ETA 3:01``.

    Draws only when ``enabled`` and ``stream`` is a terminal, at most ``rate`` times a second.
    The clock starts at the first :meth:`update`, so the speed and the ETA leave out whatever
    came before it (loading the model, preparing the images): they count the items done
    since that first update over the time since then.
    """

    def __init__(self, total: int, *, label: str = "", stream: Optional[TextIO] = None,
                 enabled: bool = True, width: int = 20, rate: float = 10.0):
        self.total, self.label, self.width = total, label, width
        self.stream = stream or sys.stderr
        self.enabled = enabled and bool(getattr(self.stream, "isatty", lambda: False)())
        self.min_interval = 1.0 / rate
        self.start: Optional[float] = None  # time and count of the first update
        self.start_done = 0
        self.last_draw: Optional[float] = None
        self.drawn = False

    def update(self, done: int, values: Optional[Dict[str, float]] = None, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if self.start is None:
            self.start, self.start_done = now, done
        if (not force and self.last_draw is not None and now - self.last_draw < self.min_interval
                and done < self.total):
            return
        self.last_draw = now
        elapsed, counted = now - self.start, done - self.start_done
        fill = int(self.width * done / max(self.total, 1))
        if elapsed > 0 and counted > 0:
            rate = counted / elapsed
            speed = f"{rate:.2f} it/s  ETA {format_duration((self.total - done) / rate)}"
        else:
            speed = "-.-- it/s  ETA -:--"  # not measured yet
        terms = " ".join(f"{k} {v:.3g}" for k, v in (values or {}).items())
        line = (f"{self.label}{done:>{len(str(self.total))}}/{self.total} "
                f"[{'#' * fill}{'-' * (self.width - fill)}] {terms}  {speed}")
        self.stream.write("\r" + line + "\x1b[K")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False
