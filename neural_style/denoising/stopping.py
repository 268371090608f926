"""The stopping test the primal-dual solvers share (ROF and TGV)."""

import time
from typing import Callable, List, Optional

import torch

from ..core.optimize import Step

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
