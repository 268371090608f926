"""Why a run ended: the one vocabulary of every loop, batch and report.

:class:`StopReason` is a ``str`` enum, so a reason compares equal to its word
(``StopReason.INTERRUPTED == "interrupted"``) and a report writes it as that word.
Imports nothing heavy.
"""

from enum import Enum

__all__ = ["StopReason", "STOPPED_EARLY"]


class StopReason(str, Enum):
    """Why an optimisation, a training or a batch stopped.

    Attributes:
        COMPLETED: it ran its iteration limit (or every item of a batch).
        CONVERGED: the relative change per iteration fell below the tolerance.
        INTERRUPTED: Ctrl-C, SIGTERM or SIGHUP; the best result so far was kept.
        NON_FINITE: the loss became NaN or infinite; the best finite result was kept.
        CHECKPOINT_FAILED: a training's checkpoint could not be written (no space, permissions); the
            model of the last step was written.
    """

    COMPLETED = "completed"
    CONVERGED = "converged"
    INTERRUPTED = "interrupted"
    NON_FINITE = "non-finite"
    CHECKPOINT_FAILED = "checkpoint-failed"

    def __str__(self) -> str:
        return self.value


#: The reasons a run stopped before its end, keeping its best result so far (a word from an older
#: record, ``"interrupted"``, is found in it too: the enum's values hash as their words).
STOPPED_EARLY = frozenset({StopReason.INTERRUPTED, StopReason.NON_FINITE})
