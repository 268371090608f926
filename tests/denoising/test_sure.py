"""Lambda per image by Monte-Carlo SURE: close to the true MSE, its minimiser near the oracle lambda."""

import json
import math

import numpy as np
import pytest
import torch

from neural_style.denoising import sure
from neural_style.denoising.rof import solve_rof
from neural_style.denoising.solver import run_denoise

from ..clitools import assert_ok, invoke


def synthetic(sigma=0.1, seed=0, size=96):
    """A piecewise-constant image with a ramp, and white Gaussian noise of ``sigma`` (not clipped)."""
    yy, xx = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    clean = 0.3 + 0.4 * ((xx - 0.5) ** 2 + (yy - 0.5) ** 2 < 0.1).float() + 0.2 * xx * (yy > 0.7).float()
    clean = clean[None, None]
    noise = torch.randn(clean.shape, generator=torch.Generator().manual_seed(seed))
    return clean, clean + sigma * noise


def solver(tolerance=1e-5):
    def solve(batch, tv_weight):
        run, _ = solve_rof(batch, tv_weight, True, 2000, tolerance, None, None)
        return run.image, run.iterations
    return solve


def test_sure_is_an_unbiased_estimate_of_the_true_mse_with_the_same_minimiser():
    """Over noise draws, SURE - MSE averages to 0 within 3 standard errors at every lambda (one draw's SURE
    varies by about sigma^2 sqrt(2 / N) around its MSE), and the mean SURE's minimiser is the mean MSE's."""
    lambdas = [0.02 * 1.5**k for k in range(8)]  # 0.02 .. 0.34
    draws = 12
    estimates, errors = np.zeros((draws, len(lambdas))), np.zeros((draws, len(lambdas)))
    for seed in range(draws):
        clean, noisy = synthetic(seed=seed)
        probe = torch.randn(noisy.shape, generator=torch.Generator().manual_seed(100 + seed))
        for k, lam in enumerate(lambdas):
            estimates[seed, k], x, _ = sure.mc_sure(solver(1e-4), noisy, 0.1, lam, probe, 0.001)
            errors[seed, k] = float((x - clean).square().mean())
    difference = estimates - errors
    standard_error = difference.std(axis=0, ddof=1) / math.sqrt(draws)
    assert np.all(np.abs(difference.mean(axis=0)) <= 3 * standard_error), (difference.mean(axis=0), standard_error)
    assert np.all(difference.std(axis=0) < 0.1**2 * math.sqrt(2 / 96**2) * 2)  # the spread Stein predicts
    assert int(np.argmin(estimates.mean(axis=0))) == int(np.argmin(errors.mean(axis=0)))


def test_the_search_reaches_near_oracle_mse():
    clean, noisy = synthetic(seed=2)
    choice = sure.choose_tv_weight(solver(1e-4), noisy, 0.1, start=0.08)
    chosen = float((choice.image - clean).square().mean())
    oracle = min(float((solve_rof(noisy, lam, True, 2000, 1e-4, None, None)[0].image - clean).square().mean())
                 for lam in np.exp(np.linspace(math.log(0.03), math.log(0.3), 20)))
    assert chosen <= oracle * 1.03
    assert len(choice.evaluations) == sure.EVALUATIONS
    assert choice.sure == min(e["sure"] for e in choice.evaluations)


def test_golden_section_finds_the_minimum_of_a_unimodal_function():
    calls = []

    def f(v):
        calls.append(v)
        return (v - 0.3) ** 2

    sure._golden_section(f, -1.0, 1.0, 20)
    assert len(calls) == 20 and min(calls, key=lambda v: (v - 0.3) ** 2) == pytest.approx(0.3, abs=1e-3)


def test_an_interrupted_search_keeps_its_best_so_far_or_raises_before_any():
    clean, noisy = synthetic()
    calls = []

    def stop_on(n):
        def solve(batch, tv_weight):
            calls.append(tv_weight)
            if len(calls) == n:
                raise KeyboardInterrupt
            return solver(1e-3)(batch, tv_weight)
        return solve

    choice = sure.choose_tv_weight(stop_on(4), noisy, 0.1, start=0.08)
    assert choice.interrupted and len(choice.evaluations) == 3
    calls.clear()
    with pytest.raises(KeyboardInterrupt):
        sure.choose_tv_weight(stop_on(1), noisy, 0.1, start=0.08)


def test_run_denoise_says_how_lambda_was_chosen():
    _, noisy = synthetic()
    auto = run_denoise(noisy, regularizer="tv")
    assert auto.tv_weight_method == "sure" and auto.sure is not None and len(auto.sure_evaluations) == sure.EVALUATIONS
    assert auto.tv_weight == pytest.approx(min(auto.sure_evaluations, key=lambda e: e["sure"])["tv_weight"])
    assert run_denoise(noisy).tv_weight_method == "rule"  # auto: NLTV here, whose lambda is its rule
    rule = run_denoise(noisy, tv_weight="rule", regularizer="tv")
    assert rule.tv_weight_method == "rule" and rule.sure is None
    assert run_denoise(noisy, tv_weight=0.05).tv_weight_method == "given"
    assert run_denoise(noisy, tv_beta=1.5, iterations=20).tv_weight_method == "rule"  # SURE: primal-dual only


def test_sure_beats_the_rule_here():
    """On this synthetic image the per-image choice is closer to the clean image than the rule's lambda."""
    clean, noisy = synthetic(seed=3)
    mse = {w: float((run_denoise(noisy, sigma=0.1, tv_weight=w, regularizer="tv").image - clean).square().mean())
           for w in ("auto", "rule")}
    assert mse["auto"] < mse["rule"]


def test_the_report_and_the_line_carry_the_choice(tmp_path):
    from PIL import Image

    _, noisy = synthetic(size=48)
    Image.fromarray(np.round(noisy[0, 0].clamp(0, 1).numpy() * 255).astype(np.uint8)).save(tmp_path / "n.png")
    result = invoke("denoise", tmp_path / "n.png", "-o", tmp_path / "o.png", "--report", tmp_path / "r.json",
                    "--regularizer", "tv")
    assert_ok(result)
    assert "(SURE " in result.stderr
    record = json.loads((tmp_path / "r.json").read_text())["images"][0]
    assert record["tv_weight_method"] == "sure" and record["sure"] > 0 and len(record["sure_evaluations"]) == 8
    result = invoke("denoise", tmp_path / "n.png", "-o", tmp_path / "o.png", "--tv-weight", "rule")
    assert_ok(result)
    assert "(rule)" in result.stderr


def test_an_interrupt_before_the_first_evaluation_keeps_the_first_solve_so_far(monkeypatch):
    """Ctrl-C while the first lambda is being solved (seconds on a large image, TGV): its iterate is kept."""
    from neural_style.denoising import solver as solver_module

    _, noisy = synthetic()
    real = solver_module.solve_rof

    def interrupted_first(batch, tv_weight, **options):
        run, state = real(batch, tv_weight, **dict(options, iterations=5))
        run.stop_reason = "interrupted"
        return run, state

    monkeypatch.setattr(solver_module, "solve_rof", interrupted_first)
    result = run_denoise(noisy, sigma=0.1, regularizer="tv")
    assert result.run.stop_reason == "interrupted" and result.run.iterations == 5 and result.sure is None
    assert result.image.shape == noisy.shape and not torch.equal(result.image, noisy)
