"""Lines shared by the commands' summaries: counts and the last line of a batch that did not complete."""

import sys

from .. import signals
from .app import echo


def count(number: int, noun: str) -> str:
    """``"1 image"``, ``"3 images"``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def progress_bar(total: int = 0, *, label: str = "", quiet: bool = False, unit: str = "it", limit: bool = False):
    """The command's :class:`~neural_style.io.progress.ProgressBar`: nothing under ``--quiet``, a bar on a
    terminal, plain lines every ``--log-every`` items (about every 10 s by default) elsewhere; ``limit``: the
    total is a limit the work may stop short of (the ETA an upper bound)."""
    import click

    from ..io.progress import ProgressBar
    context = click.get_current_context(silent=True)
    log_every = context.meta.get("log_every") if context is not None else None
    return ProgressBar(total, label=label, enabled=not quiet, log_every=log_every, unit=unit, limit=limit)


def clear_bar(bar) -> None:
    """Clear a drawn progress bar's line, so that a line printed next replaces it (the bar redraws below)."""
    if bar.drawn:
        bar.stream.write("\r\x1b[K")


def batch_outcome(batch, report) -> None:
    """The last line of a batch (a :class:`~neural_style.io.batch.BatchResult`) that did not complete, and
    its exit code (failures were named as they came)."""
    written, failed, unprocessed = len(batch.records), batch.failures, batch.unprocessed
    total = written + len(failed) + len(unprocessed)
    interrupted = batch.interrupted
    listed = f" (listed in {report})" if report else ""
    if interrupted and not unprocessed:  # the last file was being denoised: written with its best so far
        echo(f"{signals.stop_word()}: wrote {written} of {count(total, 'file')} (the last with its best image so far)"
             f"{listed}")
        sys.exit(signals.exit_code())
    if unprocessed:
        names = ", ".join(unprocessed[:3]) + (f" and {len(unprocessed) - 3} more" if len(unprocessed) > 3 else "")
        echo(f"{signals.stop_word()}: wrote {written} of {count(total, 'file')}; not processed: {names}{listed}")
        sys.exit(signals.exit_code())
    if failed:
        where = f"named above; listed in {report}" if report else "named above"
        echo(f"error: {len(failed)} of {count(total, 'file')} failed ({where}); wrote the other {written}")
        sys.exit(1)
