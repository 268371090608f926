"""Tests for neural_style.errors: the one-line formatter of exceptions."""

from neural_style.errors import one_line


def test_one_line_is_the_first_line_or_the_type_name():
    assert one_line(ValueError("  bad value\nmore detail")) == "bad value"
    assert one_line(KeyError()) == "KeyError"
    assert one_line(KeyError(), fallback="missing data") == "missing data"


def test_one_line_whole_joins_the_lines_and_drops_the_full_stop():
    assert one_line(OSError("image file\n  is truncated.")) == "image file"
    assert one_line(OSError("image file\n  is truncated."), whole=True) == "image file is truncated"


def test_one_line_cuts_at_the_limit_or_at_a_word():
    assert one_line(RuntimeError("abc def ghi"), 6) == "abc de"
    assert one_line(RuntimeError("abc def ghi"), 6, words=True) == "abc ..."
    assert one_line(RuntimeError("abc"), 6, words=True) == "abc"


def test_one_line_strerror_drops_the_errno():
    exc = OSError(28, "No space left on device")
    assert one_line(exc) == "[Errno 28] No space left on device"
    assert one_line(exc, strerror=True) == "No space left on device"
    assert one_line(OSError("plain"), strerror=True) == "plain"
