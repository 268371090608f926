"""denoise with l1 and Charbonnier data terms (issue 27, kind 1): an automatic lambda that works on
salt-and-pepper noise, and a warning, not silence, when a run ends where it started."""

import warnings

import numpy as np
import pytest

import neural_style
from neural_style.denoising.lambda_rule import L1_TV_WEIGHT, tv_weight_for


def salt_and_pepper(size=48, density=0.1, seed=0):
    rng = np.random.default_rng(seed)
    clean = np.zeros((size, size), np.float32)
    clean[:, size // 2:] = 0.8
    clean[size // 3: 2 * size // 3, :] += 0.1
    noisy = clean.copy()
    hit = rng.random(clean.shape) < density
    noisy[hit] = (rng.random(int(hit.sum())) < 0.5).astype(np.float32)
    return clean, noisy


def psnr(x, clean):
    return 10 * np.log10(1 / np.mean((np.clip(x, 0, 1) - clean) ** 2))


@pytest.mark.parametrize("fidelity", ["l1", "charbonnier"])
def test_auto_lambda_removes_salt_and_pepper_noise(fidelity):
    clean, noisy = salt_and_pepper()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "equals the input" warning
        out = neural_style.denoise(noisy, fidelity=fidelity)
    assert psnr(out, clean) > psnr(noisy, clean) + 10
    assert tv_weight_for("auto", 0.1, 1.0, 1, "vectorial", fidelity) == L1_TV_WEIGHT
    assert tv_weight_for("auto", 0.1, 1.0, 3, "vectorial", fidelity) == pytest.approx(L1_TV_WEIGHT * 3 ** 0.5)
    assert tv_weight_for("auto", 0.1, 1.0, 1, "vectorial", "l2") < 0.2  # the l2 rule, unchanged


@pytest.mark.parametrize("fidelity", ["l1", "charbonnier"])
def test_a_lambda_that_changes_nothing_is_said(fidelity):
    _, noisy = salt_and_pepper()
    with pytest.warns(UserWarning, match=rf"the result equals the input: lambda 0.1 changed no value by half a level; "
                                         rf"raise tv_weight \(with fidelity {fidelity}, try tv_weight auto\)"):
        out = neural_style.denoise(noisy, fidelity=fidelity, tv_weight=0.1)
    assert np.abs(out - noisy).max() < 0.5 / 255


def test_the_command_line_says_it_in_one_warning_line(tmp_path):
    from PIL import Image

    from tests.clitools import assert_ok, invoke
    _, noisy = salt_and_pepper()
    path = tmp_path / "sp.png"
    Image.fromarray(np.round(noisy * 255).astype(np.uint8)).save(path)
    result = invoke("denoise", path, "-o", tmp_path / "o.png", "--fidelity", "l1", "--tv-weight", "0.1", "-q")
    assert_ok(result)
    assert result.stderr == ("warning: the result equals the input: lambda 0.1 changed no value by half a level; raise "
                             "--tv-weight (with --fidelity l1, try --tv-weight auto)\n")
