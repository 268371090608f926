"""Tests for the ``neural-style`` command line (neural_style/cli.py).

The CLI is driven through click's CliRunner (click >= 8.2 keeps ``result.stdout`` and
``result.stderr`` apart; ``result.output`` holds both). Real runs use the random VGG16
weights of ``vgg16_file`` on images of at most 48 px for a few iterations; option
plumbing is checked against a fake ``run_stylize``. Nothing downloads: the torch hub
cache and ``torch.hub.download_url_to_file`` are replaced in every test.
"""

import dataclasses
import errno
import importlib.metadata
import inspect
import json
import os
import subprocess
import sys
import urllib.error
from pathlib import Path
from types import SimpleNamespace

import imageio.v3 as iio
import numpy as np
import pytest
import torch
from PIL import Image

from neural_style import __version__
from neural_style.core import device as device_module
from neural_style.core import objective as objective_module
from neural_style.core import weights as weights_module
from neural_style.core.optimize import OptimizeResult
from neural_style.core.tensors import resize_long_side, tensor_to_array
from neural_style.core.weights import ENV_VAR, torchvision_url
from neural_style.io import encode as encode_module
from neural_style.io.decode import read_image, to_tensor
from neural_style.io.progress import ProgressBar
from neural_style.settings import StylizeSettings
from neural_style.style_transfer import memory as memory_module
from neural_style.style_transfer import runner as stylize_runner
from neural_style.style_transfer.gatys import StylizeResult, run_stylize

from .clitools import assert_error, assert_ok, invoke, no_crash, snapshot

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--size", "32", "--iterations", "3"]
#: The content fixture is 48 x 40 (W x H): at --size 32 the output is 32 x 27.
OUT_SIZE = (32, 27)
STYLIZE_OPTIONS = [
    "--output", "--size", "--iterations", "--scales", "--optimizer", "--lr", "--content-weight", "--style-weight",
    "--tv-weight", "--tv-beta", "--content-layers", "--style-layers", "--style-blend-weights",
    "--style-scale", "--init", "--original-colors", "--colors", "--model", "--weights", "--weights-format",
    "--pooling", "--seed", "--device", "--precision", "--tile-size", "--lbfgs-history", "--save-every", "--bit-depth",
    "--animation", "--report",
    "--quiet",
]
#: click >= 8.2 shows the help for no arguments on stderr with exit 2; before, on stdout with 0.
CLICK_VERSION = tuple(int(part) for part in importlib.metadata.version("click").split(".")[:2])
#: The keyword arguments the CLI passes to run_stylize when no option is given.
API_DEFAULTS = dict(
    size=512, iterations=None, scales=None, optimizer="lbfgs", lr=None, content_weight=1.0, style_weight=5.0,
    tv_weight=2.0, tv_beta=2.0, content_layers="relu4_2",
    style_layers="relu1_1,relu2_1,relu3_1,relu4_1,relu5_1", style_blend_weights=None, style_scale=1.0,
    init="content", original_colors=False, model=None, weights=None, weights_format="torchvision",
    pooling="max", seed=None, device="auto", precision="auto", tile_size="auto", lbfgs_history="auto", bounds="project",
    colors="style", style_octaves=1, style_masks=None, style_image_masks=None,
    download_progress=True,
)


# --- fixtures and helpers -------------------------------------------------------------------



@pytest.fixture(autouse=True)
def hub(monkeypatch, tmp_path_factory):
    """No $NEURAL_STYLE_WEIGHTS, an empty torch hub cache and no network, in every test."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    cache = tmp_path_factory.mktemp("hub") / "checkpoints"
    monkeypatch.setattr(weights_module, "cache_path", lambda url: cache / url.rsplit("/", 1)[-1])
    downloads = []

    def no_download(url, dst, *args, **kwargs):
        downloads.append(url)
        raise AssertionError(f"test tried to download {url}")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_download)
    return SimpleNamespace(cache=cache, downloads=downloads)


def pixels(path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB")).astype(np.int16)


def stylize_args(content, style, out, weights, *extra):
    return ["stylize", content, style, "-o", out, "--weights", weights, *FAST, *extra]


@pytest.fixture
def fake_run(monkeypatch):
    """Replace run_stylize (looked up on its module at each call) by a recorder."""
    calls = []

    def fake(content, styles, settings, **kwargs):
        calls.append(SimpleNamespace(content=content, styles=styles, settings=settings,
                                     kwargs={**dataclasses.asdict(settings), **kwargs}))
        history = [{"iteration": 1, "content": 1.5, "style": 2.0, "tv": 0.5, "total": 3.5}]
        run = OptimizeResult(image=torch.full((1, 3, 6, 8), 0.25), history=history, iterations=1, seconds=0.5,
                             best_iteration=1)
        return StylizeResult(image=run.image, run=run, device="cpu", model="vgg16", weights="fake.pth",
                             content_size=(6, 8), style_sizes=[(8, 8)])

    monkeypatch.setattr(stylize_runner, "run_stylize", fake)
    return calls


def typed(mapping: dict) -> dict:
    """Values with their exact types, so 48 != 48.0 and Path != str."""
    return {k: (type(v), v) for k, v in mapping.items()}


def api_kwargs(call) -> dict:
    kwargs = dict(call.kwargs)
    assert callable(kwargs.pop("callback"))
    return kwargs


# --- help and version -----------------------------------------------------------------------


def test_help():
    result = invoke("--help")
    assert_ok(result)
    assert result.stdout.startswith("Usage: neural-style [OPTIONS] COMMAND")
    assert "stylize" in result.stdout and "--version" in result.stdout
    assert invoke("-h").stdout == result.stdout


def test_stylize_help_lists_every_option():
    result = invoke("stylize", "--help")
    assert_ok(result)
    assert result.stdout.startswith("Usage: neural-style stylize [OPTIONS] CONTENT STYLES...")
    missing = [option for option in STYLIZE_OPTIONS if option not in result.stdout]
    assert missing == []
    text = " ".join(result.stdout.split())  # help lines wrap at any space
    assert "Content layers by name (conv*_* or relu*_*), each with an optional weight. [default: relu4_2]" in text


def test_no_arguments_shows_the_plain_help():
    help_text = invoke("--help").stdout
    result = invoke()
    assert result.exit_code == (2 if CLICK_VERSION >= (8, 2) else 0)
    no_crash(result)
    assert "error:" not in result.output
    assert result.output == help_text


def test_unknown_command_and_option():
    assert_error(invoke("paint"), 2, "No such command 'paint'", "(see 'neural-style --help')",
                 prefix="neural-style: error: ")
    assert_error(invoke("--bogus"), 2, "No such option '--bogus'", prefix="neural-style: error: ")
    assert_error(invoke("stylize"), 2, "Missing argument 'CONTENT'", prefix="neural-style stylize: error: ")


def test_version():
    result = invoke("--version")
    assert_ok(result)
    assert result.stdout == f"neural-style, version {__version__}\n"


def test_help_does_not_import_torch():
    code = (
        "import contextlib, io, json, sys\n"
        "from neural_style.cli import cli\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    codes = [cli.main(['--help'], prog_name='neural-style'),\n"
        "             cli.main(['stylize', '--help'], prog_name='neural-style')]\n"
        "print(json.dumps({'codes': codes, 'torch': 'torch' in sys.modules, 'help': out.getvalue()}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["codes"] == [0, 0]
    assert "--style-blend-weights" in report["help"]  # the stylize help was printed
    assert report["torch"] is False


def test_installed_entry_point_usage_error(tmp_path):
    """The real process: exit 2, one line on stderr, nothing on stdout."""
    done = subprocess.run([sys.executable, "-m", "neural_style", "stylize", "c.png", "s.png",
                           "-o", str(tmp_path / "out.png"), "--size", "abc"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("neural-style stylize: error: Invalid value for '--size': must be an integer >= 16, "
                           "got 'abc'")
    assert line.endswith("(see 'neural-style stylize --help')")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, code, stream, text", [
    (["--version"], 0, "stdout", f"neural-style, version {__version__}"),
    (["stylize", "c.png", "s.png", "-o", "out.png", "--size", "abc"], 2, "stderr",
     "neural-style stylize: error: Invalid value for '--size'"),
])
def test_a_torchrun_worker_keeps_its_exit_code_and_output(tmp_path, args, code, stream, text):
    """Under WORLD_SIZE > 1 the process ends with os._exit: its code and its buffered output (a pipe) are kept."""
    env = {**os.environ, "WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1", "MASTER_ADDR": "127.0.0.1",
           "MASTER_PORT": "29512"}  # the whole set torchrun gives each process
    done = subprocess.run([sys.executable, "-m", "neural_style", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == code, done.stderr
    assert getattr(done, stream).startswith(text), (done.stdout, done.stderr)


# --- options reach the API ------------------------------------------------------------------


def test_defaults_reach_the_api(fake_run, content_file, style_file, tmp_path):
    out = tmp_path / "out.png"
    result = invoke("stylize", content_file, style_file, "-o", out)
    assert_ok(result)
    [call] = fake_run
    assert call.content.path == content_file  # read once, at the start: the run gets the decoded images
    assert [style.path for style in call.styles] == [style_file]
    assert typed(api_kwargs(call)) == typed(API_DEFAULTS)
    # the fake's image is written, and summarised on stderr
    assert pixels(out).shape == (6, 8, 3) and (pixels(out) == 64).all()
    assert result.stdout == ""
    assert result.stderr == ("warning: the content image is 48x40 px: it is enlarged to 512x427 px (--size 512); "
                             "--size 48 keeps its size\n"
                             f"wrote {out} (1 iterations in 0.5 s on cpu, fp32; style 2, content 1.5)\n")


def test_cli_defaults_match_the_api_defaults():
    api = {f.name: f.default for f in dataclasses.fields(StylizeSettings)}
    signature = inspect.signature(run_stylize)
    api["download_progress"] = signature.parameters["download_progress"].default
    assert typed(api) == typed(API_DEFAULTS)


@pytest.mark.parametrize("args, changes", [
    (["--size", "48"], {"size": 48}),
    (["--iterations", "7"], {"iterations": 7}),
    (["--iterations", "7,3", "--scales", "128"], {"iterations": [7, 3], "scales": [128]}),
    (["--scales", "auto"], {"scales": "auto"}),
    (["--scales", "128,256"], {"scales": [128, 256]}),
    (["--optimizer", "adam"], {"optimizer": "adam"}),
    (["--lr", "0.5"], {"lr": 0.5}),
    (["--content-weight", "2"], {"content_weight": 2.0}),
    (["--style-weight", "100"], {"style_weight": 100.0}),
    (["--tv-weight", "0"], {"tv_weight": 0.0}),
    (["--tv-beta", "1"], {"tv_beta": 1.0}),
    (["--content-layers", "relu3_2:2,conv4_1"], {"content_layers": "relu3_2:2,conv4_1"}),
    (["--style-layers", "relu1_1:0.5,relu2_1"], {"style_layers": "relu1_1:0.5,relu2_1"}),
    (["--style-blend-weights", "3"], {"style_blend_weights": [3.0]}),
    (["--style-scale", "0.5"], {"style_scale": 0.5}),
    (["--init", "random"], {"init": "random"}),
    (["--init", "content"], {"init": "content"}),
    (["--original-colors"], {"original_colors": True}),
    (["--colors", "style"], {"colors": "style"}),
    (["--colors", "luminance"], {"colors": "luminance"}),
    (["--colors", "histogram"], {"colors": "histogram"}),
    (["--original-colors", "--colors", "luminance"], {"original_colors": True, "colors": "luminance"}),
    (["--model", "vgg16"], {"model": "vgg16"}),
    (["--weights", "torchvision"], {"weights": "torchvision"}),
    (["--weights-format", "caffe"], {"weights_format": "caffe"}),
    (["--pooling", "avg"], {"pooling": "avg"}),
    (["--seed", "42"], {"seed": 42}),
    (["--device", "cpu"], {"device": "cpu"}),
    (["--precision", "bf16"], {"precision": "bf16"}),
    (["--precision", "fp32"], {"precision": "fp32"}),
    (["--tile-size", "64"], {"tile_size": 64}),
    (["--tile-size", "0"], {"tile_size": 0}),
    (["--lbfgs-history", "7"], {"lbfgs_history": 7}),
    (["--bit-depth", "16"], {}),  # handled by the CLI (test_bit_depth_reaches_the_writer)
    (["--quiet"], {"download_progress": False}),
    (["-q"], {"download_progress": False}),
    (["--save-every", "2"], {}),  # handled by the CLI, not passed on
], ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_option_reaches_the_api(fake_run, content_file, style_file, tmp_path, args, changes):
    result = invoke("stylize", content_file, style_file, "-o", tmp_path / "out.png", *args)
    assert_ok(result)
    [call] = fake_run
    assert typed(api_kwargs(call)) == typed({**API_DEFAULTS, **changes})


def test_bit_depth_reaches_the_writer(fake_run, content_file, style_file, tmp_path):
    """The fake's image is 0.25 everywhere: 16384 in 16 bits, not 64 * 257 = 16448 (8 bits stretched)."""
    out = tmp_path / "out.png"
    assert_ok(invoke("stylize", content_file, style_file, "-o", out, "--bit-depth", "16"))
    data = read_image(out)
    assert data.bit_depth == 16 and data.pixels.shape == (6, 8, 3)
    assert np.unique(np.round(data.pixels * 65535)).tolist() == [16384]
    assert_ok(invoke("stylize", content_file, style_file, "-o", out, "--bit-depth", "8"))
    assert read_image(out).bit_depth == 8


def test_init_path_becomes_a_path(fake_run, content_file, style_file, tmp_path):
    start = tmp_path / "start.png"
    Image.new("RGB", (8, 8), (10, 200, 30)).save(start)
    assert_ok(invoke("stylize", content_file, style_file, "-o", tmp_path / "out.png", "--init", start))
    assert typed(api_kwargs(fake_run[0])) == typed({**API_DEFAULTS, "init": start})


def test_weights_path_and_blend_weights(fake_run, content_file, style_file, style_file2, tmp_path, vgg16_file):
    result = invoke("stylize", content_file, style_file, style_file2, "-o", tmp_path / "out.png",
                    "--weights", vgg16_file, "--style-blend-weights", "1,0.5")
    assert_ok(result)
    [call] = fake_run
    assert [style.path for style in call.styles] == [style_file, style_file2]
    assert typed(api_kwargs(call)) == typed({**API_DEFAULTS, "weights": str(vgg16_file),
                                             "style_blend_weights": [1.0, 0.5]})


def test_api_accepts_what_the_cli_passes(fake_run, content_file, style_file, tmp_path):
    """Every keyword the CLI passes is a parameter of the real run_stylize."""
    assert_ok(invoke("stylize", content_file, style_file, "-o", tmp_path / "out.png"))
    call = fake_run[0]
    kwargs = {k: call.kwargs[k] for k in ("callback", "download_progress")}
    inspect.signature(run_stylize).bind(call.content, call.styles, call.settings, **kwargs)


# --- real runs ------------------------------------------------------------------------------


def test_run_writes_the_output(content_file, style_file, tmp_path, vgg16_file):
    out = tmp_path / "results" / "out.png"
    result = invoke(*stylize_args(content_file, style_file, out, vgg16_file))
    assert_ok(result)
    with Image.open(out) as image:
        assert image.format == "PNG" and image.size == OUT_SIZE and image.mode == "RGB"
    assert sorted(p.name for p in out.parent.iterdir()) == ["out.png"]  # no temporary files left
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    precision = "bf16" if device_module._cpu_has_native_bf16() else "fp32"  # --precision auto
    assert line.startswith(f"wrote {out} (3 iterations in ") and f" s on cpu, {precision}; style " in line


def test_jpeg_output(content_file, style_file, tmp_path, vgg16_file):
    out = tmp_path / "out.jpg"
    assert_ok(invoke(*stylize_args(content_file, style_file, out, vgg16_file, "--quiet")))
    with Image.open(out) as image:
        assert image.format == "JPEG" and image.size == OUT_SIZE


def test_16_bit_png_output(content_file, style_file, tmp_path, vgg16_file):
    out = tmp_path / "out.png"
    assert_ok(invoke(*stylize_args(content_file, style_file, out, vgg16_file, "--bit-depth", "16", "-q")))
    data = read_image(out)
    assert data.bit_depth == 16 and data.pixels.shape == (OUT_SIZE[1], OUT_SIZE[0], 3)
    levels = np.unique(np.round(data.pixels * 65535))
    assert np.any(levels % 257 != 0)  # not 8-bit values stretched to 16 bits


def test_16_bit_needs_png(content_file, style_file, tmp_path, vgg16_file):
    out = tmp_path / "out.jpg"
    assert_error(invoke(*stylize_args(content_file, style_file, out, vgg16_file, "--bit-depth", "16")), 2,
                 "--bit-depth 16 needs a .png or .tif output")
    assert not out.exists()


def test_report(content_file, style_file, tmp_path, vgg16_file):
    out, report_path = tmp_path / "out.png", tmp_path / "run.json"
    assert_ok(invoke(*stylize_args(content_file, style_file, out, vgg16_file, "--report", report_path, "-q")))
    report = json.loads(report_path.read_text())
    assert {"settings", "device", "weights", "model", "image_sizes", "history", "seconds",
            "seconds_per_iteration"} <= set(report)
    assert report["device"] == "cpu" and report["model"] == "vgg16" and report["weights"] == str(vgg16_file)
    assert report["image_sizes"] == {"output": {"width": 32, "height": 27}, "styles": [{"width": 32, "height": 32}]}
    assert report["iterations"] == 3 and report["stop_reason"] == "completed"
    assert [entry["iteration"] for entry in report["history"]] == [1, 2, 3]
    for entry in report["history"]:
        assert set(entry) == {"iteration", "content", "style", "tv", "total"}
        assert all(isinstance(entry[k], float) for k in ("content", "style", "tv", "total"))
    assert report["seconds"] > 0
    assert report["seconds_per_iteration"] == pytest.approx(report["seconds"] / 3)
    settings = report["settings"]
    assert settings["size"] == 32 and settings["iterations"] == 3 and settings["init"] == "content"
    assert settings["content"] == str(content_file) and settings["styles"] == [str(style_file)]
    assert settings["output"] == str(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["content.png", "out.png", "run.json", "style.png"]


@pytest.mark.parametrize("iterations, saved", [
    (5, ["out-0002.png", "out-0004.png"]),
    (4, ["out-0002.png"]),  # the last iteration is the output itself
])
def test_save_every(content_file, style_file, tmp_path, vgg16_file, iterations, saved):
    out = tmp_path / "frames" / "out.png"
    args = ["stylize", content_file, style_file, "-o", out, "--weights", vgg16_file, "--size", "32",
            "--iterations", iterations, "--save-every", "2", "-q"]
    assert_ok(invoke(*args))
    assert sorted(p.name for p in out.parent.iterdir()) == sorted(saved + ["out.png"])
    for name in saved:
        with Image.open(out.parent / name) as image:
            assert image.size == OUT_SIZE


@pytest.mark.parametrize("iterations, clash", [(5, "out-0004.png"), (3, "out-0002.png")])
def test_save_every_never_overwrites_an_input(fake_run, content_file, style_file, tmp_path, iterations, clash):
    """An input named like an intermediate the run would write: refused before any work."""
    style = tmp_path / clash
    style.write_bytes(style_file.read_bytes())
    before = snapshot(tmp_path)
    result = invoke("stylize", content_file, style, "-o", tmp_path / "out.png", "--iterations", iterations,
                    "--save-every", "2")
    assert_error(result, 2, f"refusing to overwrite input '{style}'")
    assert fake_run == []
    assert snapshot(tmp_path) == before


def test_save_every_checks_only_the_intermediates_written(fake_run, content_file, style_file, tmp_path):
    # --iterations 4: out-0002 is written, out-0004 is not (the last iteration is the output itself)
    style = tmp_path / "out-0004.png"
    style.write_bytes(style_file.read_bytes())
    assert_ok(invoke("stylize", content_file, style, "-o", tmp_path / "out.png", "--iterations", "4",
                     "--scales", "none", "--save-every", "2"))
    assert len(fake_run) == 1


def test_animation_gif(content_file, style_file, tmp_path, vgg16_file):
    out, gif = tmp_path / "out.png", tmp_path / "anim" / "progress.gif"
    assert_ok(invoke(*stylize_args(content_file, style_file, out, vgg16_file, "--animation", gif, "-q")))
    frames = iio.imread(gif, index=None)
    assert 1 < frames.shape[0] <= 4  # 3 iterations and the result, identical neighbours may merge
    assert frames.shape[1:3] == (27, 32)
    assert out.is_file()


def test_two_styles_with_blend_weights(content_file, style_file, style_file2, tmp_path, vgg16_file):
    out, report_path = tmp_path / "out.png", tmp_path / "r.json"
    result = invoke("stylize", content_file, style_file, style_file2, "-o", out, "--weights", vgg16_file,
                    *FAST, "--style-blend-weights", "1,3", "--report", report_path)
    assert_ok(result)
    assert pixels(out).shape == (27, 32, 3)
    report = json.loads(report_path.read_text())
    assert report["image_sizes"]["styles"] == [{"width": 32, "height": 32}, {"width": 32, "height": 24}]
    assert report["settings"]["style_blend_weights"] == [1.0, 3.0]


def test_environment_variable_supplies_the_weights(monkeypatch, content_file, style_file, tmp_path, vgg16_file,
                                                   hub):
    monkeypatch.setenv(ENV_VAR, str(vgg16_file))
    out, report_path = tmp_path / "out.png", tmp_path / "r.json"
    assert_ok(invoke("stylize", content_file, style_file, "-o", out, *FAST, "--report", report_path, "-q"))
    report = json.loads(report_path.read_text())
    assert report["weights"] == str(vgg16_file) and report["model"] == "vgg16"
    assert hub.downloads == []


def test_vgg19_weights_infer_the_model(content_file, style_file, tmp_path, vgg19_file):
    out, report_path = tmp_path / "out.png", tmp_path / "r.json"
    args = ["stylize", content_file, style_file, "-o", out, "--weights", vgg19_file, "--size", "32",
            "--iterations", "2", "--report", report_path, "-q"]
    assert_ok(invoke(*args))
    report = json.loads(report_path.read_text())
    assert report["model"] == "vgg19" and report["weights"] == str(vgg19_file)
    assert pixels(out).shape == (27, 32, 3)


def test_quiet_prints_nothing(content_file, style_file, tmp_path, vgg16_file):
    out = tmp_path / "out.png"
    result = invoke(*stylize_args(content_file, style_file, out, vgg16_file, "--quiet"))
    assert_ok(result)
    assert result.output == "" and result.stdout == "" and result.stderr == ""
    assert out.is_file()


def test_random_init_is_reproducible_with_a_seed(content_file, style_file, tmp_path, vgg16_file):
    outputs = {}
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        out = tmp_path / f"{name}.png"
        args = ["stylize", content_file, style_file, "-o", out, "--weights", vgg16_file, "--size", "32",
                "--iterations", "2", "--init", "random", "--seed", seed, "-q"]
        assert_ok(invoke(*args))
        outputs[name] = pixels(out)
    np.testing.assert_array_equal(outputs["a"], outputs["b"])
    assert np.abs(outputs["a"] - outputs["c"]).mean() > 10  # another seed, another start


def test_original_colors_keep_a_grey_content_grey(grey_content_file, style_file, tmp_path, vgg16_file):
    """The style is strongly coloured: without --original-colors the output takes on colour,
    with it the chrominance is the grey content's (zero), so R == G == B up to rounding."""
    spreads = {}
    for flag in ("", "--original-colors"):
        out = tmp_path / f"out{flag}.png"
        args = ["stylize", grey_content_file, style_file, "-o", out, "--weights", vgg16_file, "--size", "32",
                "--iterations", "10", "-q"] + ([flag] if flag else [])
        assert_ok(invoke(*args))
        rgb = pixels(out)
        spreads[flag] = (rgb.max(axis=2) - rgb.min(axis=2))
    assert spreads["--original-colors"].max() <= 1
    assert spreads[""].mean() > 5


def test_original_colors_with_colors_histogram_is_one_line_exit_2(content_file, style_file, tmp_path, fake_run):
    out = tmp_path / "out.png"
    result = invoke("stylize", content_file, style_file, "-o", out, "--original-colors", "--colors", "histogram")
    assert_error(result, 2, "--original-colors is --colors luminance and cannot be combined with --colors histogram")
    assert fake_run == [] and not out.exists()


@pytest.mark.parametrize("colors", ["style", "luminance", "luminance-only", "histogram"])
def test_every_colors_value_runs_and_the_contents_colours_keep_a_grey_content_grey(
        grey_content_file, style_file, tmp_path, vgg16_file, colors):
    """With luminance and histogram the colours are the grey content's: the output is written grey; with
    style the strongly coloured style's colours come out."""
    out = tmp_path / f"out-{colors}.png"
    assert_ok(invoke("stylize", grey_content_file, style_file, "-o", out, "--weights", vgg16_file, "--size", "32",
                     "--iterations", "4", "--colors", colors, "-q"))
    rgb = pixels(out)
    spread = rgb.max(axis=2) - rgb.min(axis=2)
    assert spread.max() <= 1 if colors != "style" else spread.mean() > 5


def test_non_finite_loss(content_file, style_file, tmp_path, vgg16_file):
    """--lr 1e30 unconstrained: the first L-BFGS step overflows. The last finite image (the initial
    content) is written. (Within bounds, the default, the same step lands on the bounds: finite.)"""
    out, report_path = tmp_path / "out.png", tmp_path / "r.json"
    result = invoke(*stylize_args(content_file, style_file, out, vgg16_file, "--lr", "1e30", "--bounds",
                                  "clamp-result", "--report", report_path))
    assert_error(result, 1, "the loss became non-finite at iteration 2",
                 f"wrote the best finite image (iteration 1) to {out}")
    expected = tensor_to_array(resize_long_side(to_tensor(content_file), 32))
    np.testing.assert_array_equal(pixels(out), np.round(expected * 255).astype(np.int16))
    report = json.loads(report_path.read_text())
    assert report["stop_reason"] == "non-finite" and len(report["history"]) == 2
    assert report["history"][-1]["total"] in ("nan", "inf")
    assert report["best_iteration"] == 1


def test_non_finite_from_the_first_iteration_writes_no_image(content_file, style_file, tmp_path, vgg16_file):
    """--style-weight 1e40 overflows float32 at once: there is no finite image to write."""
    out, gif = tmp_path / "out.png", tmp_path / "a.gif"
    before = snapshot(tmp_path)
    result = invoke(*stylize_args(content_file, style_file, out, vgg16_file, "--style-weight", "1e40",
                                  "--save-every", "1", "--animation", gif))
    line = assert_error(result, 1)
    assert line == ("error: the loss was non-finite from the first iteration: "
                    "lower --style-weight/--content-weight")
    assert snapshot(tmp_path) == before  # no output, no intermediate, no animation


def test_interrupt_before_the_first_iteration_writes_no_image(monkeypatch, content_file, style_file, tmp_path):
    def interrupted(content, styles, settings, **kwargs):
        run = OptimizeResult(image=torch.zeros(1, 3, 6, 8), iterations=0, stop_reason="interrupted", best_iteration=0)
        return StylizeResult(image=run.image, run=run)

    monkeypatch.setattr(stylize_runner, "run_stylize", interrupted)
    before = snapshot(tmp_path)
    result = invoke("stylize", content_file, style_file, "-o", tmp_path / "out.png", "--size", "48")
    assert_error(result, 130, prefix="interrupted before the first iteration finished: wrote no image")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("message", [
    "DefaultCPUAllocator: can't allocate memory: you tried to allocate 123456789 bytes",
    "MPS backend out of memory (MPS allocated: 1 GB)",
])
def test_out_of_memory_is_one_line(monkeypatch, content_file, style_file, tmp_path, message):
    def out_of_memory(content, styles, settings, **kwargs):
        raise RuntimeError(message)

    monkeypatch.setattr(stylize_runner, "run_stylize", out_of_memory)
    before = snapshot(tmp_path)
    result = invoke("stylize", content_file, style_file, "-o", tmp_path / "out.png", "--size", "4096")
    warning, line = result.stderr.splitlines()  # the 48 px content enlarged, then the error
    assert result.exit_code == 1 and warning.startswith("warning: the content image is 48x40 px: it is enlarged")
    assert line == "error: out of memory at --size 4096: use a smaller --size"
    assert snapshot(tmp_path) == before


def test_other_runtime_errors_are_not_hidden(monkeypatch, content_file, style_file, tmp_path):
    """Not swallowed into exit 0: one line naming it, exit 1, and the traceback under --debug."""
    def broken(content, styles, settings, **kwargs):
        raise RuntimeError("some other failure")

    monkeypatch.setattr(stylize_runner, "run_stylize", broken)
    result = invoke("stylize", content_file, style_file, "-o", tmp_path / "out.png", "--size", "48")
    assert_error(result, 1, "RuntimeError: some other failure; run with --debug", prefix="internal error: ")
    result = invoke("--debug", "stylize", content_file, style_file, "-o", tmp_path / "out.png", "--size", "48")
    assert isinstance(result.exception, RuntimeError) and str(result.exception) == "some other failure"


# --- Ctrl-C ---------------------------------------------------------------------------------


def test_ctrl_c_during_the_loop_writes_the_best_image(monkeypatch, content_file, style_file, tmp_path, vgg16_file):
    calls = []

    def update(self, done, values=None, force=False):
        calls.append(done)
        if len(calls) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(ProgressBar, "update", update)
    out, report_path = tmp_path / "out.png", tmp_path / "r.json"
    args = ["stylize", content_file, style_file, "-o", out, "--weights", vgg16_file, "--size", "32",
            "--iterations", "6", "--report", report_path]
    result = invoke(*args)
    best = 1 + min(range(3), key=lambda i: json.loads(report_path.read_text())["history"][i]["total"])
    assert_error(result, 130, prefix=f"interrupted at iteration 3: wrote the best image so far (iteration {best}) "
                                     f"to {out}")
    assert calls == [1, 2, 3]
    assert pixels(out).shape == (27, 32, 3)
    report = json.loads(report_path.read_text())
    assert report["stop_reason"] == "interrupted" and report["iterations"] == 3


def test_ctrl_c_while_loading_writes_nothing(monkeypatch, content_file, style_file, tmp_path, vgg16_file):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(objective_module, "load_weights", interrupted)
    before = snapshot(tmp_path)
    result = invoke(*stylize_args(content_file, style_file, tmp_path / "out.png", vgg16_file))
    assert result.exit_code == 130
    no_crash(result)
    assert result.stdout == ""
    assert result.stderr.split() == ["interrupted"]
    assert snapshot(tmp_path) == before


# --- atomic output --------------------------------------------------------------------------


def test_failed_write_leaves_the_old_output(monkeypatch, fake_run, content_file, style_file, tmp_path):
    out = tmp_path / "out.png"
    Image.new("RGB", (5, 5), (1, 2, 3)).save(out)

    def encode_half(temporary, *args):
        Path(temporary).write_bytes(out.read_bytes()[:20])  # a partial file, then the disk fills up
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(encode_module, "_encode", encode_half)
    before = snapshot(tmp_path)
    result = invoke("stylize", content_file, style_file, "-o", out, "--size", "48")
    assert_error(result, 1, f"could not write '{out}'", "No space left on device")
    assert len(fake_run) == 1
    assert snapshot(tmp_path) == before  # old output intact, no temporary file left


# --- bad input ------------------------------------------------------------------------------


def _wrong_shapes(ctx):
    state = torch.load(ctx.w16, weights_only=True)
    state["features.0.weight"] = torch.zeros(64, 3, 5, 5)
    path = ctx.tmp / "wrong.pth"
    torch.save(state, path)
    return path


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


USAGE = "neural-style stylize: error: "
# Each case: ctx -> (arguments after "stylize", exit code, fragments of the message, prefix).
BAD_INPUT = {
    "missing content": lambda c: (
        [c.tmp / "nope.png", c.style, "-o", c.out, *c.fast],
        2, [f"content image '{c.tmp / 'nope.png'}' does not exist"], "error: "),
    "missing style": lambda c: (
        [c.content, c.tmp / "nope.jpg", "-o", c.out, *c.fast],
        2, [f"style image '{c.tmp / 'nope.jpg'}' does not exist"], "error: "),
    "text file as style": lambda c: (
        [c.content, _write(c.tmp / "style.txt", b"not an image\n"), "-o", c.out, *c.fast],
        2, [f"style image '{c.tmp / 'style.txt'}' is not an image Pillow can read"], "error: "),
    "empty file": lambda c: (
        [c.content, _write(c.tmp / "empty.png", b""), "-o", c.out, *c.fast],
        2, [f"style image '{c.tmp / 'empty.png'}' is an empty (0-byte) file"], "error: "),
    "truncated png": lambda c: (
        [_write(c.tmp / "cut.png", c.content.read_bytes()[:300]), c.style, "-o", c.out, *c.fast],
        2, [f"content image '{c.tmp / 'cut.png'}' is corrupt or truncated"], "error: "),
    "output is the content": lambda c: (
        [c.content, c.style, "-o", c.content, *c.fast],
        2, [f"refusing to overwrite input '{c.content}'"], "error: "),
    "output is a style": lambda c: (
        [c.content, c.style, "-o", c.style, *c.fast],
        2, [f"refusing to overwrite input '{c.style}'"], "error: "),
    "output bmp": lambda c: (
        [c.content, c.style, "-o", c.tmp / "out.bmp", *c.fast],
        2, [f"output '{c.tmp / 'out.bmp'}' has an unsupported extension '.bmp'"], "error: "),
    "output is a folder": lambda c: (
        [c.content, c.style, "-o", c.tmp, *c.fast],
        2, [f"output '{c.tmp}' is a directory: give a file name such as '{c.tmp / 'output.png'}'"], "error: "),
    "no output": lambda c: (
        [c.content, c.style, *c.fast], 2, ["Missing option '-o' / '--output'"], USAGE),
    "no style": lambda c: (
        [c.content, "-o", c.out, *c.fast], 2, ["Missing argument 'STYLES...'"], USAGE),
    "size 0": lambda c: (
        [c.content, c.style, "-o", c.out, "--size", "0"],
        2, ["Invalid value for '--size': must be an integer >= 16, got 0", "(see 'neural-style stylize --help')"],
        USAGE),
    "size abc": lambda c: (
        [c.content, c.style, "-o", c.out, "--size", "abc"],
        2, ["Invalid value for '--size': must be an integer >= 16, got 'abc'"], USAGE),
    "iterations 0": lambda c: (
        [c.content, c.style, "-o", c.out, "--iterations", "0"],
        2, ["Invalid value for '--iterations': must be an integer >= 1 or a list of them, got 0"], USAGE),
    "unknown optimizer": lambda c: (
        [c.content, c.style, "-o", c.out, "--optimizer", "sgd", *c.fast],
        2, ["Invalid value for '--optimizer': must be one of lbfgs, adam, got 'sgd'"], USAGE),
    "unknown style layer": lambda c: (
        [c.content, c.style, "-o", c.out, "--style-layers", "relu1_1,relu9_9", *c.fast],
        2, ["unknown style layer 'relu9_9' for vgg16"], "error: "),
    "unknown content layer": lambda c: (
        [c.content, c.style, "-o", c.out, "--content-layers", "relu5_4", *c.fast],
        2, ["unknown content layer 'relu5_4' for vgg16"], "error: "),
    "bad layer weight": lambda c: (
        [c.content, c.style, "-o", c.out, "--style-layers", "relu1_1:abc", *c.fast],
        2, ["bad style layer weight in 'relu1_1:abc'"], "error: "),
    "negative layer weight": lambda c: (
        [c.content, c.style, "-o", c.out, "--content-layers", "relu4_2:-1", *c.fast],
        2, ["content layer weight of relu4_2 must be a finite number >= 0"], "error: "),
    "device foo": lambda c: (
        [c.content, c.style, "-o", c.out, "--device", "foo", *c.fast],
        2, ["unknown device 'foo'"], "error: "),
    "missing weights": lambda c: (
        [c.content, c.style, "-o", c.out, "--weights", c.tmp / "none.pth", "--size", "32"],
        2, [f"weights file '{c.tmp / 'none.pth'}' does not exist"], "error: "),
    "text weights": lambda c: (
        [c.content, c.style, "-o", c.out, "--weights", _write(c.tmp / "w.pth", b"hello\n"), "--size", "32"],
        2, [f"weights '{c.tmp / 'w.pth'}' is not a PyTorch file (or is corrupt)"], "error: "),
    "wrong-shape weights": lambda c: (
        [c.content, c.style, "-o", c.out, "--weights", _wrong_shapes(c), "--size", "32"],
        2, [f"weights '{c.tmp / 'wrong.pth'}' do not match vgg16: 0.weight has shape (64, 3, 5, 5), "
            "expected (64, 3, 3, 3)"], "error: "),
    "vgg19 asked of vgg16 weights": lambda c: (
        [c.content, c.style, "-o", c.out, "--model", "vgg19", *c.fast],
        2, [f"weights '{c.w16}' are for vgg16", "pass --model vgg16"], "error: "),
    "report not json": lambda c: (
        [c.content, c.style, "-o", c.out, "--report", c.tmp / "r.txt", *c.fast],
        2, [f"report '{c.tmp / 'r.txt'}' has an unsupported extension '.txt'"], "error: "),
    "animation flv": lambda c: (
        [c.content, c.style, "-o", c.out, "--animation", c.tmp / "a.flv", *c.fast],
        2, [f"animation '{c.tmp / 'a.flv'}' has an unsupported extension '.flv'"], "error: "),
    "too few blend weights": lambda c: (
        [c.content, c.style, c.style2, "-o", c.out, "--style-blend-weights", "1", *c.fast],
        2, ["got 1 style blend weights for 2 style images"], "error: "),
    "too many blend weights": lambda c: (
        [c.content, c.style, c.style2, "-o", c.out, "--style-blend-weights", "1,2,3", *c.fast],
        2, ["got 3 style blend weights for 2 style images"], "error: "),
    "blend weight not a number": lambda c: (
        [c.content, c.style, "-o", c.out, "--style-blend-weights", "1,x", *c.fast],
        2, ["Invalid value for '--style-blend-weights': must be a list of finite numbers >= 0, got '1,x'"], USAGE),
    "negative lr": lambda c: (
        [c.content, c.style, "-o", c.out, "--lr", "-1", *c.fast],
        2, ["Invalid value for '--lr': must be a finite number > 0, got -1"], "neural-style stylize: error: "),
    "infinite lr": lambda c: (
        [c.content, c.style, "-o", c.out, "--lr", "inf", *c.fast],
        2, ["Invalid value for '--lr': must be a finite number > 0, got inf"], "neural-style stylize: error: "),
    "nan lr": lambda c: (
        [c.content, c.style, "-o", c.out, "--lr", "nan", *c.fast],
        2, ["Invalid value for '--lr': must be a finite number > 0, got nan"], "neural-style stylize: error: "),
    "infinite style scale": lambda c: (
        [c.content, c.style, "-o", c.out, "--style-scale", "inf", *c.fast],
        2, ["Invalid value for '--style-scale': must be a finite number > 0, got inf"],
        "neural-style stylize: error: "),
    "infinite tv beta": lambda c: (
        [c.content, c.style, "-o", c.out, "--tv-beta", "inf", *c.fast],
        2, ["Invalid value for '--tv-beta': must be a finite number > 0 and <= 10, got inf"],
        "neural-style stylize: error: "),
    "nan content weight": lambda c: (
        [c.content, c.style, "-o", c.out, "--content-weight", "nan", *c.fast],
        2, ["Invalid value for '--content-weight': must be a finite number >= 0, got nan"],
        "neural-style stylize: error: "),
    "infinite blend weight": lambda c: (
        [c.content, c.style, c.style2, "-o", c.out, "--style-blend-weights", "inf,1", *c.fast],
        2, ["Invalid value for '--style-blend-weights': must be a list of finite numbers >= 0, got [inf, 1]"], USAGE),
    "seed too large": lambda c: (
        [c.content, c.style, "-o", c.out, "--init", "random", "--seed", "123456789012345678901234", *c.fast],
        2, ["Invalid value for '--seed': must be an integer >= 0 and <= 9223372036854775807, got 123456789012345678901234"],
        USAGE),
    "negative seed": lambda c: (
        [c.content, c.style, "-o", c.out, "--seed", "-1", *c.fast],
        2, ["Invalid value for '--seed'"], USAGE),
    "output inside a file": lambda c: (
        [c.content, c.style, "-o", c.content / "x.png", *c.fast],
        2, [f"cannot write output '{c.content / 'x.png'}': '{c.content}' is a file, not a folder"], "error: "),
    "report inside a file": lambda c: (
        [c.content, c.style, "-o", c.out, "--report", c.style / "sub" / "r.json", *c.fast],
        2, [f"'{c.style}' is a file, not a folder"], "error: "),
    "content too small": lambda c: (
        [c.content, c.style, "-o", c.out, "--weights", c.w16, "--size", "16", "--iterations", "2"],
        2, ["the content image is 16x13 px", "use --size 19 or more"], "error: "),
    "missing init image": lambda c: (
        [c.content, c.style, "-o", c.out, "--init", c.tmp / "start.png", *c.fast],
        2, [f"init image '{c.tmp / 'start.png'}' does not exist"], "error: "),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input(case, content_file, style_file, style_file2, tmp_path, vgg16_file):
    ctx = SimpleNamespace(tmp=tmp_path, content=content_file, style=style_file, style2=style_file2,
                          out=tmp_path / "out.png", w16=vgg16_file,
                          fast=["--weights", vgg16_file, *FAST])
    args, code, fragments, prefix = BAD_INPUT[case](ctx)
    before = snapshot(tmp_path)
    result = invoke("stylize", *args)
    assert_error(result, code, *fragments, prefix=prefix)
    # nothing written: no output, no temporary file, inputs (the content above all) unchanged
    assert snapshot(tmp_path) == before


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda(content_file, style_file, tmp_path, vgg16_file):
    before = snapshot(tmp_path)
    result = invoke(*stylize_args(content_file, style_file, tmp_path / "out.png", vgg16_file, "--device", "cuda"))
    assert_error(result, 2, "device 'cuda' asked for, but CUDA is not available here")
    assert snapshot(tmp_path) == before


def test_download_failure(monkeypatch, content_file, style_file, tmp_path, hub):
    def fail(url, dst, *args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "download_url_to_file", fail)
    before = snapshot(tmp_path)
    result = invoke("stylize", content_file, style_file, "-o", tmp_path / "out.png", "--weights", "torchvision",
                    *FAST)
    url = torchvision_url("vgg19")
    assert_error(result, 1, f"could not download vgg19 weights from {url}", "no network",
                 f"put that file at {hub.cache / 'vgg19-dcbb9e9d.pth'}",
                 "pass --weights PATH or set $NEURAL_STYLE_WEIGHTS=PATH (a VGG16 or VGG19 state dict")
    assert snapshot(tmp_path) == before
    assert not (hub.cache / "vgg19-dcbb9e9d.pth").exists()


@pytest.mark.parametrize("extra", [["--size", "10000000"], ["--size", "32", "--style-scale", "1000000"]],
                         ids=["size", "style-scale"])
def test_huge_size_is_refused_before_allocating(monkeypatch, content_file, style_file, tmp_path, vgg16_file, extra):
    # The resized image would be over 10**15 bytes: more than any address space, so the
    # allocation fails at once rather than filling memory.
    monkeypatch.setattr(memory_module, "available_memory", lambda device: 1000)
    before = snapshot(tmp_path)
    result = invoke("stylize", content_file, style_file, "-o", tmp_path / "out.png", "--weights", vgg16_file,
                    "--iterations", "1", *extra)
    assert_error(result, 2, "use a smaller")
    assert snapshot(tmp_path) == before


def test_size_too_large_for_memory(monkeypatch, content_file, style_file, tmp_path, vgg16_file):
    monkeypatch.setattr(memory_module, "available_memory", lambda device: 1000)
    before = snapshot(tmp_path)
    args = ["stylize", content_file, style_file, "-o", tmp_path / "out.png", "--weights", vgg16_file,
            "--size", "48", "--iterations", "3"]
    assert_error(invoke(*args), 2, "images of 48x40 px (content) and 48x48 px (style) need about", "use a smaller --size")
    assert snapshot(tmp_path) == before
