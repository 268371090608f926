"""A primal-dual solve as one named thing, and lambda chosen around it by SURE.

The primal-dual kernels (:func:`.rof.solve_rof`, :func:`.tgv.solve_tgv`, :func:`.nltv.solve_nltv`
over its graph) share one call (:class:`Kernel`). :class:`PrimalDual` binds a kernel to everything
but the image, lambda and the warm start; :func:`sure_run` runs it at the lambda that minimises
Stein's unbiased risk estimate (:mod:`.sure`), warm-starting each solve from the last.
"""

import time
from dataclasses import dataclass, field, replace
from typing import Callable, Dict, List, Optional, Protocol, Tuple

import torch

from ..core.optimize import OptimizeResult, Step
from ..core.stop import StopReason
from .sure import SEARCH_TOLERANCE_FACTOR, choose_tv_weight


class Kernel(Protocol):
    """A primal-dual solver: ``(run, state)`` for ``y`` (B, C, H, W) at lambda ``tv_weight``, from
    ``start`` (a previous ``state``: a warm start) or from x = y. ``run`` is an
    :class:`~neural_style.core.optimize.OptimizeResult` (``stop_reason`` converged, completed or
    interrupted by Ctrl-C with the current x); every image of the batch stops at one iteration."""

    def __call__(self, y: torch.Tensor, tv_weight: float, /, *, vectorial: bool, iterations: int,
                 tolerance: float, callback: Optional[Callable[[Step], None]] = None,
                 start: Optional[tuple] = None) -> Tuple[OptimizeResult, tuple]: ...


@dataclass(frozen=True)
class PrimalDual:
    """A :class:`Kernel` with everything fixed but the image, lambda and the warm start.

    Attributes:
        kernel: the solver.
        vectorial: one root over the colour channels per pixel (else per channel).
        iterations: the iteration limit of each solve.
        tolerance: each solve stops when the relative change per iteration falls below it.
        callback: called with a :class:`~neural_style.core.optimize.Step` at each check, or None.
    """

    kernel: Kernel
    vectorial: bool
    iterations: int
    tolerance: float
    callback: Optional[Callable[[Step], None]] = None

    def solve(self, y: torch.Tensor, tv_weight: float, start: Optional[tuple] = None) -> Tuple[OptimizeResult, tuple]:
        """``(run, state)`` of the kernel on ``y`` at ``tv_weight`` (see :class:`Kernel`)."""
        return self.kernel(y, tv_weight, vectorial=self.vectorial, iterations=self.iterations,
                           tolerance=self.tolerance, callback=self.callback, start=start)


@dataclass
class SureRun:
    """A solve and the lambda it ran at.

    Attributes:
        run: the solve's :class:`~neural_style.core.optimize.OptimizeResult` (``image`` (1, C, H, W)).
        tv_weight: lambda.
        sure: SURE at ``tv_weight`` (an estimate of the MSE on the [0, 1] scale), or None (not chosen by
            SURE, or interrupted before an evaluation finished).
        evaluations: ``{"tv_weight", "sure"}`` for each lambda the search evaluated.
    """

    run: OptimizeResult
    tv_weight: float
    sure: Optional[float] = None
    evaluations: List[Dict[str, float]] = field(default_factory=list)


def sure_run(solver: PrimalDual, y: torch.Tensor, sigma: float, start: float) -> SureRun:
    """``solver`` on ``y`` at the lambda SURE chose around ``start`` (:func:`~.sure.choose_tv_weight`).

    The search's solves stop at :data:`~.sure.SEARCH_TOLERANCE_FACTOR` times the tolerance, each from the
    last one's state; the chosen lambda is then solved to the tolerance from the search's nearby solution.
    After Ctrl-C the best evaluation so far is kept (``stop_reason`` interrupted); before the first
    evaluation finished, the first solve's iterate so far.

    Args:
        solver: the primal-dual solve.
        y: the noisy image, (1, C, H, W) float on the [0, 1] scale.
        sigma: the noise on the same scale (> 0).
        start: the centre of the search (the rule's lambda).

    Raises:
        KeyboardInterrupt: before the first solve made an iterate.
    """
    timer = time.perf_counter()
    search = replace(solver, tolerance=solver.tolerance * SEARCH_TOLERANCE_FACTOR)
    state = [None]  # the last solve's state: the next lambda starts there
    partial = []  # an interrupted solve's (lambda, image, iterations): kept if no evaluation finished

    def solve(batch: torch.Tensor, tv_weight: float):
        run, state[0] = search.solve(batch, tv_weight, state[0])
        if run.stop_reason == StopReason.INTERRUPTED:
            partial.append((tv_weight, run.image[:1].clone(), run.iterations))
            raise KeyboardInterrupt
        return run.image.clone(), run.iterations

    try:
        choice = choose_tv_weight(solve, y, sigma, start)
    except KeyboardInterrupt:  # before the first evaluation finished: the first solve's iterate so far
        if not partial:
            raise
        tv_weight, image, done = partial[0]
        run = OptimizeResult(image=image, iterations=done, stop_reason=StopReason.INTERRUPTED, best_iteration=done,
                             seconds=time.perf_counter() - timer)
        return SureRun(run, tv_weight)
    if choice.interrupted:
        run = OptimizeResult(image=choice.image, iterations=choice.iterations, stop_reason=StopReason.INTERRUPTED,
                             best_iteration=choice.iterations)
    else:  # the chosen lambda to the asked tolerance, from the search's last (nearby) solution
        run, _ = solver.solve(y, choice.tv_weight, tuple(t[:1] for t in state[0]))
    run.seconds = time.perf_counter() - timer
    return SureRun(run, choice.tv_weight, choice.sure, choice.evaluations)
