"""Every shape from 1x1 up and every value range: denoised, or refused in one line before any work.

The cases of ../shared/cases/denoise: a 1x100 strip and a 2x2 image with --sigma auto (a
traceback that aborted the batch), and float data on its own range (clipped to [0, 1] before
denoising, or a 0..255 float image washed out without a word).
"""

import numpy as np
import pytest
import torch
from PIL import Image

import neural_style
from neural_style.denoising.solver import energy, run_denoise
from neural_style.errors import InputError
from tests.clitools import assert_error, assert_ok, invoke


def grey_file(path, height, width, seed=0):
    rng = np.random.default_rng(seed)
    Image.fromarray(np.clip(128 + 25 * rng.standard_normal((height, width)), 0, 255).astype(np.uint8)).save(path)
    return path


@pytest.mark.parametrize("height, width", [(1, 3), (3, 1), (1, 100), (100, 1), (2, 50), (3, 3), (16, 16)])
def test_sigma_auto_denoises_every_shape_with_three_pixels_in_a_line(tmp_path, height, width):
    src = grey_file(tmp_path / "in.png", height, width)
    assert_ok(invoke("denoise", src, "-o", tmp_path / "out.png", "--quiet"))
    assert Image.open(tmp_path / "out.png").size == (width, height)


def test_a_strip_estimate_is_the_noise_of_the_strip():
    """1-D Immerkaer along a 1 x 4000 strip of pure noise of sigma 0.1: within 5%."""
    noisy = 0.5 + 0.1 * torch.randn(1, 1, 1, 4000, generator=torch.Generator().manual_seed(0))
    result = run_denoise(noisy)
    assert result.sigma_estimated and result.sigma == pytest.approx(0.1, rel=0.05)
    assert run_denoise(noisy.transpose(-1, -2)).sigma == pytest.approx(result.sigma)


def test_a_single_pixel_with_a_given_sigma_comes_back_as_it_was():
    one = torch.full((1, 3, 1, 1), 0.3)
    result = run_denoise(one, sigma=0.1)  # its TV is 0 whatever lambda is
    assert torch.allclose(result.image, one, atol=1e-6)


@pytest.mark.parametrize("height, width", [(1, 1), (2, 2), (1, 2), (2, 1)])
def test_too_few_pixels_for_an_estimate_is_one_line_naming_the_file_and_the_option(tmp_path, height, width):
    src = grey_file(tmp_path / "tiny.png", height, width)
    result = invoke("denoise", src, "-o", tmp_path / "out.png")
    assert_error(result, 2, f"'{src}': the image is {width}x{height} px: too few pixels to estimate the noise: "
                            "pass --sigma (0..255)")
    assert not (tmp_path / "out.png").exists()
    assert_ok(invoke("denoise", src, "--sigma", "20", "-o", tmp_path / "out.png", "--quiet"))


def test_a_batch_keeps_the_other_files_and_exits_1(tmp_path):
    tiny, ok = grey_file(tmp_path / "tiny.png", 2, 2), grey_file(tmp_path / "ok.png", 16, 16)
    result = invoke("denoise", tiny, ok, "-o", tmp_path / "out", "--quiet")
    assert result.exit_code == 1 and "tiny.png" in result.stderr.splitlines()[0]
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["ok.png"]


def clean_and_noisy(sigma=50 / 255, seed=0):
    """A piecewise-constant 64x64 image with noise of ``sigma`` in float64, not clipped (10-20% leave [0, 1])."""
    clean = np.full((64, 64), 0.5)
    clean[8:40, 8:40], clean[30:60, 20:56] = 0.9, 0.1
    return clean, clean + np.random.default_rng(seed).normal(0, sigma, clean.shape)


def test_float_data_is_denoised_as_given_not_clipped_first():
    clean, noisy = clean_and_noisy()
    assert 0.1 < ((noisy < 0) | (noisy > 1)).mean() < 0.3
    out = neural_style.denoise(noisy, sigma=50 / 255, tv_weight=0.17)
    assert out.dtype == np.float64 and out.shape == noisy.shape
    clipped_first = neural_style.denoise(np.clip(noisy, 0, 1), sigma=50 / 255, tv_weight=0.17)
    y = torch.from_numpy(noisy)[None, None]

    def e(x):
        return float(energy(torch.from_numpy(x)[None, None], y, 0.17, 1.0))

    assert e(out) < e(clipped_first)  # the ROF minimiser of the data as given
    assert e(out) <= e(np.clip(out, 0, 1))  # and not clipped afterwards either

    def mse(x):
        return np.mean((x - clean) ** 2)

    assert mse(out) < mse(clipped_first)


def test_float_data_matches_scikit_image_on_unclipped_noise():
    """The case's expectation: within 0.3 dB of denoise_tv_chambolle at the same weight (it means the same)."""
    skimage = pytest.importorskip("skimage.restoration")
    clean = np.asarray(Image.open(_shared_case("clean_64.png")), dtype=np.float64) / 255 \
        if _shared_case("clean_64.png") else clean_and_noisy()[0]
    for seed in range(3):
        noisy = clean + np.random.default_rng(seed).normal(0, 50 / 255, clean.shape)
        ours = neural_style.denoise(noisy, sigma=50 / 255, tv_weight=0.17)
        theirs = skimage.denoise_tv_chambolle(noisy, weight=0.17)
        assert _psnr(ours, clean) > _psnr(theirs, clean) - 0.3


def _shared_case(name):
    from tests.conftest import shared_dir

    path = shared_dir() / "cases" / "denoise" / name
    return path if path.is_file() else None


def _psnr(x, clean):
    return 10 * np.log10(1 / np.mean((x - clean) ** 2))


@pytest.mark.parametrize("make", [lambda a: a * 255, lambda a: torch.from_numpy(a * 255)[None]],
                         ids=["array", "tensor"])
def test_float_data_on_the_0_255_scale_is_refused_in_one_line(make):
    _, noisy = clean_and_noisy()
    with pytest.raises(InputError, match=r"values span \[.*\]: expected floats on the \[0, 1\] scale: divide "
                                         r"0..255 data by 255"):
        neural_style.denoise(make(noisy))


def test_integer_arrays_and_files_come_back_clipped_to_their_range():
    _, noisy = clean_and_noisy(sigma=0.3)
    as_uint8 = np.round(np.clip(noisy, 0, 1) * 255).astype(np.uint8)
    out = neural_style.denoise(as_uint8, sigma=0.3)
    assert out.dtype == np.uint8
    tensor_out = neural_style.denoise(torch.from_numpy(noisy).float()[None], sigma=0.3)
    assert tensor_out.shape == (1, 64, 64) and tensor_out.dtype == torch.float32


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_values_are_refused(value):
    _, noisy = clean_and_noisy()
    noisy[3, 4] = value
    with pytest.raises(InputError, match="NaN or infinite"):
        neural_style.denoise(noisy)


def test_a_file_name_as_the_output_of_several_inputs_is_refused(tmp_path):
    a, b = grey_file(tmp_path / "a.png", 8, 8), grey_file(tmp_path / "b.png", 8, 8, seed=1)
    result = invoke("denoise", a, b, "-o", tmp_path / "x.png")
    assert_error(result, 2, f"output '{tmp_path / 'x.png'}' looks like a file but there are 2 inputs: pass a folder")
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("sigma", ["256", "1e9"])
def test_sigma_above_the_0_255_scale_is_refused(tmp_path, sigma):
    src = grey_file(tmp_path / "a.png", 8, 8)
    result = invoke("denoise", src, "-o", tmp_path / "o.png", "--sigma", sigma)
    assert_error(result, 2, "Invalid value for '--sigma'", "0..255", prefix="neural-style denoise: error: ")


def test_an_unknown_device_is_one_usage_error_before_any_file(tmp_path):
    """Not a failure per file (exit 1): the device is a setting of the whole run."""
    files = [grey_file(tmp_path / f"n{i}.png", 16, 16, seed=i) for i in range(2)]
    result = invoke("denoise", *files, "-o", tmp_path / "out", "--device", "bogus")
    assert_error(result, 2, "unknown device 'bogus'")
    assert not (tmp_path / "out").exists()
    from neural_style.denoising.runner import denoise_files

    with pytest.raises(InputError, match="unknown device 'bogus'"):
        denoise_files([(f, tmp_path / "out" / f.name) for f in files], device="bogus")


def test_denoise_files_takes_settings_as_keyword_arguments(tmp_path):
    from neural_style.denoising.runner import denoise_files

    source = grey_file(tmp_path / "n.png", 16, 16)
    with pytest.raises(InputError, match="tv_beta must be a finite number > 0"):
        denoise_files([(source, tmp_path / "o.png")], tv_beta=float("inf"))
    batch = denoise_files([(source, tmp_path / "o.png")], tv_beta=1.5, sigma=20 / 255)
    assert batch.records[0]["tv_beta"] == 1.5 and (tmp_path / "o.png").is_file()
