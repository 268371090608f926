"""Tests for neural_style/rules.py: one rule per setting, the same check in every command."""

import dataclasses
import math

import pytest

from neural_style import settings as settings_module
from neural_style.errors import InputError
from neural_style.rules import choice, count, counts, flag, number, validate

SETTINGS = [settings_module.StylizeSettings, settings_module.StylizeOutputs, settings_module.DenoiseSettings,
            settings_module.TrainSettings, settings_module.TransferSettings]


def ruled_fields(kind):
    return [(f.name, f.metadata["rule"]) for f in dataclasses.fields(kind) if "rule" in f.metadata]


@pytest.mark.parametrize("kind", SETTINGS, ids=lambda k: k.__name__)
def test_the_defaults_obey_their_rules(kind):
    assert validate(kind()) == kind()
    assert len(ruled_fields(kind)) >= 2


def bad_values(check):
    """Values every rule of this kind must refuse."""
    values = ["bogus", object()]
    if check.kind in ("number", "count", "counts"):
        values += [math.inf, -math.inf, math.nan, check.minimum - 1, True]
    if check.kind in ("count", "counts"):
        values += [1.5, check.minimum - 1]
    if check.kind == "number" and check.strict:
        values.append(check.minimum)
    if check.kind == "number" and math.isfinite(check.maximum):
        values += [check.maximum * 1.01, 1e308]
    if check.kind == "flag":
        values += [1, "yes"]
    if not check.none:
        values.append(None)
    return values


CASES = [(kind, name, check, value) for kind in SETTINGS for name, check in ruled_fields(kind)
         for value in bad_values(check)]


@pytest.mark.parametrize("kind, name, check, value", CASES,
                         ids=[f"{k.__name__}.{n}={v!r}" for k, n, _, v in CASES])
def test_every_ruled_field_refuses_bad_values_in_one_line(kind, name, check, value):
    with pytest.raises(InputError) as info:
        validate(dataclasses.replace(kind(), **{name: value}))
    message = str(info.value)
    assert message.startswith(f"{name} must be ") and "\n" not in message
    assert message.endswith(f"got {value!r}")


def test_rules_accept_and_describe():
    assert number(0, strict=True).accepts(1e-9) and not number(0, strict=True).accepts(0.0)
    assert number(0).accepts(0) and not number(0).accepts(float("nan"))
    assert number(0, words=("auto",)).accepts("auto") and not number(0).accepts("auto")
    assert count(1).accepts(3) and not count(1).accepts(3.0) and not count(1).accepts(True)
    assert counts(1).accepts([1, 2]) and not counts(1).accepts([]) and not counts(1).accepts([1, 0])
    assert choice(("a", "b")).accepts("a") and not choice(("a", "b")).accepts("c")
    assert flag().accepts(False) and not flag().accepts(0)
    assert count(1, words=("auto",)).describe() == "'auto' or an integer >= 1"
    assert number(0, strict=True).describe() == "a finite number > 0"
    assert choice(("lbfgs", "adam")).describe() == "one of lbfgs, adam"


def test_the_same_field_name_has_the_same_rule_wherever_its_meaning_is_the_same():
    """tv_beta, the weights and lr mean the same in every command: one rule each."""
    seen = {}
    for kind in SETTINGS:
        for name, check in ruled_fields(kind):
            if name in ("tv_beta", "content_weight", "style_weight", "lr", "batch_size", "model",
                        "weights_format", "original_colors"):
                seen.setdefault(name, set()).add((check.kind, check.minimum, check.strict, check.maximum))
    assert all(len(rules) == 1 for rules in seen.values()), seen
