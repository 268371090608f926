"""Projected L-BFGS: L-BFGS whose iterate never leaves the box [0, 1].

Each iteration (Nocedal & Wright, "Numerical Optimization", 2006, Alg. 7.4 and 7.5, with the
active-set handling of projected quasi-Newton methods, Bertsekas 1982 and Kim, Sra & Dhillon 2010):

1. the variables held at a bound by the gradient (``x = 0`` with ``g > 0``, ``x = 1`` with ``g < 0``)
   are fixed for this iteration; on the others,
2. the L-BFGS direction ``d = -H g`` (two-loop recursion over the last ``history_size`` pairs
   ``(s, y)``, initial scaling ``s.y / y.y``); a direction that does not descend resets the history;
3. a backtracking line search along the projected path ``x(t) = clamp(x + t d, 0, 1)``: ``t`` halves from
   ``lr`` until ``f(x(t)) <= f(x) + c1 g.(x(t) - x)`` (Armijo). The first iteration starts from
   ``lr * min(1, 1 / |g|_1)``, as :class:`torch.optim.LBFGS` does;
4. the pair ``(x(t) - x, g(t) - g)`` is kept when its curvature ``s.y`` is positive.

Every point evaluated lies in the box, so the best evaluation is an image a file can hold, and most
iterations cost one evaluation (a step of ``lr`` accepted at once).
"""

from collections import deque
from typing import Callable, Deque, Tuple

import torch

__all__ = ["projected_lbfgs"]

#: Armijo's sufficient-decrease constant.
C1 = 1e-4
#: Halvings of the step before an iteration gives up on decreasing the loss (the history is then reset).
MAX_HALVINGS = 20


def projected_lbfgs(x: torch.Tensor, evaluate: Callable[[], float], *, lr: float = 1.0,
                    history_size: int = 100) -> None:
    """Minimise ``evaluate()`` over ``x`` in [0, 1], in place, until ``evaluate`` raises.

    Args:
        x: the variable, a leaf tensor with ``requires_grad``; clamped to [0, 1] first.
        evaluate: returns the loss at the current ``x`` and leaves its gradient in ``x.grad``; it
            ends the optimisation by raising (an iteration limit, a non-finite loss, Ctrl-C).
        lr: the step tried first along each direction (1: the quasi-Newton step).
        history_size: correction pairs kept.
    """
    history: Deque[Tuple[torch.Tensor, torch.Tensor, float]] = deque(maxlen=max(1, history_size))
    with torch.no_grad():
        x.clamp_(0, 1)
    f, g = _at(x, evaluate)
    first = True
    while True:
        free = ~(((x <= 0) & (g > 0)) | ((x >= 1) & (g < 0)))
        q = torch.where(free, g, torch.zeros((), dtype=g.dtype, device=g.device))
        d = torch.where(free, -_two_loop(q, history), torch.zeros((), dtype=g.dtype, device=g.device))
        if float((q * d).sum()) >= 0:  # not a descent direction: start the curvature over
            history.clear()
            d = -q
        t = lr * min(1.0, 1.0 / max(float(q.abs().sum()), 1e-30)) if first else lr
        x_old, f_old, g_old = x.detach().clone(), f, g
        for _ in range(MAX_HALVINGS):
            with torch.no_grad():
                x.copy_((x_old + t * d).clamp_(0, 1))
            f, g = _at(x, evaluate)
            if f <= f_old + C1 * float((g_old * (x.detach() - x_old)).sum()):
                break
            t *= 0.5
        else:
            history.clear()
        s, y = x.detach() - x_old, g - g_old
        curvature = float((s * y).sum())
        if curvature > 1e-10:
            history.append((s, y, 1.0 / curvature))
        first = False


def _at(x: torch.Tensor, evaluate: Callable[[], float]) -> Tuple[float, torch.Tensor]:
    """(loss, gradient) at ``x``."""
    x.grad = None
    f = evaluate()
    return f, x.grad.detach().clone()


def _two_loop(g: torch.Tensor, history) -> torch.Tensor:
    """``H g`` by L-BFGS's two-loop recursion (Nocedal & Wright, Alg. 7.4)."""
    q = g.clone()
    alphas = []
    for s, y, rho in reversed(history):
        alpha = rho * float((s * q).sum())
        q.add_(y, alpha=-alpha)
        alphas.append(alpha)
    if history:
        s, y, _ = history[-1]
        q.mul_(float((s * y).sum()) / max(float((y * y).sum()), 1e-30))
    for (s, y, rho), alpha in zip(history, reversed(alphas)):
        beta = rho * float((y * q).sum())
        q.add_(s, alpha=alpha - beta)
    return q
