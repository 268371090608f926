"""Tests for neural_style.io.progress: the terminal progress bar, with a fake clock."""

import io

import pytest

from neural_style.io import progress
from neural_style.io.progress import ProgressBar, format_duration


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def clock(monkeypatch):
    """``clock.now`` is what time.perf_counter returns in neural_style.io.progress."""
    fake = type("Clock", (), {"now": 1000.0})()
    monkeypatch.setattr(progress.time, "perf_counter", lambda: fake.now)
    return fake


def last_line(stream: Terminal) -> str:
    return stream.getvalue().split("\r")[-1].replace("\x1b[K", "")


def test_speed_and_eta_leave_out_what_came_before_the_first_update(clock):
    stream = Terminal()
    bar = ProgressBar(100, stream=stream)
    clock.now += 60  # loading the model: a minute before the first iteration is reported
    bar.update(1, {"style": 2.0})
    assert "-.-- it/s  ETA -:--" in last_line(stream)  # nothing measured yet
    clock.now += 10  # then 2 it/s
    bar.update(21, {"style": 1.0})
    line = last_line(stream)
    assert line.startswith(" 21/100 [####----------------] style 1  ")
    assert line.endswith("2.00 it/s  ETA 0:40")  # (100 - 21) / 2 = 39.5 s, not 21 / 70 s = 0.3 it/s


def test_draws_at_most_rate_times_a_second_but_always_the_end(clock):
    stream = Terminal()
    bar = ProgressBar(3, stream=stream, rate=10)
    bar.update(1)
    clock.now += 0.01
    bar.update(2)  # too soon: skipped
    assert last_line(stream).startswith("1/3 ")
    clock.now += 0.01
    bar.update(3)  # the last one is always drawn
    assert last_line(stream).startswith("3/3 [####################]")
    assert last_line(stream).endswith("100.00 it/s  ETA 0:00")
    bar.close()
    assert stream.getvalue().endswith("\n")


def test_off_a_terminal_plain_lines_about_every_ten_seconds(clock):
    """A log (nohup, CI, a cluster job): whole lines, no bar, no carriage return (issue 27: nothing was
    printed until the end)."""
    stream = io.StringIO()
    bar = ProgressBar(100, stream=stream, label="scale 1/2 ")
    for done in range(1, 101):
        clock.now += 0.5
        bar.update(done, {"style": 1.0 / done})
    bar.close()
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue() and "#" not in stream.getvalue()
    assert [line.split()[2] for line in lines] == ["21/100", "41/100", "61/100", "81/100"]
    assert lines[0] == "scale 1/2 21/100 style 0.0476  2.00 it/s  ETA 0:40"


def test_log_every_n_items(clock):
    stream = io.StringIO()
    bar = ProgressBar(10, stream=stream, log_every=4)
    for done in range(1, 11):
        bar.update(done)
    assert [line.split()[0] for line in stream.getvalue().splitlines()] == ["4/10", "8/10"]


def test_quiet_prints_nothing_anywhere(clock):
    for stream in (io.StringIO(), Terminal()):
        bar = ProgressBar(5, stream=stream, enabled=False, log_every=1)
        bar.update(1)
        bar.update(5)
        bar.close()
        assert stream.getvalue() == ""


@pytest.mark.parametrize("seconds, text", [(0, "0:00"), (59.4, "0:59"), (61, "1:01"), (3725, "1:02:05")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_off_a_terminal_the_line_clock_runs_on_across_restarts(clock):
    """Solves shorter than the log interval (a lambda search: several per file) still print a line about every
    ten seconds: restarting the count does not restart the clock of the lines (it did: none was printed)."""
    stream = io.StringIO()
    bar = ProgressBar(3000, stream=stream, limit=True)
    for solve in range(1, 5):  # four solves of 60 iterations, 6 s each
        bar.restart(3000, f"solve {solve}: ")
        for done in range(1, 61):
            clock.now += 0.1
            bar.update(done)
    lines = stream.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == ["solve 2", "solve 4"], lines
    assert lines[0].endswith("10.00 it/s  ETA <= 4:56")  # a limit the solve may stop short of: an upper bound


class Gone(io.StringIO):
    """A stream whose reader went away (``2>&1 | head``): every write is a broken pipe."""

    def __init__(self):
        super().__init__()
        self.writes = 0

    def isatty(self):
        return False

    def write(self, text):
        self.writes += 1
        raise BrokenPipeError(32, "Broken pipe")


def test_a_broken_pipe_turns_the_bar_off_instead_of_ending_the_work(clock):
    stream = Gone()
    bar = ProgressBar(100, stream=stream, log_every=10)
    bar.update(10)  # raised BrokenPipeError before: the solve it reports on ended with it
    assert not bar.enabled and stream.writes == 1
    bar.update(20)
    bar.close()
    assert stream.writes == 1  # nothing more is tried
