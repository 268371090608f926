"""The ROF problem (beta = 1 TV with l2 fidelity) by the accelerated primal-dual algorithm.

    min_x  lam * sum_ij |grad x|_ij + 0.5 ||x - y||^2

(isotropic TV, Neumann boundary; with vectorial coupling one root over the colour channels).
Chambolle & Pock (2011, Algorithm 2): ``||grad||^2 <= 8`` and the data term is 1-strongly convex,
so tau and sigma adapt each step and the iterates converge as O(1/k^2). With l2 and beta = 1,
lam is scikit-image's ``denoise_tv_chambolle`` weight.

Reference:
    A. Chambolle and T. Pock, "A first-order primal-dual algorithm for convex problems with
    applications to imaging", J. Math. Imaging and Vision 40(1), 2011.
"""

import math
import time
from typing import Callable, Optional, Tuple

import torch

from ..core.optimize import OptimizeResult, Step
from ..core.stop import StopReason
from .stopping import converged


def solve_rof(y: torch.Tensor, lam: float, vectorial: bool, iterations: int, tolerance: float,
              callback: Optional[Callable[[Step], None]] = None,
              start: Optional[tuple] = None) -> Tuple[OptimizeResult, tuple]:
    """(run, (x, px, py)): the ROF problem on ``y`` from ``start`` = (x, px, py) (a warm start, e.g. the
    solution at a nearby lambda), or from x = y, p = 0 when ``start`` is None.

    Args:
        y: (B, C, H, W) float32, contiguous; each image of the batch is its own problem.
        lam: lambda (> 0).
        vectorial: one root over the colour channels per pixel (else per channel).
        iterations: the iteration limit.
        tolerance: stop when the RMS change of x per iteration, relative to the RMS of x, averaged
            over a check interval (:func:`~.stopping.converged`), falls below it.
        callback: called with a :class:`~neural_style.core.optimize.Step` at each check.

    Returns:
        The :class:`~neural_style.core.optimize.OptimizeResult` (``image``: x, not clipped;
        ``stop_reason``: converged, completed or interrupted by Ctrl-C with the current x) and the
        state to warm-start the next solve from.

    The dual variable is kept scaled, q = p / lam, so that its projection is onto the unit ball.
    Every update is in place (about 16 passes over the image per iteration, no allocation).
    """
    if start is None:
        x, qx, qy = y.clone(), torch.zeros_like(y), torch.zeros_like(y)
    else:
        x, qx, qy = start[0].clone(), start[1] / lam, start[2] / lam
    xbar = x.clone()
    diff = torch.empty_like(y[..., :, 1:])
    diff_y = torch.empty_like(y[..., 1:, :])
    norm = torch.empty_like(y)
    tau, sigma = 0.25, 0.5  # tau * sigma * 8 <= 1
    history, reason = [], StopReason.COMPLETED
    x_check = x.clone()
    timer = time.perf_counter()
    n = 0
    try:
        for n in range(1, iterations + 1):
            # dual ascent, q <- proj_{|q| <= 1}(q + sigma / lam * grad xbar); q's last column/row stay 0
            torch.sub(xbar[..., :, 1:], xbar[..., :, :-1], out=diff)
            qx[..., :, :-1].add_(diff, alpha=sigma / lam)
            torch.sub(xbar[..., 1:, :], xbar[..., :-1, :], out=diff_y)
            qy[..., :-1, :].add_(diff_y, alpha=sigma / lam)
            if vectorial:
                torch.mul(qx, qx, out=norm)
                scale = norm.addcmul_(qy, qy).sum(1, keepdim=True).sqrt_().clamp_(min=1.0)
            else:
                scale = torch.hypot(qx, qy, out=norm).clamp_(min=1.0)
            qx.div_(scale)
            qy.div_(scale)
            # primal descent, x <- (x + tau * (lam div q + y)) / (1 + tau), into xbar's buffer
            new = xbar
            torch.add(qx, qy, out=new)
            new[..., :, 1:].sub_(qx[..., :, :-1])
            new[..., 1:, :].sub_(qy[..., :-1, :])
            torch.add(y, new, alpha=lam, out=new)
            new.lerp_(x, 1 / (1 + tau))
            theta = 1 / math.sqrt(1 + 2 * tau)
            tau, sigma = tau * theta, sigma / theta
            # xbar <- x_new + theta * (x_new - x_old), into the old x's buffer
            x, other = new, x
            xbar = other.lerp_(x, 1 + theta)
            if converged(n, iterations, x, x_check, tolerance, history, callback, timer):
                reason = StopReason.CONVERGED
                break
    except KeyboardInterrupt:
        reason = StopReason.INTERRUPTED
    return (OptimizeResult(image=x, history=history, iterations=n, seconds=time.perf_counter() - timer,
                           stop_reason=reason, best_iteration=n), (x, qx * lam, qy * lam))


def rof_primal_dual(y: torch.Tensor, lam: float, vectorial: bool, iterations: int, tolerance: float,
                    callback: Optional[Callable[[Step], None]] = None) -> OptimizeResult:
    """The run of :func:`solve_rof` from x = y (no warm start, no state)."""
    return solve_rof(y, lam, vectorial, iterations, tolerance, callback)[0]
