"""Exceptions raised by neural-style.

Every error a user can cause is a :class:`NeuralStyleError` whose message is one
line naming the problem and what to do about it. The command line prints that
line and exits with :attr:`NeuralStyleError.exit_code` (2 for usage errors, 1
for runtime errors); Python callers catch the classes below.

A message names a setting with :func:`setting`, never with a command-line flag: read from
Python it says ``tv_beta``; the command line renders the same message with ``--tv-beta``
(:func:`spelled`), so each interface names settings as its user spells them.
"""

import re
from typing import Callable, Optional

#: Brackets a setting's name inside a message (ASCII unit separator: not typed in messages or options).
_MARK = "\x1f"
_NAMED = re.compile(_MARK + r"([A-Za-z_][A-Za-z0-9_]*)" + _MARK)


def setting(name: str) -> str:
    """A setting named in a message: ``f"raise {setting('tv_beta')}"`` reads ``raise tv_beta`` from
    Python and ``raise --tv-beta`` on the command line (:func:`spelled`).

    Args:
        name: the field of a settings dataclass or keyword argument (``"tv_beta"``).
    """
    return f"{_MARK}{name}{_MARK}"


def spelled(message, spell: Optional[Callable[[str], str]] = None) -> str:
    """``message`` (a str, a :class:`Message`, an exception or a warning) with every :func:`setting`
    in it written by ``spell`` (default: the Python name itself)."""
    if isinstance(message, BaseException):  # its one argument may be a Message; else as str() reads it
        if len(message.args) == 1:
            message = message.args[0]
        else:  # an OSError's "[Errno 28] ..." (our own errors: without spelled(), which calls this)
            message = Exception.__str__(message) if isinstance(message, NeuralStyleError) else str(message)
    raw = getattr(message, "raw", str(message))
    return _NAMED.sub(lambda m: (spell or str)(m.group(1)), raw)


class Message(str):
    """A one-line message that may name settings (:func:`setting`): as a str it reads with their Python
    names; :func:`spelled` renders it for another interface. Warnings passed to ``warn`` callbacks and
    :func:`warnings.warn` are Messages."""

    raw: str

    def __new__(cls, raw: str) -> "Message":
        text = super().__new__(cls, _NAMED.sub(lambda m: m.group(1), raw))
        text.raw = raw
        return text


class NeuralStyleError(Exception):
    """Base class of the errors neural-style reports to its users."""

    exit_code = 1

    def __str__(self) -> str:
        return spelled(self)


class InputError(NeuralStyleError, ValueError):
    """Bad input: a missing, unreadable or unsupported file, or an invalid option value."""

    exit_code = 2


class WeightsError(InputError):
    """A weights file that is missing, corrupt or does not match the requested network."""


class DownloadError(NeuralStyleError):
    """Weights that are not cached and could not be downloaded."""


class ResourceError(InputError):
    """A requested size that would not fit in the memory of the chosen device (a usage error)."""


def format_bytes(count: float) -> str:
    """A size for a message: ``"1.7 GiB"``, or MiB below 1 GiB (never ``"0.0 GiB"``)."""
    return f"{count / 2**30:.1f} GiB" if count >= 2**30 else f"{count / 2**20:.1f} MiB"


def one_line(exc: BaseException, limit: Optional[int] = None, *, whole: bool = False, words: bool = False,
             strerror: bool = False, fallback: Optional[str] = None) -> str:
    """An exception's message as one line, to quote inside a message of ours (e.g. ``f"... ({one_line(exc)})"``).

    Args:
        exc: the exception.
        limit: the most characters kept (None: all of them).
        whole: all its lines joined by single spaces, a final full stop dropped (default: its first
            line, surrounding white space stripped).
        words: cut at the last word boundary before ``limit`` and add ``" ..."`` (default: cut at ``limit``).
        strerror: the OS's text alone when ``exc`` has one (``strerror`` of an OSError or a PyAV error,
            without their ``[Errno N]``).
        fallback: what to say for an exception without text (default: the name of its type).

    Returns:
        One line, without line breaks.
    """
    text = (getattr(exc, "strerror", None) if strerror else None) or str(exc).strip()
    text = " ".join(text.split()).rstrip(".") if whole else (text.splitlines() or [""])[0]
    if not text:
        return type(exc).__name__ if fallback is None else fallback
    if limit is None or len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " ..." if words else text[:limit]
