"""Tests of neural_style.core.metrics: hand-computed PSNR, SSIM against scikit-image, noise estimates."""

import math

import numpy as np
import pytest
import torch
from torch.autograd import gradcheck

from neural_style.core.metrics import estimate_sigma, estimate_sigma_haar, psnr, ssim

from ..conftest import shared_dir

F64 = torch.float64
ESTIMATORS = [estimate_sigma, estimate_sigma_haar]


def t(values):
    return torch.tensor(values, dtype=F64)


def close(actual, expected, **kw):
    expected = expected if isinstance(expected, torch.Tensor) else t(expected)
    torch.testing.assert_close(actual, expected.to(actual.dtype), **kw)


def pattern(c, h, w, fi, fj, amp):
    """A deterministic (1, C, H, W) float64 image 0.5 + amp sin(fi i + fj j + c)."""
    i = torch.arange(h, dtype=F64).view(1, h, 1)
    j = torch.arange(w, dtype=F64).view(1, 1, w)
    k = torch.arange(c, dtype=F64).view(c, 1, 1)
    return (0.5 + amp * torch.sin(fi * i + fj * j + k))[None]


def smooth_image(h=256, w=256):
    """A smooth, noiseless (1, 3, H, W) float64 image with values in [0.2, 0.8]."""
    scale = max(h, w)
    yy, xx = torch.meshgrid(
        torch.arange(h, dtype=F64) / scale, torch.arange(w, dtype=F64) / scale, indexing="ij"
    )
    base = torch.stack(
        [torch.sin(2 * math.pi * xx) * torch.cos(math.pi * yy), torch.cos(3 * xx + 2 * yy), xx * yy]
    )
    return (0.5 + 0.3 * base)[None]


# --------------------------------------------------------------------- PSNR


# image     = [[0, 0.5], [1, 0.25]], reference = [[0, 0.25], [0.5, 0.25]]
# squared differences 0, 0.0625, 0.25, 0 -> MSE = 0.3125 / 4 = 0.078125
# PSNR = 10 log10(1 / 0.078125) = 10 log10(12.8) = 11.07209969647868 dB
PSNR_IMAGE = [[[[0.0, 0.5], [1.0, 0.25]]]]
PSNR_REFERENCE = [[[[0.0, 0.25], [0.5, 0.25]]]]
PSNR_VALUE = 11.07209969647868


def test_psnr_hand_value():
    close(psnr(t(PSNR_IMAGE), t(PSNR_REFERENCE)), PSNR_VALUE)
    close(psnr(t(PSNR_IMAGE), t(PSNR_REFERENCE), reduction="none"), [PSNR_VALUE])


def test_psnr_data_range():
    # the same images on the 0..255 scale: MSE = 0.078125 * 255^2, the same PSNR
    image, reference = 255 * t(PSNR_IMAGE), 255 * t(PSNR_REFERENCE)
    close(psnr(image, reference, data_range=255), PSNR_VALUE)
    # data_range 2 adds 10 log10(4) = 6.020599913279624 dB
    close(psnr(t(PSNR_IMAGE), t(PSNR_REFERENCE), data_range=2), PSNR_VALUE + 6.020599913279624)


def test_psnr_batch_reductions():
    # second image: a constant error of 0.1 -> MSE 0.01 -> 10 log10(100) = 20 dB
    image = torch.cat([t(PSNR_IMAGE), torch.zeros(1, 1, 2, 2, dtype=F64)])
    reference = torch.cat([t(PSNR_REFERENCE), torch.full((1, 1, 2, 2), 0.1, dtype=F64)])
    none = psnr(image, reference, reduction="none")
    assert none.shape == (2,)
    close(none, [PSNR_VALUE, 20.0])
    mean = psnr(image, reference)
    assert mean.shape == ()
    close(mean, (PSNR_VALUE + 20.0) / 2)


def test_psnr_mse_over_channels():
    x = torch.rand(3, 4, 5, 6, dtype=F64)
    y = torch.rand(3, 4, 5, 6, dtype=F64)
    mse = (x - y).square().flatten(1).mean(1)
    close(psnr(x, y, reduction="none"), 10 * torch.log10(1 / mse))


def test_psnr_identical_is_inf():
    x = torch.rand(2, 3, 8, 8)
    assert torch.isinf(psnr(x, x)) and psnr(x, x) > 0
    assert torch.isinf(psnr(x, x.clone(), reduction="none")).all()


def test_psnr_matches_skimage():
    metrics = pytest.importorskip("skimage.metrics")
    rng = np.random.default_rng(3)
    x = rng.random((3, 20, 24))
    y = np.clip(x + 0.05 * rng.standard_normal(x.shape), 0, 1)
    expected = metrics.peak_signal_noise_ratio(x, y, data_range=1)
    close(psnr(torch.from_numpy(y)[None], torch.from_numpy(x)[None]), expected)


def test_psnr_half_and_gradient():
    x = torch.rand(2, 3, 8, 8)
    y = torch.rand(2, 3, 8, 8)
    assert psnr(x.half(), y.half()).dtype == torch.float32
    assert psnr(x, y).dtype == torch.float32
    a = torch.rand(2, 2, 3, 3, dtype=F64, requires_grad=True)
    b = torch.rand(2, 2, 3, 3, dtype=F64)
    assert gradcheck(lambda z: psnr(z, b), (a,))


# --------------------------------------------------------------------- SSIM


# Computed with scikit-image 0.26:
# structural_similarity(x[0].numpy(), y[0].numpy(), data_range=1, gaussian_weights=True,
#                       sigma=1.5, use_sample_covariance=False, channel_axis=0)
# for x = pattern(2, 13, 16, 0.7, 1.3, 0.4), y = pattern(2, 13, 16, 0.6, 1.3, 0.35);
# and for their first channels alone (channel_axis=None).
SSIM_PATTERN = 0.8068400848925008
SSIM_PATTERN_GREY = 0.8067704352277733


def test_ssim_exact_value():
    x = pattern(2, 13, 16, 0.7, 1.3, 0.4)
    y = pattern(2, 13, 16, 0.6, 1.3, 0.35)
    close(ssim(x, y), SSIM_PATTERN, rtol=0, atol=1e-12)
    close(ssim(x[:, :1], y[:, :1]), SSIM_PATTERN_GREY, rtol=0, atol=1e-12)
    close(ssim(x.float(), y.float()), SSIM_PATTERN, rtol=0, atol=1e-5)
    close(ssim(y, x), SSIM_PATTERN, rtol=0, atol=1e-12)  # symmetric


def test_ssim_identical_is_one():
    x = torch.rand(2, 3, 20, 17)
    close(ssim(x, x), 1.0)
    close(ssim(x, x.clone(), reduction="none"), torch.ones(2))
    close(ssim(x.double(), x.double()), 1.0)


def test_ssim_reductions():
    x = torch.rand(3, 2, 16, 16, dtype=F64)
    y = (x + 0.1 * torch.randn(3, 2, 16, 16, dtype=F64)).clamp(0, 1)
    none = ssim(x, y, reduction="none")
    assert none.shape == (3,)
    mean = ssim(x, y)
    assert mean.shape == ()
    close(mean, none.mean())
    for b in range(3):
        close(ssim(x[b : b + 1], y[b : b + 1]), none[b])
    assert (none < 1).all()


@pytest.mark.parametrize("shape", [(11, 11, 3), (32, 45, 3), (40, 33, 1), (13, 60, 2)])
def test_ssim_matches_skimage(shape):
    metrics = pytest.importorskip("skimage.metrics")
    rng = np.random.default_rng(sum(shape))
    x = rng.random(shape)
    y = np.clip(x + 0.1 * rng.standard_normal(shape), 0, 1)
    expected = metrics.structural_similarity(
        x, y, data_range=1, gaussian_weights=True, sigma=1.5,
        use_sample_covariance=False, channel_axis=-1,
    )
    image, reference = (torch.from_numpy(a).permute(2, 0, 1)[None] for a in (x, y))
    assert abs(ssim(image, reference).item() - expected) < 1e-4
    assert abs(ssim(image, reference).item() - expected) < 1e-10  # float64: to rounding
    # data_range scales with the values
    scaled = ssim(255 * image, 255 * reference, data_range=255).item()
    assert abs(scaled - expected) < 1e-10


def test_ssim_matches_skimage_on_a_photo():
    metrics = pytest.importorskip("skimage.metrics")
    path = shared_dir() / "denoise" / "Kodak24" / "kodim01.png"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    from PIL import Image

    clean = np.asarray(Image.open(path), dtype=np.float64) / 255
    noisy = np.clip(clean + 0.1 * np.random.default_rng(0).standard_normal(clean.shape), 0, 1)
    expected = metrics.structural_similarity(
        clean, noisy, data_range=1, gaussian_weights=True, sigma=1.5,
        use_sample_covariance=False, channel_axis=-1,
    )
    image, reference = (torch.from_numpy(a).permute(2, 0, 1)[None] for a in (noisy, clean))
    assert abs(ssim(image, reference).item() - expected) < 1e-10
    assert abs(ssim(image.float(), reference.float()).item() - expected) < 1e-4


def test_ssim_half_and_gradient():
    x = torch.rand(1, 3, 12, 12)
    assert ssim(x.half(), x.half()).dtype == torch.float32
    a = torch.rand(2, 1, 12, 13, dtype=F64, requires_grad=True)
    b = torch.rand(2, 1, 12, 13, dtype=F64)
    assert gradcheck(lambda z: ssim(z, b), (a,), fast_mode=True)


# -------------------------------------------------------------- noise level


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("sigma255", [10, 25, 50])
def test_estimate_sigma_synthetic(estimator, sigma255):
    clean = smooth_image()
    g = torch.Generator().manual_seed(sigma255)
    noisy = clean + sigma255 / 255 * torch.randn(clean.shape, generator=g, dtype=F64)  # not clipped
    estimate = estimator(noisy)
    assert estimate.shape == (1,)
    assert abs(estimate.item() / (sigma255 / 255) - 1) < 0.10


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_estimate_sigma_clean_smooth(estimator):
    assert estimator(smooth_image()).item() < 1 / 255
    assert estimator(smooth_image().float()).item() < 1 / 255
    assert estimator(torch.full((1, 1, 9, 9), 0.5)).item() == 0


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_estimate_sigma_batch_and_scale(estimator):
    g = torch.Generator().manual_seed(0)
    noise = torch.randn(1, 3, 64, 64, generator=g, dtype=F64)
    batch = smooth_image(64, 64) + torch.cat([0.02 * noise, 0.2 * noise])
    estimate = estimator(batch)
    assert estimate.shape == (2,)
    close(estimate[1], 10 * estimate[0], rtol=0.02, atol=0)
    close(estimator(255 * batch), 255 * estimate)  # on the scale of the image
    close(estimator(batch[1:]), estimate[1:])
    assert estimator(batch.half()).dtype == torch.float32


def test_estimate_sigma_edge_fraction_zero_is_immerkaer():
    x = torch.rand(2, 3, 10, 12, dtype=F64)
    kernel = t([[1, -2, 1], [-2, 4, -2], [1, -2, 1]]).view(1, 1, 3, 3).expand(3, 1, 3, 3)
    residual = torch.nn.functional.conv2d(x, kernel, groups=3)
    expected = math.sqrt(math.pi / 2) / 6 * residual.abs().flatten(1).mean(1)
    close(estimate_sigma(x, edge_fraction=0), expected)


def test_estimate_sigma_cancels_separable_content():
    # N = (1, -2, 1)^T (1, -2, 1) annihilates a(i) + b(j) + i c(j) + j d(i)
    g = torch.Generator().manual_seed(0)
    a, d = torch.randn(2, 9, 1, dtype=F64, generator=g)  # functions of the row i
    b, c = torch.randn(2, 1, 11, dtype=F64, generator=g)  # functions of the column j
    i = torch.arange(9, dtype=F64).view(9, 1)
    j = torch.arange(11, dtype=F64).view(1, 11)
    x = (a + b + i * c + j * d).view(1, 1, 9, 11)
    assert estimate_sigma(x, edge_fraction=0).item() < 1e-12
    assert estimate_sigma(x).item() < 1e-12


def test_estimate_sigma_haar_hand_value():
    # one 2x2 block [[a, b], [c, d]] = [[1, 0], [0, 0]]: HH = (1 - 0 - 0 + 0) / 2 = 0.5
    # median |HH| = 0.5 -> sigma = 0.5 / 0.6744897501960817; an odd last row is ignored
    x = t([[[[1.0, 0.0], [0.0, 0.0], [9.0, 9.0]]]])
    close(estimate_sigma_haar(x), [0.5 / 0.6744897501960817])


PHOTOS = [("Kodak24", "kodim01.png"), ("Set12", "01.png")]


def noisy_photo(path, sigma255):
    """8-bit noise as in ../shared/denoise/PEERS.md: default_rng(0), rounded, clipped."""
    from PIL import Image

    clean = np.asarray(Image.open(path), dtype=np.float64)
    rng = np.random.default_rng(0)
    noisy = np.clip(np.round(clean + rng.normal(0.0, sigma255, clean.shape)), 0, 255) / 255
    image = torch.from_numpy(noisy)
    return image[None, None] if image.ndim == 2 else image.permute(2, 0, 1)[None]


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("sigma255", [15, 25, 50])
@pytest.mark.parametrize("folder, name", PHOTOS)
def test_estimate_sigma_photo(estimator, sigma255, folder, name):
    path = shared_dir() / "denoise" / folder / name
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    estimate = estimator(noisy_photo(path, sigma255)).item() * 255
    # clipping removes part of the noise at sigma 50 and texture adds some at sigma 15
    assert abs(estimate / sigma255 - 1) < 0.25, estimate


# ------------------------------------------------------------------- checks


X = torch.rand(1, 3, 12, 12)


@pytest.mark.parametrize("metric", [psnr, ssim])
def test_pair_checks(metric):
    with pytest.raises(TypeError, match="expected image"):
        metric(X.numpy(), X)
    with pytest.raises(TypeError, match="expected reference"):
        metric(X, (X * 255).to(torch.uint8))
    with pytest.raises(ValueError, match="expected image of shape"):
        metric(X[0], X[0])
    with pytest.raises(ValueError, match="expected image and reference of the same shape"):
        metric(X, X[:, :1])
    with pytest.raises(ValueError, match="expected image with no empty"):
        metric(X[:0], X[:0])
    with pytest.raises(ValueError, match="expected data_range > 0"):
        metric(X, X, data_range=0)
    with pytest.raises(TypeError, match="expected data_range"):
        metric(X, X, data_range="1")
    with pytest.raises(ValueError, match="expected reduction"):
        metric(X, X, reduction="sum")


def test_ssim_small_image():
    x = torch.rand(1, 3, 10, 40)
    with pytest.raises(ValueError, match="expected images at least 11x11"):
        ssim(x, x)
    with pytest.raises(ValueError, match="expected images at least 11x11"):
        ssim(x.transpose(2, 3), x.transpose(2, 3))


def test_estimate_sigma_checks():
    for estimator in ESTIMATORS:
        with pytest.raises(TypeError, match="expected image"):
            estimator([[0.5]])
        with pytest.raises(TypeError, match="expected image"):
            estimator(torch.zeros(1, 1, 8, 8, dtype=torch.int64))
        with pytest.raises(ValueError, match="expected image of shape"):
            estimator(torch.rand(8, 8))
    with pytest.raises(ValueError, match="expected an image at least 3x3"):
        estimate_sigma(torch.rand(1, 1, 2, 8))
    with pytest.raises(ValueError, match="expected an image at least 2x2"):
        estimate_sigma_haar(torch.rand(1, 1, 8, 1))
    with pytest.raises(ValueError, match="expected edge_fraction < 1"):
        estimate_sigma(X, edge_fraction=1.0)
    with pytest.raises(ValueError, match="expected edge_fraction >= 0"):
        estimate_sigma(X, edge_fraction=-0.1)
