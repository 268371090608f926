"""Property-based tests of the command line (Hypothesis): whatever the options and the image,
no traceback, an exit code in {0, 1, 2, 130} and no partial output.

Each command runs through CliRunner on tiny generated images (1xN and Nx1 among them) with
option values drawn from valid, boundary and invalid ones (NaN, infinities, negatives, words).
The examples are bounded so that the suite stays within a minute here.
"""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from neural_style.fast.model_file import save_model
from neural_style.fast.transformer import TransformerNet

from .clitools import invoke, no_crash

EXIT_CODES = {0, 1, 2, 130}
PROPERTY = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

sides = st.sampled_from([1, 2, 3, 7, 16, 33])
numbers = st.one_of(st.sampled_from(["nan", "inf", "-inf", "-1", "0", "1e999", "1e300", "abc", "", "1,2"]),
                    st.floats(min_value=-10, max_value=10, allow_nan=False).map(lambda x: f"{x:g}"))
counts = st.one_of(st.sampled_from(["0", "-3", "1.5", "abc", "", "99999999999999999999"]),
                   st.integers(min_value=1, max_value=3).map(str))


def image_file(folder: Path, name: str, height: int, width: int, mode: str) -> Path:
    rng = np.random.default_rng(height * 100 + width)
    channels = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
    pixels = rng.integers(0, 255, (height, width, channels), dtype=np.uint8)
    path = folder / name
    Image.fromarray(pixels[..., 0] if mode == "L" else pixels, mode).save(path)
    return path


def check_outcome(result, folder: Path, outputs):
    """No traceback, a known exit code, no temporary files; each output absent or a whole image."""
    no_crash(result)
    assert result.exit_code in EXIT_CODES, (result.exit_code, result.output)
    assert not [p for p in folder.rglob(".*") if p.is_file()], "a temporary file was left behind"
    for out in outputs:
        if out.is_file():
            with Image.open(out) as image:
                image.load()
    if result.exit_code != 0:
        lines = result.stderr.strip().splitlines()
        assert lines and all(len(line) < 600 for line in lines), result.stderr
        assert not lines[-1].startswith("internal error"), lines[-1]  # a bug, caught by the last resort


def option_list(draw, options):
    chosen = draw(st.lists(st.sampled_from(sorted(options)), max_size=4, unique=True))
    return [part for name in chosen for part in (name, draw(options[name]))]


STYLIZE = {"--size": st.one_of(st.sampled_from(["16", "24", "4", "0", "100000000", "x"])), "--iterations": counts,
           "--tv-beta": numbers, "--tv-weight": numbers, "--style-weight": numbers, "--content-weight": numbers,
           "--lr": numbers, "--style-scale": st.sampled_from(["0.5", "1", "0", "inf", "nan", "1e-9"]),
           "--optimizer": st.sampled_from(["lbfgs", "adam", "sgd"]),
           "--scales": st.sampled_from(["none", "auto", "16", "16,8", "x", ""]),
           "--tile-size": st.sampled_from(["auto", "0", "16", "-1", "x"]),
           "--pooling": st.sampled_from(["max", "avg"]), "--init": st.sampled_from(["content", "random", "nowhere"])}


@pytest.mark.slow
@PROPERTY
@given(data=st.data(), h=sides, w=sides, mode=st.sampled_from(["L", "RGB", "RGBA"]))
def test_stylize_never_crashes(data, h, w, mode, tmp_path_factory, vgg16_file):
    folder = tmp_path_factory.mktemp("stylize")
    content = image_file(folder, "c.png", h, w, mode)
    style = image_file(folder, "s.png", w + 16, h + 16, "RGB")
    out = folder / "o.png"
    options = option_list(data.draw, STYLIZE)
    if "--iterations" not in options:
        options += ["--iterations", "2"]
    if "--size" not in options:
        options += ["--size", "24"]
    result = invoke("stylize", content, style, "-o", out, "--weights", vgg16_file, "--quiet", *options)
    check_outcome(result, folder, [out])


DENOISE = {"--tv-beta": numbers, "--tv-weight": st.one_of(st.just("auto"), numbers),
           "--sigma": st.one_of(st.just("auto"), numbers), "--iterations": counts,
           "--fidelity": st.sampled_from(["l2", "l1", "charbonnier", "l3"]),
           "--optimizer": st.sampled_from(["auto", "primal-dual", "lbfgs", "adam", "x"]),
           "--tolerance": numbers}


@PROPERTY
@given(data=st.data(), h=sides, w=sides, mode=st.sampled_from(["L", "RGB", "RGBA"]))
def test_denoise_never_crashes(data, h, w, mode, tmp_path_factory):
    folder = tmp_path_factory.mktemp("denoise")
    noisy = image_file(folder, "n.png", h, w, mode)
    out = folder / "o.png"
    options = option_list(data.draw, DENOISE)
    if "--iterations" not in options:
        options += ["--iterations", "5"]
    result = invoke("denoise", noisy, "-o", out, "--quiet", *options)
    check_outcome(result, folder, [out])


TRANSFER = {"--size": st.sampled_from(["16", "4", "0", "100000", "x"]), "--batch-size": counts}


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    return save_model(tmp_path_factory.mktemp("model") / "m.pth", TransformerNet(width=0.25), {"steps": 0})


@PROPERTY
@given(data=st.data(), h=sides, w=sides, mode=st.sampled_from(["L", "RGB", "RGBA"]))
def test_transfer_never_crashes(data, h, w, mode, tmp_path_factory, model_file):
    folder = tmp_path_factory.mktemp("transfer")
    image = image_file(folder, "i.png", h, w, mode)
    out = folder / "o.png"
    result = invoke("transfer", model_file, image, "-o", out, "--quiet", *option_list(data.draw, TRANSFER))
    check_outcome(result, folder, [out])


TRAIN = {"--image-size": st.sampled_from(["16", "8", "x"]), "--batch-size": counts, "--lr": numbers,
         "--tv-beta": numbers, "--style-weight": numbers, "--width": st.sampled_from(["0.25", "0", "nan", "-1"]),
         "--checkpoint-every": counts}


@pytest.mark.slow
@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), h=sides, w=sides)
def test_train_never_crashes(data, h, w, tmp_path_factory, vgg16_file):
    folder = tmp_path_factory.mktemp("train")
    photos = folder / "photos"
    photos.mkdir()
    image_file(photos, "p.png", h, w, "RGB")
    style = image_file(folder, "s.png", 20, 24, "RGB")
    out = folder / "m.pth"
    options = option_list(data.draw, TRAIN)
    if "--width" not in options:
        options += ["--width", "0.25"]
    if "--image-size" not in options:
        options += ["--image-size", "16"]
    result = invoke("train", style, "--dataset", photos, "-o", out, "--weights", vgg16_file, "--iterations", "2",
                    "--quiet", *options)
    check_outcome(result, folder, [])
