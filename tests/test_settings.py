"""The settings dataclasses are the single source of every default: the CLI's options agree."""

import dataclasses

import click
import pytest

from neural_style import settings as settings_module
from neural_style.cli import cli
from neural_style.settings import (
    DenoiseBatchSettings,
    DenoiseSettings,
    StylizeOutputs,
    StylizeSettings,
    TrainSettings,
    TransferSettings,
    VideoSettings,
    with_overrides,
)

#: command -> the dataclasses its options come from
SOURCES = {
    "stylize": (StylizeSettings, StylizeOutputs, VideoSettings),
    "denoise": (DenoiseSettings, DenoiseBatchSettings),
    "train": (TrainSettings,),
    "transfer": (TransferSettings,),
}
#: options that are not settings fields: paths of the run and output switches
NOT_SETTINGS = {"output", "report", "quiet", "log_every", "reference", "dataset", "checkpoint_dir", "resume", "device",
                "check_image", "version", "help", "amp"}  # amp: train's former name of --precision fp16
#: CLI values that differ in form from the field's (the CLI turns them into the field's value)
CLI_FORM = {("stylize", "bit_depth"): lambda v: v if v == "auto" else int(v)}


def _options(command: str):
    return [p for p in cli.commands[command].params if isinstance(p, click.Option) and p.name not in ("help",)]


@pytest.mark.parametrize("command", sorted(SOURCES))
def test_cli_defaults_are_the_settings_defaults(command):
    fields = {f.name: f.default for source in SOURCES[command] for f in dataclasses.fields(source)}
    checked = []
    for option in _options(command):
        if option.name in NOT_SETTINGS and option.name != "device":
            continue
        expected = settings_module.DEFAULT_DEVICE if option.name == "device" else fields.get(option.name)
        assert option.name in fields or option.name == "device", f"--{option.name} is not a settings field"
        value = CLI_FORM.get((command, option.name), lambda v: v)(option.default)
        assert value == expected and type(value) is type(expected), (command, option.name, value, expected)
        checked.append(option.name)
    # every field of the algorithm settings is an option (the CLI exposes them all)
    missing = {f.name for f in dataclasses.fields(SOURCES[command][0])} - set(checked) - {"eps", "log_every"}
    assert missing == set()


def test_denoise_sigma_is_on_the_255_scale_in_the_cli_only(tmp_path):
    """The one default that changes form: --sigma auto|0..255 becomes settings.sigma auto|0..1."""
    option = next(o for o in _options("denoise") if o.name == "sigma")
    assert option.default == DenoiseSettings.sigma == "auto"


def test_with_overrides():
    base = StylizeSettings(size=64)
    assert with_overrides(base, StylizeSettings, {}) is base
    assert with_overrides(base, StylizeSettings, {"iterations": 3}) == StylizeSettings(size=64, iterations=3)
    assert with_overrides(None, DenoiseSettings, {"tv_beta": 1.5}).tv_beta == 1.5
    with pytest.raises(TypeError, match="unknown StylizeSettings field 'sise'"):
        with_overrides(None, StylizeSettings, {"sise": 3})
    with pytest.raises(TypeError, match="expected StylizeSettings, got DenoiseSettings"):
        with_overrides(DenoiseSettings(), StylizeSettings, {})


def test_settings_module_imports_no_torch():
    """The CLI imports the settings at start-up: they must stay light."""
    import subprocess
    import sys

    code = "import sys, neural_style.cli; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
