"""Optimise an image directly: the loop shared by ``stylize`` and ``denoise``.

The loop knows nothing of style or noise: it minimises ``loss_fn(image)["total"]``
over the pixels with L-BFGS or Adam, counts every loss evaluation as one
iteration, reports each through a callback, keeps the best image evaluated, and
stops cleanly on Ctrl-C, on a non-finite loss, or when the loss stops changing.
"""

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

import torch

from ..errors import InputError
from .bounds import Bounds
from .choices import DEFAULT_LR, LBFGS_HISTORY, OPTIMIZERS
from .lbfgs import projected_lbfgs
from .stop import StopReason

#: Convergence (``tolerance``) needs this many small changes in a row, after WARMUP evaluations.
PATIENCE, WARMUP = 3, 10

LossFn = Callable[[torch.Tensor], Dict[str, torch.Tensor]]


@dataclass
class Step:
    """One iteration (a loss evaluation, a solver iteration or a training step), as passed
    to progress callbacks by ``stylize``, ``denoise`` and ``train``.

    Attributes:
        iteration: 1-based number of this iteration.
        iterations: iterations planned.
        losses: the loss terms as floats (``"total"`` among them for the optimisers).
        image: the image evaluated, (B, C, H, W); read it, don't modify it. None in training.
        elapsed: seconds since the loop started.
        images_per_second: training throughput (all processes); None elsewhere.
        scale: ``(scale, scales, long side)`` in a coarse-to-fine stylize run; None elsewhere.
        unstyled: True in the run without style that follows a stylize run whose region masks leave pixels
            beyond the style's reach (docs/stylize.md, "Regions").
    """

    iteration: int
    iterations: int
    losses: Dict[str, float]
    image: Optional[torch.Tensor]
    elapsed: float
    images_per_second: Optional[float] = None
    scale: Optional[Tuple[int, int, int]] = None
    unstyled: bool = False


@dataclass
class OptimizeResult:
    """What :func:`optimize_image` did.

    Attributes:
        image: the evaluated image with the lowest total loss: the image the loss saw
            (:meth:`~neural_style.core.bounds.Bounds.image`), in [0, 1] unless ``bounds=None``.
        history: per evaluation ``{"iteration": i, <term>: value, ...}``.
        iterations: evaluations run.
        seconds: wall time of the loop.
        stop_reason: ``"completed"``, ``"converged"``, ``"interrupted"`` (Ctrl-C)
            or ``"non-finite"`` (a NaN or infinite loss; ``image`` is the best finite one).
        best_iteration: the evaluation ``image`` comes from.
    """

    image: torch.Tensor
    history: List[Dict[str, float]] = field(default_factory=list)
    iterations: int = 0
    seconds: float = 0.0
    stop_reason: StopReason = StopReason.COMPLETED
    best_iteration: int = 0


class _Stop(Exception):
    def __init__(self, reason: StopReason):
        super().__init__(reason)
        self.reason = reason


def optimize_image(init: torch.Tensor, loss_fn: LossFn, *, optimizer: str = "lbfgs",
                   lr: Optional[float] = None, iterations: int = 500, tolerance: float = 0.0,
                   bounds: Optional[str] = "project", history_size: int = LBFGS_HISTORY,
                   callback: Optional[Callable[[Step], None]] = None) -> OptimizeResult:
    """Minimise ``loss_fn(x)["total"]`` over the pixels of ``x``, starting from ``init``.

    Args:
        init: the starting image, (B, C, H, W); not modified.
        loss_fn: maps the image to a dict of scalar loss tensors with a ``"total"`` key; a
            ``"total"`` without a graph means ``loss_fn`` has accumulated the gradient into
            ``x.grad`` itself (as a tiled evaluation does).
        optimizer: ``"lbfgs"`` (with ``bounds="project"`` projected L-BFGS with a backtracking line
            search, :mod:`neural_style.core.lbfgs`; otherwise torch's L-BFGS with a strong-Wolfe line
            search; each evaluation counts as one iteration) or ``"adam"``.
        lr: learning rate; ``None`` takes :data:`DEFAULT_LR`.
        iterations: loss evaluations to run.
        tolerance: stop when the relative change of the total loss between evaluations
            stays below this for PATIENCE evaluations in a row (0 never stops early).
        bounds: how the image is kept in [0, 1] (:mod:`neural_style.core.bounds`): ``"project"``
            (the iterate never leaves [0, 1]: projected L-BFGS, projected Adam), ``"clamp-objective"``,
            ``"sigmoid"``,
            ``"penalty"``, ``"clamp-result"`` (unconstrained, the result clamped), or None (no
            bounds: denoising data on its own range).
        history_size: L-BFGS correction pairs.
        callback: called after every evaluation with a :class:`Step`.

    Returns:
        An :class:`OptimizeResult`.
    """
    if optimizer not in OPTIMIZERS:
        raise InputError(f"unknown optimizer {optimizer!r}: expected lbfgs or adam")
    if iterations < 1:
        raise InputError(f"iterations must be at least 1, got {iterations}")
    lr = DEFAULT_LR[optimizer] if lr is None else lr
    if not (lr > 0 and math.isfinite(lr)):
        raise InputError(f"learning rate must be a finite number > 0, got {lr}")

    keep = Bounds(bounds)
    x = keep.variable(init)
    result = OptimizeResult(image=init.detach().clone())
    best = math.inf
    previous, calm = None, 0
    start = time.perf_counter()

    def closure():
        nonlocal best, previous, calm
        x.grad = None
        terms = keep.evaluate(x, loss_fn)  # the gradient is in x.grad
        total = terms["total"]
        names = list(terms)
        values = torch.stack([terms[n].detach().float() for n in names]).tolist()
        losses = dict(zip(names, values))
        result.iterations += 1
        result.history.append({"iteration": result.iterations, **losses})
        if not math.isfinite(losses["total"]):
            raise _Stop(StopReason.NON_FINITE)
        image = keep.image(x)
        if losses["total"] < best:
            best = losses["total"]
            result.image = image.clone()
            result.best_iteration = result.iterations
        if callback is not None:
            callback(Step(result.iterations, iterations, losses, image, time.perf_counter() - start))
        if result.iterations >= iterations:  # a line search may ask for more
            raise _Stop(StopReason.COMPLETED)
        if tolerance > 0 and previous is not None:
            small = abs(previous - losses["total"]) <= tolerance * max(abs(previous), 1e-30)
            calm = calm + 1 if small else 0
            # L-BFGS's first step is tiny (1 / |g|_1) and a line search may make small
            # probes: converged only after PATIENCE small changes in a row, past warm-up.
            if calm >= PATIENCE and result.iterations >= WARMUP:
                raise _Stop(StopReason.CONVERGED)
        previous = losses["total"]
        return total

    try:
        if optimizer == "lbfgs" and bounds == "project":
            projected_lbfgs(x, lambda: float(closure()), lr=lr, history_size=history_size)
        elif optimizer == "lbfgs":
            opt = torch.optim.LBFGS([x], lr=lr, max_iter=iterations, max_eval=iterations,
                                    tolerance_grad=-1, tolerance_change=-1, history_size=history_size,
                                    line_search_fn="strong_wolfe")
            opt.step(closure)
        else:
            opt = torch.optim.Adam([x], lr=lr)
            for _ in range(iterations):
                opt.step(closure)
                keep.step_done(x)
    except _Stop as stop:
        result.stop_reason = stop.reason
    except KeyboardInterrupt:
        result.stop_reason = StopReason.INTERRUPTED
    result.seconds = time.perf_counter() - start
    if bounds is not None and result.best_iteration == 0:  # no evaluation: the start, as delivered
        result.image = result.image.clamp_(0, 1)
    return result
