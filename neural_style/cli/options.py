"""Options built from the settings: each option's default is its field's default and its type is
its field's rule (:mod:`neural_style.rules`), so the command line and the Python API accept the
same values and refuse a bad one with the same words (``must be a finite number > 0, got inf``)."""

from pathlib import Path

import click

from ..rules import Rule, failure, from_text, is_time, rule_of
from ..settings import DEFAULT_DEVICE


class RuleType(click.ParamType):
    """An option parsed and checked by its settings field's rule.

    Text becomes the rule's kind of value (an int, a float, or a list of them from ``N,N,...``);
    a word of the rule (``auto``) stays a word; ``scale`` divides a number given on another scale
    (``--sigma`` on 0..255 for a field on 0..1); ``listed``: ``N`` of a list kind is ``[N]`` (else
    ``N``). A value the rule refuses fails as ``must be <what the rule accepts>, got <value>``.
    """

    #: (settings dataclass, field name) whose rule this is (set by :func:`setting`).
    field = None

    def __init__(self, check: Rule, scale: float = 1, listed: bool = False):
        self.check, self.scale, self.listed = check, scale, listed
        self.name = {"count": "integer", "counts": "integers", "numbers": "floats"}.get(check.kind, "float")

    def convert(self, value, param, ctx):
        if isinstance(value, str) and not is_time(value, self.check):
            self.fail(f"{value!r} is not a time: expected seconds, MM:SS or HH:MM:SS (minutes and seconds under 60)",
                      param, ctx)
        if isinstance(value, str) and value not in self.check.choices:
            value = from_text(self.check, value, self.listed)
        scaled = value / self.scale if self.scale != 1 and isinstance(value, (int, float)) else value
        if not self.check.accepts(scaled):
            self.fail(failure(self.check, value, self.scale), param, ctx)
        return scaled


class RuleChoice(click.Choice):
    """A choice option from its settings field's rule: the rule's choices, shown as ``[a|b]``; a
    choice that is not text (``--bit-depth 8``) is given as its text and becomes its value."""

    #: (settings dataclass, field name) whose rule this is (set by :func:`setting`).
    field = None

    def __init__(self, check: Rule):
        self.check = check
        super().__init__([str(c) for c in check.choices])

    def convert(self, value, param, ctx):
        for choice in self.check.choices:
            if value == choice or value == str(choice):
                return choice
        self.fail(failure(self.check, _number_or_text(value)), param, ctx)


def _number_or_text(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def setting(source, name_or_flag: str, help=None, *, scale: float = 1, listed: bool = False, flags=(), **extra):
    """An option for the field of ``source`` (a settings dataclass) named like ``name_or_flag``
    (``--tv-beta``): its default the field's, its type (unless ``type`` is given) the field's rule
    (``scale``, ``listed``: as :class:`RuleType`); ``flags``: the names it is typed as, the first shown
    (one name for one thing across commands, an older name kept), instead of the field's."""
    name = name_or_flag.lstrip("-").replace("-", "_")
    flag = "--" + name.replace("_", "-")
    default = getattr(source, name)
    check = rule_of(source, name)
    if "type" not in extra and not extra.get("is_flag") and check is not None and check.kind != "any":
        extra["type"] = RuleChoice(check) if check.kind == "choice" else RuleType(check, scale, listed)
        extra["type"].field = (source, name)
    if isinstance(extra.get("type"), RuleChoice) and default is not None:
        default = str(default)
    shown = default is not None and not extra.get("is_flag")
    return click.option(*(flags or (flag,)), name, default=default, show_default=shown, help=help, **extra)


def layers(source, flag: str, what: str):
    """A layers option (``NAME[:W],...``)."""
    return setting(source, flag, f"{what} layers by name (conv*_* or relu*_*), each with an optional weight.",
                   metavar="NAME[:W],...")


device = click.option("--device", default=DEFAULT_DEVICE, show_default=True, metavar="auto|cpu|cuda|cuda:N|mps")
_quiet = click.option("-q", "--quiet", is_flag=True, help="No progress or summary.")
_log_every = click.option(  # taken out of the command's arguments into ctx.meta by the command class (app.py)
    "--log-every", type=click.IntRange(min=1), default=None, metavar="N",
    help="Where stderr is not a terminal (a log file, nohup, CI): a progress line every N iterations (steps, "
         "files) [about every 10 s].")


def quiet(command):
    """``-q/--quiet`` (passed to the command) and ``--log-every N`` (read by :func:`.output.progress_bar`)."""
    return _quiet(_log_every(command))
report = click.option("--report", type=click.Path(dir_okay=False, path_type=Path), default=None,
                      help="Write what the run did as JSON.")
