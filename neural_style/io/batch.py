"""A batch of files: the result every batch command returns, and the loop that makes it.

Each item is an (input, output) pair, processed by a function that returns the item's record (a
dict with at least ``"input"`` and ``"output"``). A :class:`~neural_style.errors.NeuralStyleError`
or :class:`OSError` of one item becomes a failure record and the other items are still processed
(with one item, its error is the run's: raised); Ctrl-C or SIGTERM (a KeyboardInterrupt, see
:mod:`neural_style.signals`) stops the batch, and the items not finished are listed as
unprocessed. An item that stops itself (its record's ``stop_reason`` interrupted: its best so far
was written; or another reason the caller names, such as non-finite) stops the batch after it, for
that reason. Callbacks take ``(index from 1, record)`` and
``(index from 1, failure)``.

Work done elsewhere (worker processes) reports through the same :class:`BatchResult` methods, so
a record, a failure and an unprocessed item read the same whichever way they were made.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Collection, Dict, Iterable, List, Optional, Sequence, Tuple, TypeVar, Union

from ..core.stop import StopReason
from ..errors import Message, NeuralStyleError, setting, spelled
from .inputs import name_failure
from .locks import owned

#: (input, output) of one item.
Pair = Tuple[Any, Any]
#: ``(index from 1, record or failure)``.
ItemCallback = Callable[[int, Dict], None]
#: The errors of one item that leave the others to run.
ITEM_ERRORS = (NeuralStyleError, OSError)


@dataclass
class BatchResult:
    """What a batch did.

    Attributes:
        records: one dict per item written, in input order (``"input"``, ``"output"`` and what the
            command records).
        failures: ``{"input", "output", "error"}`` for each item that could not be processed (the
            others were still processed); ``error`` is one line naming the file
            (a :class:`~neural_style.errors.Message`).
        unprocessed: inputs not reached because the run was interrupted (Ctrl-C, SIGTERM).
        stop_reason: :attr:`~neural_style.core.stop.StopReason.COMPLETED`, ``INTERRUPTED``, or the
            reason of the item that stopped the batch (:func:`run_batch`'s ``stop_on``).
    """

    records: List[Dict] = field(default_factory=list)
    failures: List[Dict] = field(default_factory=list)
    unprocessed: List[str] = field(default_factory=list)
    stop_reason: StopReason = StopReason.COMPLETED

    @property
    def written(self) -> List[Tuple[Path, Path]]:
        """The (input, output) pairs written, in order."""
        return [(Path(r["input"]), Path(r["output"])) for r in self.records]

    @property
    def interrupted(self) -> bool:
        """Whether the batch was stopped (Ctrl-C, SIGTERM) before its end."""
        return self.stop_reason == StopReason.INTERRUPTED

    def add(self, index: int, record: Dict, on_item: Optional[ItemCallback] = None) -> None:
        """Record item ``index`` (from 1) as written, and tell ``on_item``."""
        self.records.append(record)
        if on_item is not None:
            on_item(index, record)

    def fail(self, index: int, source, output, error: Union[BaseException, str],
             on_failure: Optional[ItemCallback] = None) -> Dict:
        """Record item ``index`` (from 1) as failed with ``error`` (an exception or its one line), tell
        ``on_failure``; the failure record."""
        failure = {"input": str(source), "output": str(output), "error": failure_message(source, error)}
        self.failures.append(failure)
        if on_failure is not None:
            on_failure(index, failure)
        return failure

    def skip(self, sources: Iterable) -> None:
        """List ``sources`` as unprocessed."""
        self.unprocessed.extend(str(source) for source in sources)

    def stop(self, rest: Iterable = (), reason: StopReason = StopReason.INTERRUPTED) -> None:
        """The batch stopped before its end (interrupted); ``rest`` are the inputs it did not reach."""
        self.stop_reason = reason
        self.skip(rest)


B = TypeVar("B", bound=BatchResult)


def failure_message(source, error: Union[BaseException, str]) -> Message:
    """One line for a failed item, naming its file (:func:`~neural_style.io.inputs.name_failure`); the
    settings the error names (:func:`~neural_style.errors.setting`) are kept for the command line to spell."""
    return Message(name_failure(source, spelled(error, setting)))


def run_batch(batch: B, pairs: Sequence[Pair], process: Callable[[int, Any, Any], Dict], *,
              on_item: Optional[ItemCallback] = None, on_failure: Optional[ItemCallback] = None,
              stop_on: Collection[StopReason] = (StopReason.INTERRUPTED,)) -> B:
    """Process every pair in order into ``batch`` (see the module doc).

    Args:
        batch: the result to fill (a :class:`BatchResult`, or a command's subclass of it).
        pairs: (input, output) of each item.
        process: ``process(index from 1, input, output)`` does one item and returns its record; the item's
            output is held (:func:`~neural_style.io.locks.owned`) while it runs.
        on_item: called with (index, record) after each item is recorded.
        on_failure: called with (index, failure) for each item that failed (:data:`ITEM_ERRORS`).
        stop_on: the ``stop_reason`` values of a record that stop the batch after that item.

    Returns:
        ``batch``.

    Raises:
        The error of the only item, when there is one (its error is the run's).
    """
    for index, (source, output) in enumerate(pairs, start=1):
        try:
            with owned(output, "output"):  # while it is made: another run's same output is refused
                record = process(index, source, output)
        except ITEM_ERRORS as exc:
            if len(pairs) == 1:
                raise
            batch.fail(index, source, output, exc, on_failure)
            continue
        except KeyboardInterrupt:  # nothing of this item was written
            batch.stop(src for src, _ in pairs[index - 1:])
            break
        batch.add(index, record, on_item)
        reason = record.get("stop_reason")
        if reason in stop_on:  # e.g. interrupted: written with its best so far
            batch.stop((src for src, _ in pairs[index:]), StopReason(reason))
            break
    return batch
