"""The rules every setting obeys, shared by all commands and the Python API.

Each field of a settings dataclass (:mod:`neural_style.settings`) carries its rule in the
field's metadata (``field(default=..., metadata=rule(...))``), next to its default, and
:func:`validate` applies them all: ``stylize``, ``denoise``, ``train`` and ``transfer`` check an
option the same way, before any work starts, and a bad value is one
:class:`~neural_style.errors.InputError` line naming the option and what it accepts;
:func:`with_overrides` makes the settings an API call asked for, naming a field that does not exist.
Imports nothing heavy (the command line's ``--help`` stays fast).
"""

import math
from dataclasses import dataclass, fields, replace
from typing import Any, Mapping, Optional, Sequence, Tuple, TypeVar

from .errors import InputError, setting

__all__ = ["Rule", "count", "number", "numbers", "choice", "counts", "flag", "rule", "validate", "shown", "failure"]


@dataclass(frozen=True)
class Rule:
    """What one setting accepts.

    Attributes:
        kind: ``"count"`` (an integer), ``"number"`` (a finite real), ``"choice"``, ``"counts"``
            (one integer or a list of them), ``"numbers"`` (a non-empty list of finite reals),
            ``"flag"`` (a bool) or ``"any"`` (checked where used).
        minimum: the smallest integer (count, counts) or the lower bound (number, numbers).
        strict: for numbers, whether ``minimum`` itself is refused.
        maximum: the largest accepted (inclusive; default: no bound).
        choices: the accepted words (choice), or extra words a count or number also takes
            (like ``"auto"``).
        none: whether None is accepted.
    """

    kind: str
    minimum: float = 0
    strict: bool = False
    choices: Tuple = ()
    none: bool = False
    maximum: float = math.inf

    def describe(self, scale: float = 1) -> str:
        """What the rule accepts, in words: ``'auto' or an integer >= 1``; ``scale`` multiplies the
        bounds of a number (the command line's ``--sigma`` is on the 0..255 scale)."""
        words = [f"'{c}'" for c in self.choices]
        if self.kind == "choice":
            return "one of " + ", ".join(map(str, self.choices))
        most = ""
        if math.isfinite(self.maximum):
            most = f" and <= {int(self.maximum)}" if self.kind == "count" else f" and <= {self.maximum * scale:g}"
        if self.kind == "count":
            words.append(f"an integer >= {self.minimum:g}{most}")
        elif self.kind == "number":
            words.append(f"a finite number {'>' if self.strict else '>='} {self.minimum * scale:g}{most}")
        elif self.kind == "counts":
            words.append(f"an integer >= {self.minimum:g} or a list of them")
        elif self.kind == "numbers":
            words.append(f"a list of finite numbers >= {self.minimum:g}")
        elif self.kind == "flag":
            words.append("true or false")
        return " or ".join(words)

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` obeys the rule."""
        if value is None:
            return self.none
        if self.kind == "any":
            return True
        if self.kind == "choice":
            return not isinstance(value, bool) and value in self.choices
        if isinstance(value, str):
            return value in self.choices
        if self.kind == "flag":
            return isinstance(value, bool)
        if self.kind == "count":
            return _is_count(value, self.minimum) and value <= self.maximum
        if self.kind == "numbers":
            return isinstance(value, (list, tuple)) and len(value) > 0 and all(
                not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v) and v >= self.minimum
                for v in value)
        if self.kind == "counts":
            if isinstance(value, (list, tuple)):
                return len(value) > 0 and all(_is_count(v, self.minimum) for v in value)
            return _is_count(value, self.minimum)
        if self.kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                return False
            above = value > self.minimum if self.strict else value >= self.minimum
            return above and value <= self.maximum
        return False


def _is_count(value: Any, minimum: float) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and value >= minimum


def count(minimum: int, *, maximum: float = math.inf, none: bool = False, words: Sequence[str] = ()) -> Rule:
    """An integer >= ``minimum`` and <= ``maximum`` (or None, or one of ``words``)."""
    return Rule("count", minimum=minimum, none=none, choices=tuple(words), maximum=maximum)


def number(minimum: float = 0, *, strict: bool = False, maximum: float = math.inf, none: bool = False,
           words: Sequence[str] = ()) -> Rule:
    """A finite real number above ``minimum`` (``strict``) or at least ``minimum``, and at most ``maximum``."""
    return Rule("number", minimum=minimum, strict=strict, none=none, choices=tuple(words), maximum=maximum)


def choice(choices: Sequence, *, none: bool = False) -> Rule:
    """One of ``choices``."""
    return Rule("choice", choices=tuple(choices), none=none)


def counts(minimum: int, *, none: bool = False, words: Sequence[str] = ()) -> Rule:
    """One integer >= ``minimum`` or a non-empty list of them (or None, or one of ``words``)."""
    return Rule("counts", minimum=minimum, none=none, choices=tuple(words))


def numbers(minimum: float = 0, *, none: bool = False) -> Rule:
    """A non-empty list of finite real numbers >= ``minimum`` (or None)."""
    return Rule("numbers", minimum=minimum, none=none)


def flag() -> Rule:
    """True or False."""
    return Rule("flag")


def rule(check: Rule) -> Mapping[str, Rule]:
    """The metadata of a settings field: ``field(default=1.0, metadata=rule(number(0)))``."""
    return {"rule": check}


def validate(settings: Any, names: Optional[Sequence[str]] = None) -> Any:
    """Check every field of a settings dataclass that carries a rule; return ``settings``.

    Args:
        settings: a dataclass instance from :mod:`neural_style.settings`.
        names: only these fields (default: all).

    Raises:
        InputError: the first field that breaks its rule, as one line naming the field
            (:func:`~neural_style.errors.setting`): ``tv_beta must be a finite number > 0, got inf``
            (``--tv-beta ...`` on the command line); then (all fields checked) settings that are valid
            alone but not together: the dataclass's own ``check_together()``, where it has one.
    """
    for f in fields(settings):
        check = f.metadata.get("rule")
        if check is None or (names is not None and f.name not in names):
            continue
        value = getattr(settings, f.name)
        if not check.accepts(value):
            raise InputError(f"{setting(f.name)} {failure(check, value)}")
    if names is None and callable(getattr(settings, "check_together", None)):
        settings.check_together()
    return settings


def shown(value: Any) -> str:
    """A value as a message shows it: text quoted (``'bogus'``), a whole float as an integer (``-1``, as
    the command line's ``-1`` parsed), other numbers and lists as Python writes them."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(shown, value)) + "]"
    return repr(value)


def failure(check: Rule, value: Any, scale: float = 1) -> str:
    """The body of every message about a value that breaks ``check``, in the API and on the command line:
    ``must be a finite number > 0, got inf`` (``scale``: as :meth:`Rule.describe`, and said)."""
    on = f" (on the 0..{scale:g} scale)" if scale != 1 else ""
    return f"must be {check.describe(scale)}{on}, got {shown(value)}"


S = TypeVar("S")


def with_overrides(settings: Optional[S], kind: type, overrides: Mapping[str, Any]) -> S:
    """``settings`` (or ``kind()``) with ``overrides`` applied; TypeError names an unknown field."""
    base = kind() if settings is None else settings
    if not isinstance(base, kind):
        raise TypeError(f"expected {kind.__name__}, got {type(base).__name__}")
    known = {f.name for f in fields(kind)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise TypeError(f"unknown {kind.__name__} field {unknown[0]!r}: expected one of {', '.join(sorted(known))}")
    return replace(base, **overrides) if overrides else base


def rule_of(source, name: str) -> Optional[Rule]:
    """The rule of the field ``name`` of the settings dataclass ``source`` (None: no rule)."""
    return next((f.metadata.get("rule") for f in fields(source) if f.name == name), None)


def from_text(check: Rule, text: str, listed: bool = False) -> Any:
    """A value of ``check``'s kind typed as text (the command line, the studio's fields): an int, a float,
    a list of them from ``N,N,...`` (``listed``: ``N`` of a list kind is ``[N]``, else ``N``), a time
    ``MM:SS`` or ``HH:MM:SS`` as seconds; text that is none of them is returned as it is, for the rule to
    refuse (or accept as one of its words, ``auto``)."""
    kind = check.kind
    try:
        if kind in ("counts", "numbers"):
            values = [int(t) if kind == "counts" else float(t) for t in text.split(",") if t.strip()]
            one = kind == "counts" and len(values) == 1 and "," not in text and not listed
            return values[0] if one else values
        if kind == "number" and ":" in text:
            seconds = _time(text)
            return text if seconds is None else seconds
        return int(text) if kind == "count" else float(text)
    except ValueError:
        return text


def is_time(text: str, check: Rule) -> bool:
    """False only for text with a colon where ``check`` takes a number that is not a time (``1:70``)."""
    return not (":" in text and check.kind == "number" and _time(text) is None)


def _time(text: str) -> Optional[float]:
    """Seconds of a time written MM:SS or HH:MM:SS (seconds may have a fraction; minutes and seconds under
    60, hours and minutes whole), or None for text that is not one."""
    parts = text.split(":")
    try:
        values = [float(part) for part in parts]
    except ValueError:
        return None
    whole = all(part.strip().isdigit() for part in parts[:-1])
    if len(parts) > 3 or not whole or any(v < 0 for v in values) or any(v >= 60 for v in values[1:]):
        return None
    return sum(v * 60 ** (len(values) - 1 - i) for i, v in enumerate(values))
