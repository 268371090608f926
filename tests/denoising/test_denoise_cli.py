"""``neural-style denoise`` through click's CliRunner: options, file handling, errors."""

import dataclasses
import json

import numpy as np
import pytest
from PIL import Image

from neural_style.denoising import files as denoise_files_module
from neural_style.io.decode import read_image
from neural_style.io.encode import write_image

from ..clitools import assert_error, assert_ok, invoke, snapshot


def cartoon(h=40, w=48, channels=3):
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    base = 0.25 + 0.5 * (((xx - 0.5) ** 2 + (yy - 0.4) ** 2) < 0.08) + 0.15 * (xx > 0.7)
    return np.repeat(base[..., None], channels, axis=2) * np.linspace(0.7, 1.0, channels)


def noisy_of(clean, sigma=20 / 255, seed=0):
    return np.clip(clean + np.random.default_rng(seed).normal(0, sigma, clean.shape), 0, 1)


@pytest.fixture
def pair(tmp_path):
    """A clean and a noisy 8-bit RGB PNG, in two folders with the same file name."""
    (tmp_path / "clean").mkdir()
    (tmp_path / "noisy").mkdir()
    clean = cartoon()
    write_image(tmp_path / "clean" / "a.png", clean)
    write_image(tmp_path / "noisy" / "a.png", noisy_of(clean))
    return tmp_path / "noisy" / "a.png", tmp_path / "clean" / "a.png"


def psnr(a, b):
    mse = np.mean((a - b) ** 2)
    return np.inf if mse == 0 else 10 * np.log10(1 / mse)


def test_denoises_a_file_and_reports(pair, tmp_path):
    noisy, clean = pair
    out, report = tmp_path / "out.png", tmp_path / "run.json"
    result = invoke("denoise", noisy, "-o", out, "--reference", clean, "--report", report)
    assert_ok(result)
    assert psnr(read_image(out).pixels, read_image(clean).pixels) > psnr(read_image(noisy).pixels,
                                                                           read_image(clean).pixels) + 3
    assert "mean PSNR" in result.stdout and "SSIM" in result.stdout
    assert "(estimated)" in result.stderr and " by primal-dual, sigma" in result.stderr
    record = json.loads(report.read_text())["images"][0]
    assert 10 < record["sigma_255"] < 30 and record["sigma_estimated"] is True
    assert record["tv_beta"] == 1.0 and record["optimizer"] == "primal-dual" and record["iterations"] > 0
    assert record["seconds"] > 0 and record["psnr"] > record["psnr_noisy"] and 0 < record["ssim"] <= 1


def test_several_inputs_go_into_a_folder_keeping_names(pair, tmp_path):
    noisy, clean = pair
    second = tmp_path / "noisy" / "b.png"
    write_image(second, noisy_of(cartoon(), seed=1))
    write_image(tmp_path / "clean" / "b.png", cartoon())
    out = tmp_path / "results"
    result = invoke("denoise", noisy, second, "-o", out, "--reference", clean.parent, "-q")
    assert_ok(result)
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png"]


def test_options_reach_the_solver(pair, tmp_path, monkeypatch):
    calls = []
    original = denoise_files_module.run_denoise

    def spy(noisy, settings, **kwargs):
        calls.append(dataclasses.asdict(settings))
        return original(noisy, settings, **kwargs)

    monkeypatch.setattr(denoise_files_module, "run_denoise", spy)
    noisy, _ = pair
    assert_ok(invoke("denoise", noisy, "-o", tmp_path / "o.png", "--tv-beta", "1.5", "--tv-weight", "0.05",
                     "--sigma", "20", "--fidelity", "charbonnier", "--coupling", "channel", "--optimizer", "adam",
                     "--iterations", "7", "--tolerance", "0", "--device", "cpu", "-q"))
    kwargs = calls[0]
    assert kwargs["tv_beta"] == 1.5 and kwargs["tv_weight"] == 0.05
    assert kwargs["sigma"] == pytest.approx(20 / 255)
    assert (kwargs["fidelity"], kwargs["coupling"], kwargs["optimizer"]) == ("charbonnier", "channel", "adam")
    assert (kwargs["iterations"], kwargs["tolerance"], kwargs["device"]) == (7, 0.0, "cpu")


def test_beta_below_one_warns(pair, tmp_path):
    noisy, _ = pair
    result = invoke("denoise", noisy, "-o", tmp_path / "o.png", "--tv-beta", "0.8", "--iterations", "5", "-q")
    assert_ok(result)
    assert "non-convex" in result.stderr


def test_greyscale_16_bit_stays_so(tmp_path):
    grey = (noisy_of(cartoon(channels=1)) * 65535).round().astype(np.uint16)[..., 0]
    path = tmp_path / "g16.png"
    write_image(path, grey.astype(np.float64)[..., None] / 65535, bit_depth=16)
    out = tmp_path / "g16-out.png"
    assert_ok(invoke("denoise", path, "-o", out, "-q"))
    data = read_image(out)
    assert data.bit_depth == 16 and data.pixels.shape == (40, 48, 1)
    assert len(np.unique(data.pixels)) > 256


def test_alpha_icc_and_exif_are_kept(tmp_path):
    rgb = (noisy_of(cartoon()) * 255).round().astype(np.uint8)
    alpha = np.tile(np.arange(48, dtype=np.uint8) * 5, (40, 1))
    image = Image.fromarray(np.dstack([rgb, alpha]), "RGBA")
    exif = Image.Exif()
    exif[0x010E] = "a test image"  # ImageDescription
    icc = b"\x00" * 128  # opaque bytes: passed through, not interpreted
    path = tmp_path / "rgba.png"
    image.save(path, icc_profile=icc, exif=exif)
    out = tmp_path / "rgba-out.png"
    assert_ok(invoke("denoise", path, "-o", out, "-q"))
    with Image.open(out) as result:
        assert result.mode == "RGBA"
        assert np.array_equal(np.asarray(result)[..., 3], alpha)
        assert result.info.get("icc_profile") == icc
        assert result.getexif().get(0x010E) == "a test image"


def test_clean_image_comes_back_nearly_unchanged(tmp_path):
    path = tmp_path / "clean.png"
    write_image(path, cartoon())
    out = tmp_path / "o.png"
    assert_ok(invoke("denoise", path, "-o", out, "-q"))
    assert psnr(read_image(out).pixels, read_image(path).pixels) > 40


@pytest.mark.parametrize("case", ["missing", "empty folder", "text file", "same as input", "bad extension",
                                  "bad sigma", "bad weight", "negative weight", "bad fidelity", "file for many",
                                  "missing reference", "unmatched reference", "one reference for many",
                                  "duplicate names", "report extension", "pd with beta"])
def test_bad_input(case, pair, tmp_path):
    noisy, clean = pair
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    other = tmp_path / "other"
    other.mkdir()
    (other / "a.png").write_bytes(noisy.read_bytes())
    (other / "b.png").write_bytes(noisy.read_bytes())
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "o.png"
    args, code, fragment = {
        "missing": ([tmp_path / "nope.png", "-o", out], 2, "nope.png"),
        "empty folder": ([empty, "-o", out], 2, "holds no files this command reads"),
        "text file": ([text, "-o", out], 2, "notes.png"),
        "same as input": ([noisy, "-o", noisy], 2, "refusing to overwrite"),
        "bad extension": ([noisy, "-o", tmp_path / "o.bmp"], 2, ".bmp"),
        "bad sigma": ([noisy, "-o", out, "--sigma", "lots"], 2, "--sigma"),
        "bad weight": ([noisy, "-o", out, "--tv-weight", "nan"], 2, "--tv-weight"),
        "negative weight": ([noisy, "-o", out, "--tv-weight", "-1"], 2, "--tv-weight"),
        "bad fidelity": ([noisy, "-o", out, "--fidelity", "l3"], 2, "--fidelity"),
        "file for many": ([noisy, text, "-o", clean], 2, "is a file but there are 2 inputs: pass a folder"),
        "missing reference": ([noisy, "-o", out, "--reference", tmp_path / "none"], 2, "reference"),
        "unmatched reference": ([noisy, "-o", out, "--reference", tmp_path / "noisy" / "..", ], 2, "no reference"),
        "one reference for many": ([noisy, other / "b.png", "-o", tmp_path / "d", "--reference", clean], 2,
                                   "one file"),
        "duplicate names": ([noisy, other / "a.png", "-o", tmp_path / "dir"], 2, "two inputs are named 'a.png'"),
        "report extension": ([noisy, "-o", out, "--report", tmp_path / "r.txt"], 2, "r.txt"),
        "pd with beta": ([noisy, "-o", out, "--optimizer", "primal-dual", "--tv-beta", "1.5"], 2, "primal-dual"),
    }[case]
    before = snapshot(tmp_path)
    result = invoke("denoise", *args)
    prefix = "neural-style denoise: error: " if case in ("bad sigma", "bad weight", "negative weight",
                                                          "bad fidelity") else "error: "
    assert_error(result, code, fragment, prefix=prefix)
    assert snapshot(tmp_path) == before
