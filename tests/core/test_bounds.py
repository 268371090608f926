"""Keeping an optimised image in [0, 1] (neural_style.core.bounds) and what optimize_image reports with it."""

import pytest
import torch

from neural_style.core.bounds import PENALTY_WEIGHT, Bounds
from neural_style.core.optimize import optimize_image
from neural_style.errors import InputError

TARGET = torch.linspace(-0.5, 1.5, 48).reshape(1, 3, 4, 4)  # half of it out of reach of a file


def loss_fn(x):
    return {"total": (x - TARGET).pow(2).mean()}


def accumulating_loss_fn(x):
    """As a tiled evaluation does: the gradient accumulated into ``x.grad``, a total without a graph."""
    total = (x - TARGET).pow(2).mean()
    (grad,) = torch.autograd.grad(total, x)
    x.grad = grad if x.grad is None else x.grad + grad
    return {"total": total.detach()}


def test_clamp_objective_sees_the_clamped_image_and_passes_no_gradient_past_the_bounds():
    keep = Bounds("clamp-objective")
    p = keep.variable(torch.tensor([[[[-0.2, 0.3], [0.7, 1.4]]]]))
    terms = keep.evaluate(p, lambda x: {"total": (x * torch.tensor([1.0, 2.0, 3.0, 4.0]).view(1, 1, 2, 2)).sum()})
    assert terms["total"].item() == pytest.approx(0 * 1 + 0.3 * 2 + 0.7 * 3 + 1 * 4)
    assert p.grad.flatten().tolist() == [0.0, 2.0, 3.0, 0.0]
    assert keep.image(p).flatten().tolist() == pytest.approx([0.0, 0.3, 0.7, 1.0])


def test_sigmoid_starts_at_the_image_and_chains_its_gradient():
    keep = Bounds("sigmoid")
    start = torch.full((1, 1, 2, 2), 0.25)
    p = keep.variable(start)
    assert torch.allclose(keep.image(p), start, atol=1e-6)
    keep.evaluate(p, lambda x: {"total": x.sum()})
    assert torch.allclose(p.grad, torch.full_like(start, 0.25 * 0.75), atol=1e-6)


def test_penalty_adds_the_range_term():
    keep = Bounds("penalty")
    p = keep.variable(torch.tensor([[[[1.5, 0.5]]]]))
    terms = keep.evaluate(p, lambda x: {"total": x.sum() * 0})
    assert terms["range"].item() == pytest.approx(PENALTY_WEIGHT * 0.25 / 2)
    assert keep.image(p).flatten().tolist() == [1.0, 0.5]


def test_an_unknown_way_is_one_line():
    with pytest.raises(InputError, match="unknown bounds .wrap.: expected one of project, clamp-objective, sigmoid"):
        Bounds("wrap")


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
@pytest.mark.parametrize("way", ["project", "clamp-objective", "sigmoid", "penalty", "clamp-result"])
def test_the_delivered_image_is_in_range(optimizer, way):
    run = optimize_image(torch.full((1, 3, 4, 4), 0.5), loss_fn, optimizer=optimizer, iterations=30, bounds=way)
    assert 0 <= run.image.min() and run.image.max() <= 1


@pytest.mark.parametrize("way", ["project", "clamp-objective"])
@pytest.mark.parametrize("evaluate", [loss_fn, accumulating_loss_fn])
def test_within_bounds_the_reported_loss_is_the_delivered_image_s(evaluate, way):
    run = optimize_image(torch.full((1, 3, 4, 4), 0.5), evaluate, iterations=40, bounds=way)
    best = run.history[run.best_iteration - 1]["total"]
    assert best == pytest.approx(loss_fn(run.image)["total"].item(), rel=1e-6)
    # the unreachable half ends on the bounds, the rest at the target: the best a file can hold
    assert torch.allclose(run.image, TARGET.clamp(0, 1), atol=1e-3)


def test_unconstrained_the_reported_loss_is_not_the_delivered_image_s():
    """The fault bounds fix: the run reports the loss of an image no file holds."""
    run = optimize_image(torch.full((1, 3, 4, 4), 0.5), loss_fn, iterations=40, bounds="clamp-result")
    reported = run.history[run.best_iteration - 1]["total"]
    assert reported < 0.01 < loss_fn(run.image)["total"].item()


def test_no_bounds_leaves_values_outside():
    run = optimize_image(torch.full((1, 3, 4, 4), 0.5), loss_fn, iterations=40, bounds=None)
    assert run.image.min() < -0.4 and run.image.max() > 1.4


def test_projected_lbfgs_every_evaluation_is_inside_the_box():
    seen = []

    def watch(x):
        seen.append((float(x.detach().min()), float(x.detach().max())))
        return loss_fn(x)

    optimize_image(torch.rand(1, 3, 4, 4), watch, iterations=30, bounds="project")
    assert len(seen) == 30 and all(0 <= lo and hi <= 1 for lo, hi in seen)


def test_projected_lbfgs_solves_a_box_constrained_quadratic_as_well_as_the_bounds_allow():
    """An ill-conditioned quadratic (condition 1000) whose minimum lies partly outside the box: the box's
    minimiser. (Its value there is subtracted, so that the history's float32 totals still see the last
    improvements.)"""
    scales = torch.logspace(0, 3, 48, dtype=torch.float64).reshape(1, 3, 4, 4)
    target = TARGET.double()
    floor = (scales * (target.clamp(0, 1) - target).pow(2)).sum()

    def quadratic(x):
        return {"total": (scales * (x - target).pow(2)).sum() - floor}

    run = optimize_image(torch.full((1, 3, 4, 4), 0.5, dtype=torch.float64), quadratic, iterations=200,
                         bounds="project")
    assert torch.allclose(run.image, target.clamp(0, 1), atol=1e-4)
