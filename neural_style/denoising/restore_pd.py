"""Restoration by the primal-dual algorithm: ``min_x 0.5 ||A x - y||^2 + lambda R(x)``, x in [0, 1].

``A`` is a chain of :mod:`.operators` (blur, downsampling, mask) and ``R`` one of :mod:`.priors`.
Chambolle & Pock (2011, Algorithm 1, theta = 1) with ``K = (c A, D)``:

- when A is a mask (or nothing), the data term stays in the primal step, whose prox is per pixel:
  ``x = clip((v + tau m y) / (1 + tau m), 0, 1)``;
- otherwise the data term is dualised too: with ``A' = c A`` its dual variable r has the prox
  ``r = (v - c sigma y) / (1 + c^2 sigma)``; ``c^2 = ||D||^2 / ||A||^2`` (``||A||^2`` by power
  iteration, :func:`~.operators.norm2`) balances the two blocks, so ``||K||^2 <= 2 ||D||^2``.

Steps ``tau = sigma = 1 / ||K||`` (``tau sigma ||K||^2 <= 1``). The box constraint x in [0, 1] is
the primal prox's clip (exact: the prox of a separable quadratic plus an interval's indicator).

Reference:
    A. Chambolle and T. Pock, "A first-order primal-dual algorithm for convex problems with
    applications to imaging", J. Math. Imaging and Vision 40(1), 2011.
"""

import math
from dataclasses import dataclass, field
from typing import Callable, Optional, Tuple

import torch

from ..core.optimize import OptimizeResult, Step
from .operators import Chain, Mask, norm2
from .stopping import iterate

#: The steps are ``tau = rho / ||K||`` and ``sigma = 1 / (rho ||K||)`` with ``rho = STEP_SCALE / sqrt(lambda)``:
#: x is on the scale of 1 and the prior's dual on that of lambda, so ``tau / sigma = rho^2 ~ 1 / lambda``
#: balances them. Measured on Set12's 01 (motion blur 15 px, noise 2 and 10; Gaussian 1.6): rho 1 needed
#: over 1000 iterations where rho near 0.7 / sqrt(lambda) needs 100-300.
STEP_SCALE = 0.7


@dataclass
class Problem:
    """What is known of one image to restore.

    Attributes:
        y: the degraded image, (1, C, H, W) float32 on the [0, 1] scale.
        op: A, mapping x's (H_x, W_x) to y's (H, W) (a :class:`~.operators.Chain`).
        start: the first x, (1, C, H_x, W_x) float32 in [0, 1].
        crop: (top, left, height, width): the part of x that is the result (a blur's margin excluded).
        observed: the number of known values of y (pixels times channels).
        norm2: ``||A||^2`` (filled in on first use).
    """

    y: torch.Tensor
    op: Chain
    start: torch.Tensor
    crop: Tuple[int, int, int, int]
    observed: int = 0
    norm2: Optional[float] = field(default=None, repr=False)

    @property
    def mask(self) -> Optional[torch.Tensor]:
        """The known pixels (1, 1, H, W) when A is a mask alone, else None (A is dualised)."""
        if len(self.op.ops) == 1 and isinstance(self.op.ops[0], Mask):
            return self.op.ops[0].known
        return None

    def result(self, x: torch.Tensor) -> torch.Tensor:
        top, left, height, width = self.crop
        return x[..., top:top + height, left:left + width]

    def residual(self, x: torch.Tensor) -> float:
        """The mean squared residual ``||A x - y||^2`` per known value (x the whole iterate, not its crop)."""
        return float((self.op.forward(x) - self.y).square().sum()) / max(self.observed, 1)

    def operator_norm2(self) -> float:
        """``||A||^2``, estimated on one channel (A treats every channel alike)."""
        if self.norm2 is None:
            self.norm2 = norm2(self.op, 1, self.y.device)
        return self.norm2


def solve_restore(problem: Problem, prior, iterations: int, tolerance: float,
                  callback: Optional[Callable[[Step], None]] = None,
                  start: Optional[tuple] = None) -> Tuple[OptimizeResult, tuple]:
    """(run, state): ``problem`` under ``prior`` (a :mod:`.priors` object, lambda inside it).

    Args:
        problem: the :class:`Problem`.
        prior: :class:`~.priors.TVPrior`, :class:`~.priors.TGVPrior` or :class:`~.priors.NLTVPrior`.
        iterations: the iteration limit.
        tolerance: stop when the RMS change of x per iteration, relative to its RMS, averaged over a
            check interval, falls below it (:func:`~.stopping.converged`).
        callback: called with a :class:`~neural_style.core.optimize.Step` (its image the result's crop)
            at each check.
        start: a previous ``state`` (a warm start, e.g. at a nearby lambda).

    Returns:
        The run (``image``: the result's crop of x, in [0, 1]; ``stop_reason`` converged, completed or
        interrupted by Ctrl-C with the current x) and the state to warm-start from.
    """
    y, known = problem.y, problem.mask
    x = problem.start.clone() if start is None else start[0].clone()
    prior.start(x, None if start is None else start[2])
    dualised = known is None
    a2 = problem.operator_norm2() if dualised else 0.0
    c = math.sqrt(prior.norm2 / a2) if a2 > 0 else 0.0
    norm = math.sqrt(prior.norm2 + c * c * a2)
    rho = STEP_SCALE / math.sqrt(max(prior.scale, 1e-8))
    tau, sigma = rho / norm, 1 / (rho * norm)
    r = (torch.zeros_like(y) if start is None or start[1] is None else start[1].clone()) if dualised else None
    weight = None if dualised else known.to(y) * tau
    state = {"x": x, "xbar": x.clone()}

    def step() -> torch.Tensor:
        x, xbar = state["x"], state["xbar"]
        if dualised:
            r.add_(problem.op.forward(xbar), alpha=c * sigma).sub_(y, alpha=c * sigma)
            r.div_(1 + c * c * sigma)
        prior.dual(xbar, sigma)
        direction = prior.adjoint()
        if dualised:
            direction.add_(problem.op.adjoint(r), alpha=c)
        x_new = torch.add(x, direction, alpha=-tau)
        if not dualised:
            x_new.addcmul_(weight, y).div_(1 + weight)
        x_new.clamp_(0, 1)
        prior.primal(tau)
        state.update(xbar=2 * x_new - x, x=x_new)
        return x_new

    def report(s: Step) -> None:
        callback(Step(s.iteration, s.iterations, s.losses, problem.result(s.image), s.elapsed))

    run = iterate(step, x, iterations, tolerance, report if callback is not None else None)
    full = run.image
    run.image = problem.result(full)
    return run, (full, r, prior.state())
