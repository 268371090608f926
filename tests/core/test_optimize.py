import math

import pytest
import torch

from neural_style.core.optimize import optimize_image
from neural_style.errors import InputError


def quadratic(target):
    def loss_fn(x):
        total = (x - target).pow(2).sum()
        return {"fit": total, "total": total}
    return loss_fn


@pytest.fixture
def target():
    return torch.linspace(0.1, 0.9, 12).view(1, 3, 2, 2)


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_counts_every_evaluation_and_reports_it(optimizer, target):
    steps = []
    result = optimize_image(torch.zeros_like(target), quadratic(target), optimizer=optimizer, iterations=7,
                            callback=steps.append)
    assert result.iterations == 7 and len(result.history) == 7
    assert [s.iteration for s in steps] == list(range(1, 8))
    assert all(s.iterations == 7 for s in steps)
    assert [h["iteration"] for h in result.history] == list(range(1, 8))
    assert set(result.history[0]) == {"iteration", "fit", "total"}
    assert result.stop_reason == "completed"


def test_lbfgs_solves_a_quadratic(target):
    init = torch.zeros_like(target)
    result = optimize_image(init, quadratic(target), iterations=20)
    assert torch.allclose(result.image, target, atol=1e-4)
    assert torch.equal(init, torch.zeros_like(target))  # the start image is not modified


def test_adam_moves_towards_the_target_and_stays_in_range(target):
    result = optimize_image(torch.zeros_like(target), quadratic(target + 5), optimizer="adam", lr=0.1, iterations=50)
    assert result.image.max() == 1.0  # clamped while the target lies outside [0, 1]
    assert result.history[-1]["total"] < result.history[0]["total"]


def test_returns_the_best_image_evaluated(target):
    # A loss that gets worse after the 3rd evaluation: the result is the image of evaluation 3.
    calls = []

    def loss_fn(x):
        calls.append(x.detach().clone())
        total = (x - target).pow(2).sum() + (100.0 if len(calls) > 3 else 0.0)
        return {"total": total}

    result = optimize_image(torch.zeros_like(target), loss_fn, optimizer="adam", lr=0.05, iterations=6)
    assert result.best_iteration == 3
    assert torch.equal(result.image, calls[2].clamp(0, 1))


def test_non_finite_loss_stops_and_keeps_the_best_finite_image(target):
    def loss_fn(x):
        total = (x - target).pow(2).sum()
        if loss_fn.calls >= 4:
            total = total * float("nan")
        loss_fn.calls += 1
        return {"total": total}
    loss_fn.calls = 0

    result = optimize_image(torch.zeros_like(target), loss_fn, optimizer="adam", iterations=20)
    assert result.stop_reason == "non-finite"
    assert result.iterations == 5
    assert math.isnan(result.history[-1]["total"])
    assert torch.isfinite(result.image).all()
    assert result.best_iteration == 4


def test_ctrl_c_in_the_callback_keeps_the_best_image(target):
    def callback(step):
        if step.iteration == 3:
            raise KeyboardInterrupt

    result = optimize_image(torch.zeros_like(target), quadratic(target), iterations=10, callback=callback)
    assert result.stop_reason == "interrupted"
    assert result.iterations == 3
    assert result.history[2]["total"] < result.history[0]["total"]
    assert not torch.equal(result.image, torch.zeros_like(target))


def test_tolerance_stops_a_converged_run(target):
    result = optimize_image(torch.zeros_like(target), quadratic(target), iterations=200, tolerance=1e-3)
    assert result.stop_reason == "converged"
    assert result.iterations < 200


@pytest.mark.parametrize("kwargs, message", [
    ({"optimizer": "sgd"}, "unknown optimizer"),
    ({"iterations": 0}, "iterations"),
    ({"lr": -1.0}, "learning rate"),
    ({"lr": float("inf")}, "learning rate must be a finite number > 0, got inf"),
    ({"lr": float("nan")}, "learning rate must be a finite number > 0, got nan"),
])
def test_bad_settings(kwargs, message, target):
    with pytest.raises(InputError, match=message):
        optimize_image(target, quadratic(target), **kwargs)


def test_docstring_names_the_line_search(monkeypatch, target):
    """The docstring says what the loop does: L-BFGS with a strong-Wolfe line search (unconstrained), or
    projected L-BFGS with a backtracking line search (bounds="project", the default)."""
    made = []

    class Recording(torch.optim.LBFGS):
        def __init__(self, params, **kwargs):
            made.append(kwargs)
            super().__init__(params, **kwargs)

    monkeypatch.setattr(torch.optim, "LBFGS", Recording)
    optimize_image(torch.zeros_like(target), quadratic(target), iterations=3, bounds="clamp-result")
    assert [kwargs["line_search_fn"] for kwargs in made] == ["strong_wolfe"]
    optimize_image(torch.zeros_like(target), quadratic(target), iterations=3)  # projected: not torch's
    assert len(made) == 1
    doc = " ".join(optimize_image.__doc__.split())
    assert "no line search" not in doc and "strong-Wolfe line search" in doc and "projected L-BFGS" in doc
