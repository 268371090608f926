"""TV restoration by ADMM (neural_style/denoising/restore_admm.py): the primal-dual restorer's problem, its
minimiser found again; where it applies; warm starts; what run_restore reports."""

import pytest
import torch

from neural_style.core.optimize import Step
from neural_style.denoising import restore_admm
from neural_style.denoising.degradation import Degradation, build_problem
from neural_style.denoising.kernels import kernel_from_spec
from neural_style.denoising.priors import TVPrior
from neural_style.denoising.restore import run_restore
from neural_style.denoising.restore_admm import AdmmState, admm_applies, solve_admm
from neural_style.denoising.restore_pd import solve_restore
from neural_style.denoising.tgv import grad

from .test_restore import as_tensor, smooth


def energy(problem, x: torch.Tensor, lam: float, vectorial: bool = True) -> float:
    """``0.5 ||A x - y||^2 + lambda TV(x)``, TV with Neumann forward differences (the primal-dual restorer's)."""
    g = grad(x.double())
    norm = g.square().sum((1, 2) if vectorial else 2).sqrt()
    return float(0.5 * (problem.op.forward(x.double()) - problem.y.double()).square().sum() + lam * norm.sum())


def degraded(kind: str, channels: int = 1, seed: int = 0):
    """(y, Degradation): a 20 x 24 image under a blur, or a blur and holes ("both"), with a little noise."""
    clean = as_tensor(smooth(20, 24, channels, seed))
    generator = torch.Generator().manual_seed(seed)
    kernel = kernel_from_spec("motion:5,30")
    known = (torch.rand(20, 24, generator=generator) > 0.4) if kind == "both" else None
    degradation = Degradation(kernel=kernel, known=known)
    problem = build_problem(clean, degradation)  # A x for a clean x: the blur's margin taken from the image itself
    x = torch.nn.functional.pad(clean, (0, problem.op.in_shape[1] - 24, 0, problem.op.in_shape[0] - 20),
                                mode="reflect")
    y = problem.op.forward(x) + 0.02 * torch.randn(1, channels, 20, 24, generator=generator)
    if known is not None:
        y = torch.where(known, y, torch.zeros_like(y))
    return y.clamp(0, 1), degradation


@pytest.mark.parametrize("kind, channels, vectorial", [("blur", 1, True), ("blur", 3, True), ("both", 3, True),
                                                       ("both", 3, False)])
def test_it_finds_the_primal_dual_restorers_minimiser(kind, channels, vectorial):
    """Same problem (unknown boundaries, Neumann TV, x in [0, 1]): the same energy and image at convergence."""
    y, degradation = degraded(kind, channels)
    problem = build_problem(y, degradation)
    lam = 0.02
    _, pd = solve_restore(problem, TVPrior(lam, vectorial), 20000, 1e-8)
    run, admm = solve_admm(problem, TVPrior(lam, vectorial), 4000, 1e-8)
    assert admm[0].shape == pd[0].shape == (1, channels, *problem.op.in_shape)
    e_pd, e_admm = energy(problem, pd[0], lam, vectorial), energy(problem, admm[0], lam, vectorial)
    assert abs(e_admm - e_pd) <= 1e-4 * e_pd, (e_admm, e_pd)
    assert float((admm[0] - pd[0]).abs().max()) < 2e-3
    assert run.image.shape == y.shape and 0 <= float(run.image.min()) and float(run.image.max()) <= 1


def test_the_prior_is_x_own_tv_not_a_circular_one(monkeypatch):
    """A step from the top half of x to the bottom half: TV shifts each half's level by lambda times the edge's
    length over the half's known pixels (ROF's loss of contrast). A circular TV would see a second edge, the
    wrap-around from the last row to the first, and shift them twice as far; the problem's TV (Neumann, as the
    primal-dual restorer's) sees one edge."""
    y = torch.full((1, 1, 16, 16), 0.2)
    y[..., 8:, :] = 0.8  # the blurred edge of a 0.2 / 0.8 step (a 3 x 1 box: 0.4 and 0.6 on the rows beside it)
    y[..., 7, :], y[..., 8, :] = 0.4, 0.6
    degradation = Degradation(kernel=torch.full((3, 1), 1 / 3),
                              known=torch.rand(16, 16, generator=torch.Generator().manual_seed(1)) > 0.5)
    problem = build_problem(y * degradation.known, degradation)
    _, pd = solve_restore(problem, TVPrior(0.05, True), 20000, 1e-8)
    run, _ = solve_admm(problem, TVPrior(0.05, True), 3000, 1e-8)
    shift = float(run.image[..., :8, :].mean()) - 0.2
    assert abs(shift - (float(pd[0][..., :8, :].mean()) - 0.2)) < 1e-3 and 0.005 < shift < 0.02
    ones = restore_admm._Domain.__init__

    def circular(self, problem):  # every difference penalised, the wrap-around ones too
        ones(self, problem)
        self.weight.fill_(1)

    monkeypatch.setattr(restore_admm._Domain, "__init__", circular)
    wrapped, _ = solve_admm(problem, TVPrior(0.05, True), 3000, 1e-8)
    assert float(wrapped.image[..., :8, :].mean()) - 0.2 > 1.5 * shift


def test_where_it_applies():
    y = torch.rand(1, 1, 12, 12)
    blur = Degradation(kernel=kernel_from_spec("box:3"))
    assert admm_applies(build_problem(y, blur))
    assert admm_applies(build_problem(y, Degradation(kernel=blur.kernel, known=torch.rand(12, 12) > 0.5)))
    assert not admm_applies(build_problem(y, Degradation(known=torch.rand(12, 12) > 0.5)))  # holes alone
    assert not admm_applies(build_problem(y, Degradation(upscale=2.0)))
    assert not admm_applies(build_problem(y, Degradation(kernel=blur.kernel, upscale=2.0)))
    assert not admm_applies(build_problem(y, Degradation(kernel=torch.ones(1, 1))))  # a 1-tap blur runs directly


def test_a_warm_start_goes_on_from_the_state():
    y, degradation = degraded("both", 1)
    problem = build_problem(y, degradation)
    first, state = solve_admm(problem, TVPrior(0.02, True), 3000, 1e-7)
    assert isinstance(state[1], AdmmState)
    again, _ = solve_admm(problem, TVPrior(0.02, True), 3000, 1e-7, start=state)
    assert again.iterations == 10 < first.iterations  # converged at its first test
    nearby, _ = solve_admm(problem, TVPrior(0.03, True), 3000, 1e-5, start=state)  # duals rescaled to the new mu
    cold, _ = solve_admm(problem, TVPrior(0.03, True), 3000, 1e-5)
    assert nearby.iterations < cold.iterations
    other = (state[0], None, None)  # another solver's state: its x alone, the duals from 0
    from_x, _ = solve_admm(problem, TVPrior(0.02, True), 3000, 1e-7, start=other)
    assert float((from_x.image - first.image).abs().max()) < 1e-3


def test_it_reports_and_can_be_interrupted():
    y, degradation = degraded("blur", 1)
    problem = build_problem(y, degradation)
    steps = []

    def callback(step: Step):
        steps.append(step)
        if step.iteration == 20:
            raise KeyboardInterrupt

    run, state = solve_admm(problem, TVPrior(0.02, True), 1000, 0.0, callback)
    assert run.stop_reason == "interrupted" and [s.iteration for s in steps] == [10, 20]
    assert steps[0].image.shape == y.shape and "change" in steps[0].losses
    assert run.image.shape == y.shape and run.iterations == 20


def test_run_restore_takes_it_for_tv_and_the_primal_dual_restorer_when_asked():
    y, degradation = degraded("both", 3, seed=2)
    auto = run_restore(y, degradation, regularizer="tv", sigma=0.02)
    pd = run_restore(y, degradation, regularizer="tv", sigma=0.02, optimizer="primal-dual")
    assert (auto.optimizer, pd.optimizer) == ("admm", "primal-dual")
    assert auto.tv_weight == pytest.approx(pd.tv_weight, rel=0.1)
    assert float((auto.image - pd.image).abs().mean()) < 2e-3
    assert run_restore(y, Degradation(upscale=2.0), regularizer="tv", sigma=0.02).optimizer == "primal-dual"
    assert run_restore(y, degradation, regularizer="tgv", sigma=0.02, tv_weight=0.01).optimizer == "primal-dual"
    holes = Degradation(known=degradation.known)
    assert run_restore(y, holes, regularizer="tv", sigma=0.02, tv_weight=0.01).optimizer == "primal-dual"


def test_its_result_on_a_photo_like_image_matches_the_primal_dual_restorers():
    """At a fixed lambda, as the speed benchmark runs it: the two solvers' images within 0.05 dB."""
    y, degradation = degraded("blur", 3, seed=3)
    clean = as_tensor(smooth(20, 24, 3, 3))
    a = run_restore(y, degradation, regularizer="tv", sigma=0.02, tv_weight=0.01).image
    b = run_restore(y, degradation, regularizer="tv", sigma=0.02, tv_weight=0.01, optimizer="primal-dual").image

    def psnr(image):
        return float(-10 * torch.log10((image - clean).square().mean()))

    assert abs(psnr(a) - psnr(b)) < 0.05
