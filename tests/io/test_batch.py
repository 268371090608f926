"""The one batch loop: a failed item is recorded and the others run, Ctrl-C lists the rest, one item's
error is the run's; failure lines keep the settings they name for the command line."""

from pathlib import Path

import pytest

from neural_style.core.stop import StopReason
from neural_style.errors import InputError, Message, setting, spelled
from neural_style.io.batch import BatchResult, failure_message, run_batch

PAIRS = [(Path(f"in/{name}.png"), Path(f"out/{name}.png")) for name in "abcd"]


@pytest.fixture(autouse=True)
def in_a_folder_of_its_own(tmp_path, monkeypatch):
    """The relative outputs' locks are taken in a temporary folder."""
    monkeypatch.chdir(tmp_path)


def record(src, dst, **extra):
    return {"input": str(src), "output": str(dst), **extra}


def test_a_failed_item_is_recorded_and_the_others_run():
    done, failed = [], []

    def process(index, src, dst):
        if src.stem == "b":
            raise InputError(f"cannot read it: pass {setting('sigma')}")
        if src.stem == "c":
            raise OSError("disk gone")
        return record(src, dst)

    batch = run_batch(BatchResult(), PAIRS, process, on_item=lambda i, r: done.append(i),
                      on_failure=lambda i, f: failed.append((i, f)))
    assert done == [1, 4] and [i for i, _ in failed] == [2, 3]
    assert batch.stop_reason == StopReason.COMPLETED and not batch.interrupted and batch.unprocessed == []
    assert batch.written == [PAIRS[0], PAIRS[3]]
    first = batch.failures[0]
    assert first == {"input": "in/b.png", "output": "out/b.png", "error": "'in/b.png': cannot read it: pass sigma"}
    assert spelled(first["error"], lambda name: "--" + name) == "'in/b.png': cannot read it: pass --sigma"
    assert batch.failures[1]["error"] == "'in/c.png': disk gone"


def test_the_only_items_error_is_raised_as_it_was():
    def process(index, src, dst):
        raise InputError("bad")

    with pytest.raises(InputError, match="^bad$"):
        run_batch(BatchResult(), PAIRS[:1], process)


def test_ctrl_c_lists_the_item_and_the_rest_as_unprocessed():
    def process(index, src, dst):
        if index == 2:
            raise KeyboardInterrupt
        return record(src, dst)

    batch = run_batch(BatchResult(), PAIRS, process)
    assert batch.interrupted and batch.stop_reason == "interrupted"
    assert batch.unprocessed == ["in/b.png", "in/c.png", "in/d.png"] and batch.written == [PAIRS[0]]


def test_an_item_that_stopped_itself_is_kept_and_the_rest_listed():
    def process(index, src, dst):
        return record(src, dst, stop_reason=StopReason.INTERRUPTED if index == 2 else StopReason.CONVERGED)

    batch = run_batch(BatchResult(), PAIRS, process)
    assert batch.interrupted and batch.written == PAIRS[:2] and batch.unprocessed == ["in/c.png", "in/d.png"]


def test_failure_message_names_the_file_once_and_keeps_settings():
    message = failure_message("x.png", InputError(f"'x.png' is bad: raise {setting('tv_beta')}"))
    assert isinstance(message, Message) and message == "'x.png' is bad: raise tv_beta"
    assert spelled(message, lambda name: "--" + name.replace("_", "-")) == "'x.png' is bad: raise --tv-beta"
    assert failure_message("y.png", "internal error: boom") == "'y.png': internal error: boom"
    assert failure_message("z.png", OSError(28, "No space left on device")) == \
        "'z.png': [Errno 28] No space left on device"


def test_each_items_output_is_held_while_it_is_made_and_a_held_one_fails_alone(tmp_path):
    from neural_style.io.locks import owned
    seen = []

    def process(index, src, dst):
        seen.append(Path(f".{dst.name}.lock").exists() or (dst.parent / f".{dst.name}.lock").exists())
        return record(src, dst)

    with owned(PAIRS[1][1], "output"):  # another run is making out/b.png
        batch = run_batch(BatchResult(), PAIRS, process)
    assert seen == [True, True, True] and [r["input"] for r in batch.records] == ["in/a.png", "in/c.png", "in/d.png"]
    assert "in use by process" in batch.failures[0]["error"]
    assert not (tmp_path / "out").exists()  # made for the locks, left empty: removed


def test_a_caller_may_stop_on_other_reasons():
    def process(index, src, dst):
        return record(src, dst, stop_reason=StopReason.NON_FINITE if index == 3 else StopReason.COMPLETED)

    assert run_batch(BatchResult(), PAIRS, process).stop_reason == StopReason.COMPLETED  # by default: only Ctrl-C
    batch = run_batch(BatchResult(), PAIRS, process, stop_on=(StopReason.INTERRUPTED, StopReason.NON_FINITE))
    assert batch.stop_reason == "non-finite" and not batch.interrupted and batch.unprocessed == ["in/d.png"]
