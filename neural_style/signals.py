"""Stopping cleanly: SIGTERM and SIGHUP handled as Ctrl-C, and OS errors as one line.

Batch schedulers, ``timeout``, container stops and closed terminals send SIGTERM or SIGHUP.
Inside :func:`interrupt_on_termination` they raise :class:`Terminated`, a
:class:`KeyboardInterrupt`, so every place that keeps work on Ctrl-C (the best image of
``stylize``, the finished files of ``denoise``, the checkpoint of ``train``) keeps it on those
signals too; the command then exits with 128 + the signal number, as a shell reports a process
killed by it. Imports nothing heavy.
"""

import contextlib
import errno
import signal
from typing import Iterator, Optional

from .errors import one_line

__all__ = ["Terminated", "interrupt_on_termination", "deferred", "received", "exit_code", "stop_word", "describe_os_error"]

#: The signals stopped like Ctrl-C (those that exist on this platform).
SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))
#: Exit code of Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED = 130

_received: list = []  # the signal numbers received inside interrupt_on_termination (a process fact)


class Terminated(KeyboardInterrupt):
    """Raised by SIGTERM or SIGHUP inside :func:`interrupt_on_termination`; ``signum`` is the signal."""

    def __init__(self, signum: int):
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


@contextlib.contextmanager
def _handled(signums, handler) -> Iterator[None]:
    """``handler`` for ``signums`` within the block, the previous handlers after it (outside the
    main thread, where handlers cannot be set, nothing changes)."""
    previous = {}
    try:
        for sig in signums:
            previous[sig] = signal.signal(sig, handler)
    except ValueError:  # not the main thread
        pass
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextlib.contextmanager
def interrupt_on_termination() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise :class:`Terminated` (outside the main thread,
    or where signals cannot be set, nothing changes)."""
    _received.clear()

    def handler(signum, frame):
        _received.append(signum)
        raise Terminated(signum)

    with _handled(SIGNALS, handler):
        yield


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP until the block ends (a file pair written together): a signal
    that arrives meanwhile is recorded and raised again when the block ends, where the restored
    handler acts on it (KeyboardInterrupt, :class:`Terminated`, or the default action). Outside the
    main thread nothing changes.

    Python runs signal handlers in the main thread whichever thread the OS delivered the signal
    to, so recording there is reliable (blocking with ``pthread_sigmask`` is not: torch's worker
    threads would still take the signal)."""
    held: list = []
    try:
        with _handled((signal.SIGINT,) + SIGNALS, lambda signum, frame: held.append(signum)):
            yield
    finally:  # also when the block failed: the signal is not lost
        if held:
            signal.raise_signal(held[0])  # as if it came now: the restored handler or default action


def received() -> Optional[int]:
    """The first SIGTERM or SIGHUP received in the current :func:`interrupt_on_termination` block, or None."""
    return _received[0] if _received else None


def exit_code(exc: Optional[BaseException] = None) -> int:
    """128 + the signal that stopped the run: the first one :func:`received` (a second signal while
    stopping does not change it), else ``exc``'s, else SIGINT (130)."""
    signum = received() or getattr(exc, "signum", None)
    return 128 + signum if signum else EXIT_INTERRUPTED


def stop_word(exc: Optional[BaseException] = None) -> str:
    """``"interrupted"`` (Ctrl-C) or ``"stopped by SIGTERM"``, for the same signal as :func:`exit_code`."""
    signum = received() or getattr(exc, "signum", None)
    return f"stopped by {signal.Signals(signum).name}" if signum else "interrupted"


_ADVICE = {
    errno.ENOSPC: "free some space or write elsewhere",
    errno.EDQUOT: "free some space or write elsewhere",
    errno.EACCES: "check its permissions or write elsewhere",
    errno.EPERM: "check its permissions or write elsewhere",
    errno.EROFS: "the file system is read-only: write elsewhere",
    errno.ENOENT: "check the path",
    errno.EISDIR: "give a file, not a folder",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
}


def describe_os_error(exc: OSError) -> str:
    """One line for an OS error: what failed, on which path, and what to do."""
    reason = one_line(exc, strerror=True)
    where = f" '{exc.filename}'" if exc.filename is not None else ""
    advice = _ADVICE.get(exc.errno)
    return f"cannot use{where}: {reason}" + (f" ({advice})" if advice else "")
