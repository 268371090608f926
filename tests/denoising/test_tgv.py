"""TGV² denoising: the operators and their adjoints, exact energies, the solver's minimum, no staircases."""

import math

import pytest
import torch

from neural_style.denoising import tgv
from neural_style.denoising.rof import rof_primal_dual
from neural_style.denoising.solver import run_denoise
from neural_style.errors import InputError

from ..clitools import assert_error, assert_ok, invoke


def rand(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize("shape", [(2, 3, 7, 9), (1, 1, 1, 5), (1, 2, 4, 1)])
def test_the_adjoints_satisfy_the_inner_product_identity(shape):
    b, c, h, w = shape
    x, p = rand(b, c, h, w), rand(b, c, 2, h, w, seed=1)
    assert float((tgv.grad(x) * p).sum()) == pytest.approx(float((x * tgv.grad_adjoint(p)).sum()), abs=1e-12)
    field, q = rand(b, c, 2, h, w, seed=2), rand(b, c, 3, h, w, seed=3)
    weights = torch.tensor([1.0, 1.0, 2.0], dtype=torch.float64).view(1, 1, 3, 1, 1)  # e12 counts twice
    assert float((tgv.sym_grad(field) * q * weights).sum()) == \
        pytest.approx(float((field * tgv.sym_grad_adjoint(q)).sum()), abs=1e-12)


def test_exact_energies_on_a_2x2_image():
    x = torch.tensor([[[[0.0, 1.0], [2.0, 4.0]]]], dtype=torch.float64)
    zero = torch.zeros(1, 1, 2, 2, 2, dtype=torch.float64)
    # grad x per pixel: (1, 2), (0, 3), (2, 0), (0, 0): sqrt(5) + 3 + 2
    assert float(tgv.tgv_energy(x, zero, x, 0.5, 1.0)) == pytest.approx(0.5 * (math.sqrt(5) + 5))
    constant = zero.clone()
    constant[:, :, 0] = 1.0  # w = (1, 0) everywhere: E w = 0; grad x - w: (0, 2), (-1, 3), (1, 0), (-1, 0)
    y = x + 1.0  # data term 0.5 * 4
    assert float(tgv.tgv_energy(x, constant, y, 0.5, 1.0)) == pytest.approx(2 + 0.5 * (2 + math.sqrt(10) + 2))
    ramp = zero.clone()
    ramp[0, 0, 0] = torch.tensor([[0.0, 1.0], [0.0, 1.0]])  # E w: e11 = dx w1 = (1, 0; 1, 0)
    assert float(tgv.tgv_energy(x, ramp, x, 0.0, 3.0)) == pytest.approx(3.0 * 2)


def test_the_energy_is_differentiable_away_from_zero_norms():
    x, w, y = rand(1, 2, 4, 5).requires_grad_(), rand(1, 2, 2, 4, 5, seed=1).requires_grad_(), rand(1, 2, 4, 5, seed=2)
    assert torch.autograd.gradcheck(lambda a, b: tgv.tgv_energy(a, b, y, 0.3, 0.7), (x, w))
    assert torch.autograd.gradcheck(lambda a, b: tgv.tgv_energy(a, b, y, 0.3, 0.7, vectorial=False), (x, w))


def test_the_solver_reaches_the_minimum():
    y = rand(1, 3, 16, 20).float() * 0.1 + 0.5
    run, (x, w, _, _) = tgv.solve_tgv(y, 0.05, True, 5000, 1e-7)
    best = float(tgv.tgv_energy(x, w, y, 0.05, 0.1))
    for seed in range(5):  # every nearby point is higher
        assert float(tgv.tgv_energy(x + 1e-3 * rand(*x.shape, seed=seed).float(), w, y, 0.05, 0.1)) > best
        assert float(tgv.tgv_energy(x, w + 1e-3 * rand(*w.shape, seed=seed).float(), y, 0.05, 0.1)) > best
    assert run.stop_reason == "converged"


def test_no_staircases_on_a_ramp():
    """A noisy linear ramp: TV cuts it into flat steps, TGV follows it (error far below TV's at each lambda)."""
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 64), torch.linspace(0, 1, 64), indexing="ij")
    clean = (0.2 + 0.6 * xx)[None, None]
    noisy = clean + 0.1 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(0))
    for lam in (0.1, 0.2):
        tv_error = float((rof_primal_dual(noisy, lam, True, 3000, 1e-5, None).image - clean).square().mean())
        tgv_error = float((tgv.solve_tgv(noisy, lam, True, 3000, 1e-5)[0].image - clean).square().mean())
        assert tgv_error < 0.5 * tv_error


def test_run_denoise_and_the_cli_take_the_regularizer(tmp_path):
    from PIL import Image

    y = rand(1, 1, 24, 24).float() * 0.1 + 0.5
    result = run_denoise(y, regularizer="tgv", sigma=0.1, tv_weight="rule")
    assert result.regularizer == "tgv" and result.optimizer == "primal-dual"
    with pytest.raises(InputError, match="regularizer tgv is solved by primal-dual with tv_beta 1"):
        run_denoise(y, regularizer="tgv", tv_beta=1.5)
    Image.fromarray((y[0, 0].clamp(0, 1).numpy() * 255).astype("uint8")).save(tmp_path / "n.png")
    assert_ok(invoke("denoise", tmp_path / "n.png", "-o", tmp_path / "o.png", "--regularizer", "tgv", "--quiet"))
    assert_error(invoke("denoise", tmp_path / "n.png", "-o", tmp_path / "o.png", "--regularizer", "tgv",
                        "--fidelity", "l1"), 2, "--regularizer tgv is solved by primal-dual")
    assert_error(invoke("denoise", tmp_path / "n.png", "-o", tmp_path / "o.png", "--regularizer", "nlm"), 2,
                 "Invalid value for '--regularizer'", prefix="neural-style denoise: error: ")


def test_the_iteration_limit_of_tgv_comes_from_settings():
    """TGV's default limit (2000) is settings', as the help shows it; ROF's is 300."""
    from neural_style.settings import DENOISE_ITERATIONS, denoise_iterations

    assert denoise_iterations("tgv", "primal-dual") == 2000
    assert denoise_iterations("tv", "primal-dual") == DENOISE_ITERATIONS["primal-dual"] == 300
    assert denoise_iterations("nltv", "primal-dual") == 300 and denoise_iterations("tv", "lbfgs") == 500
    y = rand(1, 1, 8, 8).float() * 0.1 + 0.5
    assert run_denoise(y, regularizer="tgv", sigma=0.1, tv_weight=0.05, tolerance=0).run.iterations == 2000
    assert run_denoise(y, sigma=0.1, tv_weight=0.05, tolerance=0).run.iterations == 300
