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
    """

    def __init__(self, total: int, *, label: str = "", stream: Optional[TextIO] = None,
                 enabled: bool = True, width: int = 20, rate: float = 10.0):
        self.total, self.label, self.width = total, label, width
        self.stream = stream or sys.stderr
        self.enabled = enabled and bool(getattr(self.stream, "isatty", lambda: False)())
        self.min_interval = 1.0 / rate
        self.start = time.perf_counter()
        self.last_draw = 0.0
        self.drawn = False

    def update(self, done: int, values: Optional[Dict[str, float]] = None, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self.last_draw < self.min_interval and done < self.total:
            return
        self.last_draw = now
        elapsed = now - self.start
        fill = int(self.width * done / max(self.total, 1))
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - done) / rate if rate > 0 else 0.0
        terms = " ".join(f"{k} {v:.3g}" for k, v in (values or {}).items())
        line = (f"{self.label}{done:>{len(str(self.total))}}/{self.total} "
                f"[{'#' * fill}{'-' * (self.width - fill)}] {terms}  {rate:.2f} it/s  ETA {format_duration(eta)}")
        self.stream.write("\r" + line + "\x1b[K")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False
