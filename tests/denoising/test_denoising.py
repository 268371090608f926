"""The denoiser on synthetic images: PSNR gains, solver agreement, types kept, bad options."""

import numpy as np
import pytest
import torch
from PIL import Image

import neural_style
from neural_style.core.metrics import psnr
from neural_style.denoising.solver import energy, run_denoise
from neural_style.errors import InputError


def piecewise(h=48, w=40, channels=1, seed=0):
    """A cartoon image (flat regions and a ramp): what TV denoising is made for."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    base = 0.2 + 0.5 * ((xx - 0.5) ** 2 + (yy - 0.4) ** 2 < 0.08).float() + 0.2 * (xx > 0.7).float() * yy
    image = base.expand(channels, h, w) * torch.rand(channels, 1, 1, generator=g).add(0.5)
    return image.clamp(0, 1)[None].contiguous()


def noisy_copy(clean, sigma, seed=1):
    g = torch.Generator().manual_seed(seed)
    return (clean + sigma * torch.randn(clean.shape, generator=g)).clamp(0, 1)


@pytest.mark.parametrize("channels, beta", [(1, 1.0), (3, 1.0), (1, 1.5), (3, 2.0)])
def test_auto_settings_raise_psnr(channels, beta):
    clean = piecewise(channels=channels)
    noisy = noisy_copy(clean, 25 / 255)
    result = run_denoise(noisy, tv_beta=beta)
    assert result.sigma_estimated and 0.7 * 25 / 255 < result.sigma < 1.3 * 25 / 255
    gain = psnr(result.image, clean) - psnr(noisy, clean)
    assert gain > 3.0, gain


@pytest.mark.slow
@pytest.mark.parametrize("channels, coupling", [(3, "vectorial"), (1, "vectorial"), (3, "channel")])
def test_primal_dual_and_lbfgs_reach_the_same_minimum(channels, coupling):
    noisy = noisy_copy(piecewise(channels=channels), 0.1)
    kwargs = dict(tv_beta=1.0, tv_weight=0.08, sigma=0.1, eps=0.0, coupling=coupling, regularizer="tv")
    pd = run_denoise(noisy, optimizer="primal-dual", iterations=2000, tolerance=1e-7, **kwargs)
    lb = run_denoise(noisy, optimizer="lbfgs", iterations=3000, tolerance=1e-9, **dict(kwargs, eps=1e-4))
    assert pd.optimizer == "primal-dual" and lb.optimizer == "lbfgs"
    e_pd = energy(pd.image, noisy, 0.08, 1.0, 0.0, coupling=coupling).item()
    e_lb = energy(lb.image, noisy, 0.08, 1.0, 0.0, coupling=coupling).item()
    assert e_pd <= e_lb * 1.001
    assert (pd.image - lb.image).abs().mean() < 2e-3


def test_a_permuted_input_is_solved_in_one_contiguous_layout(monkeypatch):
    """An (H, W, C) array seen as (1, C, H, W) has strides that made every pass ~2x slower: the solver
    gets a contiguous copy, and the result is the same."""
    from neural_style.denoising import solver

    noisy = noisy_copy(piecewise(channels=3), 0.1)
    permuted = noisy[0].permute(1, 2, 0).contiguous().permute(2, 0, 1)[None]
    assert not permuted.is_contiguous()
    seen = []
    original = solver.solve_rof

    def spy(y, *args, **kwargs):
        seen.append(y.is_contiguous())
        return original(y, *args, **kwargs)

    monkeypatch.setattr(solver, "solve_rof", spy)
    a = run_denoise(permuted, tv_weight=0.08, sigma=0.1, regularizer="tv").image
    b = run_denoise(noisy, tv_weight=0.08, sigma=0.1, regularizer="tv").image
    assert seen == [True, True]
    assert torch.equal(a, b)


def test_vectorial_coupling_beats_per_channel_on_colour_edges():
    clean = piecewise(channels=3)
    noisy = noisy_copy(clean, 0.1)
    vec = run_denoise(noisy, coupling="vectorial", sigma=0.1, regularizer="tv")
    per = run_denoise(noisy, coupling="channel", sigma=0.1, regularizer="tv")
    assert psnr(vec.image, clean) > psnr(per.image, clean)


def test_a_clean_image_comes_back_nearly_unchanged():
    clean = piecewise(channels=3)
    result = run_denoise(clean)
    assert result.sigma < 1 / 255
    assert psnr(result.image, clean) > 40


def test_l1_fidelity_removes_impulse_noise():
    clean = piecewise()
    noisy = clean.clone()
    mask = torch.rand(clean.shape, generator=torch.Generator().manual_seed(2)) < 0.1
    noisy[mask] = (torch.rand(clean.shape, generator=torch.Generator().manual_seed(3)) > 0.5).float()[mask]
    l1 = run_denoise(noisy, fidelity="l1", tv_weight=1.0, sigma=0.1)
    assert psnr(l1.image, clean) > psnr(noisy, clean) + 8
    best_l2 = max(psnr(run_denoise(noisy, tv_weight=w, sigma=0.1).image, clean) for w in (0.05, 0.1, 0.2, 0.4))
    assert psnr(l1.image, clean) > best_l2 + 3


def test_zero_weight_returns_the_input():
    noisy = noisy_copy(piecewise(), 0.1)
    result = run_denoise(noisy, tv_weight=0.0, sigma=0.1)
    assert torch.equal(result.image, noisy) and result.run.iterations == 0


@pytest.mark.parametrize("kwargs, message", [
    ({"tv_beta": 0.0}, "beta"), ({"fidelity": "l3"}, "fidelity"), ({"coupling": "x"}, "coupling"),
    ({"optimizer": "sgd"}, "optimizer"), ({"iterations": 0}, "iterations"), ({"tv_weight": -1.0}, "tv_weight"),
    ({"sigma": float("nan")}, "sigma"), ({"tv_weight": "big"}, "tv_weight"),
    ({"optimizer": "primal-dual", "tv_beta": 1.5}, "primal-dual"),
])
def test_bad_options(kwargs, message):
    with pytest.raises(InputError, match=message):
        run_denoise(piecewise(), **kwargs)


def test_api_keeps_the_kind_of_image():
    clean = piecewise(channels=3)
    noisy = noisy_copy(clean, 0.1)
    array8 = (noisy[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    out = neural_style.denoise(array8, sigma=0.1)
    assert out.dtype == np.uint8 and out.shape == array8.shape
    array16 = (noisy[0, 0].numpy() * 65535).round().astype(np.uint16)
    out16 = neural_style.denoise(array16, sigma=0.1)
    assert out16.dtype == np.uint16 and out16.shape == array16.shape
    assert len(np.unique(out16)) > 256  # 16-bit precision kept
    pil = neural_style.denoise(Image.fromarray(array8), sigma=0.1)
    assert isinstance(pil, Image.Image) and pil.mode == "RGB" and pil.size == (40, 48)
    chw = neural_style.denoise(noisy[0], sigma=0.1)
    assert isinstance(chw, torch.Tensor) and chw.shape == noisy[0].shape
    assert psnr(chw[None], clean) > psnr(noisy, clean) + 3


def test_alpha_is_passed_through_untouched():
    rgba = np.zeros((48, 40, 4), np.uint8)
    rgba[..., :3] = (noisy_copy(piecewise(channels=3), 0.1)[0].permute(1, 2, 0).numpy() * 255).round()
    rgba[..., 3] = np.arange(40, dtype=np.uint8)[None, :] * 6
    out = neural_style.denoise(rgba, sigma=0.1)
    assert np.array_equal(out[..., 3], rgba[..., 3])
    assert not np.array_equal(out[..., :3], rgba[..., :3])


def test_callback_and_history():
    steps = []
    result = run_denoise(noisy_copy(piecewise(), 0.1), sigma=0.1, callback=steps.append)
    assert steps and steps[-1].iteration == result.run.history[-1]["iteration"]
    assert result.run.stop_reason == "converged" and result.run.seconds > 0


def test_memory_is_checked_before_solving(monkeypatch):
    from neural_style.core import device
    from neural_style.errors import ResourceError

    monkeypatch.setattr(device, "available_memory", lambda dev: 10 * 2**20)  # 10 MiB free
    noisy = torch.rand(1, 3, 256, 256)  # 0.75 MiB per tensor: L-BFGS with 100 pairs needs ~170 MiB
    with pytest.raises(ResourceError, match=r"denoising 256x256 px with lbfgs needs about 1\d\d\.\d MiB .*"
                                            r"use optimizer adam or a smaller image"):
        run_denoise(noisy, optimizer="lbfgs", tv_beta=1.5, sigma=0.1)
    assert run_denoise(noisy, optimizer="primal-dual", sigma=0.1, iterations=2, tv_weight="rule",
                       regularizer="tv").image.shape \
        == noisy.shape
    with pytest.raises(ResourceError, match=r"with primal-dual needs about 16\.5 MiB on cpu but 10\.0 MiB"):
        run_denoise(noisy, optimizer="primal-dual", sigma=0.1, iterations=2, regularizer="tv")  # SURE: a batch of 2
