"""The stopping test the primal-dual solvers share (ROF, TGV and NLTV), and the loop around it."""

import time
from typing import Callable, List, Optional

import torch

from ..core.optimize import OptimizeResult, Step
from ..core.stop import StopReason

#: Iterations between two tests (and progress callbacks).
CHECK_EVERY = 10


def converged(n: int, iterations: int, x: torch.Tensor, x_check: torch.Tensor, tolerance: float,
              history: List[dict], callback: Optional[Callable[[Step], None]], started: float) -> bool:
    """Every :data:`CHECK_EVERY` iterations: the RMS change of ``x`` since the last test, relative to the
    RMS of ``x``, per iteration, is recorded in ``history`` and passed to ``callback``; True when it is
    below ``tolerance``, else ``x_check`` takes ``x`` for the next test."""
    if n % CHECK_EVERY:
        return False
    change = ((x - x_check).square().mean().sqrt() / x.square().mean().sqrt().clamp(min=1e-12)).item() / CHECK_EVERY
    history.append({"iteration": n, "change": change})
    if callback is not None:
        callback(Step(n, iterations, {"change": change}, x, time.perf_counter() - started))
    if change < tolerance:
        return True
    x_check.copy_(x)
    return False


def iterate(step: Callable[[], torch.Tensor], x: torch.Tensor, iterations: int, tolerance: float,
            callback: Optional[Callable[[Step], None]]) -> OptimizeResult:
    """Call ``step`` (one iteration, returning the new x) up to ``iterations`` times from ``x``,
    stopping when :func:`converged` says so; on Ctrl-C, the last completed iterate with
    ``stop_reason="interrupted"``."""
    history: List[dict] = []
    reason, n = StopReason.COMPLETED, 0
    x_check, timer = x.clone(), time.perf_counter()
    try:
        for n in range(1, iterations + 1):
            x = step()
            if converged(n, iterations, x, x_check, tolerance, history, callback, timer):
                reason = StopReason.CONVERGED
                break
    except KeyboardInterrupt:
        reason = StopReason.INTERRUPTED
    return OptimizeResult(image=x, history=history, iterations=n, seconds=time.perf_counter() - timer,
                          stop_reason=reason, best_iteration=n)
