"""Lambda for restoration by Morozov's discrepancy principle, tuned.

The restored x should explain the data as well as the noise allows, and no better:

    ||A x_lambda - y||^2 / n = KAPPA * sigma^2          (n: the known values of y)

The residual grows with lambda, so the equation has one root, found on log lambda by a bracketed
secant (each solve warm-started from the nearest one, at the tolerance ``solve`` takes for a search:
:data:`~.restore.SEARCH_FACTOR`) until it holds within :data:`RESIDUAL_TOLERANCE`. KAPPA = 1 is
Morozov's principle, which over-smooths total-variation solutions; KAPPA < 1 was chosen on the first
half of Set12 (benchmarks/restore_vs_peers.py --constant). Without noise (sigma 0) the data are exact:
lambda is :data:`LAMBDA_FLOOR`, nearly the constrained problem ``min R(x)`` subject to ``A x = y``.

Reference:
    V. A. Morozov, "On the solution of functional equations by the method of regularization",
    Soviet Math. Doklady 7, 1966.
"""

import math
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

from ..core.optimize import OptimizeResult
from ..core.stop import StopReason

#: The residual aimed at, as a fraction of sigma^2 (module doc), by what the degradation holds. A blur:
#: KAPPA_BLUR[0] at noise sigma KAPPA_BLUR_SIGMAS[0] (0..255) and KAPPA_BLUR[1] at KAPPA_BLUR_SIGMAS[1], linear
#: in log sigma between and constant beyond: the residual changes little with lambda there (from lambda
#: 0.003 to 0.024 it went from 0.90 to 1.01 sigma^2 on Set12's 02 at noise 10), and the best lambda's
#: residual rises with the noise. Missing pixels: the known ones are exact or nearly, and an estimated
#: sigma is mostly texture, so the fit is kept close (KAPPA_MASK). A reduction: its pixels hold more
#: texture than a photograph's, which the estimate counts as noise (KAPPA_UPSCALE). A combination takes
#: the smallest, except that missing pixels under a blur take the blur's: the noise is then real, and a blurred
#: x cannot fit it to KAPPA_MASK, so the search ran to its floor and amplified it (Set12's 01, Gaussian blur
#: 1.6, text holes, automatic: at noise 10, 12.2 dB for TV and 9.7 for NLTV with KAPPA_MASK, 24.6 and 24.8 with
#: the blur's; at noise 2, 26.1 against 26.3-26.6; a fresh user's finding). Tuned on the first half of Set12
#: (benchmarks/restore_vs_peers.py --constant):
#: blur 0.6 / 0.9 / 0.915 / 0.93 / 0.96 / 1.0 / 1.15, masks 0.9 / 0.5 / 0.3 / 0.15 / 0.05 (the smaller the
#: better), reductions 0.9 / 0.5 / 0.25 / 0.1.
KAPPA_BLUR = (0.9, 0.93)
KAPPA_BLUR_SIGMAS = (2.0, 10.0)
KAPPA_MASK = 0.05
KAPPA_UPSCALE = 0.25
#: The search stops when the residual is within this relative distance of its aim.
RESIDUAL_TOLERANCE = 0.005
#: The most lambdas the search evaluates.
MAX_EVALUATIONS = 10
#: Lambda for exact data (sigma 0), and the smallest the search goes to.
LAMBDA_FLOOR = 1e-4
#: The largest factor between two lambdas the search evaluates in a row.
MAX_STEP = 8.0


def start_weight(sigma: float) -> float:
    """Where the search starts: ``5e-4 (sigma / (2 / 255))^1.7`` (sigma on the [0, 1] scale), the best lambda
    of a 15 px motion blur and of a Gaussian blur of 1.6 px on Set12's 01 at noise 2 and 10."""
    return max(LAMBDA_FLOOR, 5e-4 * (sigma / (2 / 255)) ** 1.7)


@dataclass
class Choice:
    """The lambda chosen, and the search.

    Attributes:
        run: the solve at ``tv_weight`` (to the full tolerance, unless interrupted).
        tv_weight: lambda.
        state: the solver's state there.
        residual: ``||A x - y||^2 / n`` at it ([0, 1] scale, squared).
        evaluations: ``{"tv_weight", "residual"}`` per lambda evaluated.
    """

    run: OptimizeResult
    tv_weight: float
    state: tuple
    residual: float
    evaluations: List[Dict[str, float]] = field(default_factory=list)


Solve = Callable[[float, Optional[tuple], bool], Tuple[OptimizeResult, tuple, float]]


def at_floor(tv_weight: float, sigma: float) -> bool:
    """Whether the search ended at its floor, :data:`LAMBDA_FLOOR`, with the residual still above the target
    (sigma given too small, or too few iterations). With sigma 0 the floor is the choice itself (exact
    data, :func:`choose_weight`), not a failure: False. Exact to rounding (the search works on log lambda)."""
    return sigma > 0 and tv_weight <= LAMBDA_FLOOR * (1 + 1e-9)


def kappa_for(blur: bool, mask: bool, upscale: bool, sigma: float) -> float:
    """KAPPA for a degradation with a blur, missing pixels and/or a reduction (the smallest that applies;
    missing pixels under a blur take the blur's), at noise ``sigma`` (the [0, 1] scale)."""
    low, high = (math.log(v / 255) for v in KAPPA_BLUR_SIGMAS)
    where = min(1.0, max(0.0, (math.log(max(sigma, 1e-6)) - low) / (high - low)))
    blurred = KAPPA_BLUR[0] + where * (KAPPA_BLUR[1] - KAPPA_BLUR[0])
    present = [k for k, on in ((blurred, blur), (KAPPA_MASK, mask and not blur), (KAPPA_UPSCALE, upscale)) if on]
    return min(present) if present else blurred


def choose_weight(solve: Solve, sigma: float, kappa: float, start: Optional[tuple] = None) -> Choice:
    """The lambda whose residual is KAPPA sigma^2 (module doc), and its solve.

    Args:
        solve: ``(lambda, start state or None, search) -> (run, state, residual)``; ``search`` True
            asks for the search's looser tolerance.
        sigma: the noise on the [0, 1] scale.
        kappa: the residual aimed at, over sigma^2 (:func:`kappa_for`).
        start: the state the first solve starts from (None: the solver's own start).

    After Ctrl-C (a run interrupted), that run is returned at once with its lambda.
    """
    target = kappa * sigma * sigma
    if target <= 0:
        run, state, residual = solve(LAMBDA_FLOOR, start, False)
        return Choice(run, LAMBDA_FLOOR, state, residual)
    evaluations: List[Dict[str, float]] = []
    points: List[Tuple[float, float, tuple]] = []  # (log lambda, log(residual / target), state)
    lam, state = start_weight(sigma), start
    for _ in range(MAX_EVALUATIONS):
        run, state, residual = solve(lam, _nearest(points, lam, state), True)
        evaluations.append({"tv_weight": lam, "residual": residual})
        if run.stop_reason == StopReason.INTERRUPTED:
            return Choice(run, lam, state, residual, evaluations)
        gap = math.log(max(residual, 1e-30) / target)
        points.append((math.log(lam), gap, state))
        if abs(gap) < RESIDUAL_TOLERANCE or (gap > 0 and lam <= LAMBDA_FLOOR):
            break
        lam = max(LAMBDA_FLOOR, math.exp(_next(points)))
    best = min(points, key=lambda p: abs(p[1]))
    lam = math.exp(best[0])
    run, state, residual = solve(lam, best[2], False)
    return Choice(run, lam, state, residual, evaluations)


def _nearest(points, lam: float, fallback):
    if not points:
        return fallback
    return min(points, key=lambda p: abs(p[0] - math.log(lam)))[2]


def _next(points) -> float:
    """The next log lambda: the secant through the two nearest points on either side of the root when
    there are both, else a step of at most :data:`MAX_STEP` from the last one, along the secant."""
    below = [p for p in points if p[1] < 0]
    above = [p for p in points if p[1] > 0]
    if below and above:
        a, b = max(below, key=lambda p: p[0]), min(above, key=lambda p: p[0])
        return a[0] + (b[0] - a[0]) * (-a[1]) / (b[1] - a[1])
    last = points[-1]
    limit = math.log(MAX_STEP)
    if len(points) >= 2:
        prev = points[-2]
        if last[1] != prev[1]:
            slope = (last[1] - prev[1]) / (last[0] - prev[0])
            if slope > 0:
                return last[0] + max(-limit, min(limit, -last[1] / slope))
    return last[0] + (-limit / 2 if last[1] > 0 else limit / 2)
