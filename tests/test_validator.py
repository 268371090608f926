"""One validator: every ruled option refuses a bad value on the command line with the words the
Python API uses for the same value (``must be ..., got ...``), checked option by option."""

import dataclasses
import re

import click
import pytest

from neural_style.cli import cli
from neural_style.cli.options import RuleChoice, RuleType
from neural_style.errors import InputError
from neural_style.rules import from_text, validate

from .clitools import invoke

COMMANDS = {
    "stylize": ["stylize", "c.png", "s.png", "-o", "o.png"],
    "denoise": ["denoise", "n.png", "-o", "d.png"],
    "train": ["train", "s.png", "--dataset", "photos", "-o", "m.pth"],
    "transfer": ["transfer", "m.pth", "c.png", "-o", "t.png"],
}
BAD = ("bogus", "-5", "inf", "1e999", "1,x")


def ruled_options():
    for command in COMMANDS:
        for param in cli.commands[command].params:
            if isinstance(param, click.Option) and isinstance(param.type, (RuleType, RuleChoice)):
                yield command, param


CASES = [(command, param, value) for command, param in ruled_options() for value in BAD]


def test_every_ruled_setting_of_every_command_is_an_option_typed_by_its_rule():
    names = {(c, p.name) for c, p in ruled_options()}
    assert {("stylize", "tv_beta"), ("denoise", "sigma"), ("denoise", "jobs"), ("train", "ema_decay"),
            ("transfer", "batch_size"), ("stylize", "bit_depth"), ("stylize", "model")} <= names
    for _command, param in ruled_options():  # the type knows its field, and the field its rule
        source, name = param.type.field
        assert name == param.name and any(f.name == name for f in dataclasses.fields(source))
    for command in COMMANDS:  # no option re-checks a value in a callback of its own
        assert [p.name for p in cli.commands[command].params if p.callback is not None] == [], command


def _api_message(param, text):
    """What the API says of the value the command line reads from ``text`` (None: accepted)."""
    source, name = param.type.field
    value = from_text(param.type.check, text, param.type.listed) \
        if isinstance(param.type, RuleType) and text not in param.type.check.choices else text
    if isinstance(param.type, RuleChoice):
        value = next((c for c in param.type.check.choices if str(c) == text), text)
        value = int(text) if re.fullmatch(r"-?\d+", text) and value == text else value
    try:
        validate(dataclasses.replace(source(), **{name: value}), [name])
    except InputError as exc:
        message = str(exc)
        assert message.startswith(f"{name} must be "), message
        return message[len(name) + 1:]
    return None


@pytest.mark.parametrize("command, param, value", CASES, ids=[f"{c} {p.opts[-1]} {v}" for c, p, v in CASES])
def test_the_cli_and_the_api_refuse_the_same_values_with_the_same_words(command, param, value):
    result = invoke(*COMMANDS[command], param.opts[-1], value)
    api = _api_message(param, value)
    if result.exit_code != 2 or "Invalid value" not in result.stderr:  # accepted on the command line
        assert api is None, (result.stderr, api)
        return
    cli_body = re.search(r"Invalid value for '[^']+'(?: / '[^']+')*: (.*) \(see '", result.stderr).group(1)
    assert api is not None, cli_body
    if getattr(param.type, "scale", 1) == 1:
        assert cli_body == api
    else:  # --sigma on 0..255: the API's bound times the scale, and the scale said
        scale = param.type.scale
        bound = re.search(r"<= (\S+),", api).group(1)
        expected = api.replace(f"<= {bound},", f"<= {float(bound) * scale:g} (on the 0..{scale:g} scale),")
        assert cli_body == expected, (cli_body, api)
