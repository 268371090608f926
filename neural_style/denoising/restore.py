"""Restoration of an image in memory: ``min_x fidelity(A x, y) + lambda R(x)``, ``A = M . S . K``.

:func:`run_restore` checks the settings, the image and the degradation (:mod:`.degradation`), takes
sigma (given, or estimated: :func:`~.noise.masked_sigma` from the known pixels when some are missing),
builds the operators (:mod:`.operators`) and solves: beta 1 with l2 fidelity by the primal-dual
restorer (:mod:`.restore_pd`, under a :mod:`.priors` prior; TV under a blur by ADMM, :mod:`.restore_admm`;
lambda by the discrepancy principle: :mod:`.discrepancy`); another beta or fidelity by L-BFGS or Adam on
the energy through autograd. With no degradation it is :func:`~.solver.run_denoise` (the identity case).
"""

import time
from dataclasses import dataclass, field, fields, replace
from typing import Callable, Dict, List, Optional

import torch

from ..core import losses
from ..core.device import resolve_device
from ..core.optimize import OptimizeResult, Step, optimize_image
from ..core.stop import StopReason
from ..errors import InputError, setting
from ..rules import validate
from ..settings import (
    DENOISE_ADAM_LR,
    DenoiseSettings,
    RestoreSettings,
    restore_iterations,
    restore_regularizer,
    with_overrides,
)
from .degradation import Degradation, build_problem, check_degradation
from .discrepancy import choose_weight, kappa_for, start_weight
from .nltv import GUIDE_SMOOTHING, H_FACTOR, build_graph
from .noise import check_range, masked_sigma, noise_sigma
from .operators import Blur, Downsample, Mask
from .priors import NLTVPrior, TGVPrior, TVPrior
from .resources import check_memory, primal_dual_threads
from .restore_admm import SEARCH_SCALE as ADMM_SEARCH_SCALE
from .restore_admm import TOLERANCE_SCALE as ADMM_FINAL_SCALE
from .restore_admm import admm_applies, solve_admm
from .restore_pd import Problem, solve_restore
from .solver import run_denoise, solver_for


@dataclass
class RestoreResult:
    """The restored image and what the run did.

    Attributes:
        run: the solver's :class:`~neural_style.core.optimize.OptimizeResult`: ``image`` (1, C, H', W')
            float32 at the output size; in [0, 1] (the primal-dual restorer keeps x there; the identity case
            is denoise's, not clipped).
        sigma, sigma_estimated, tv_weight, tv_beta, optimizer, regularizer: as
            :class:`~.solver.DenoiseResult`'s.
        tv_weight_method: ``"discrepancy"`` (:mod:`.discrepancy`), ``"rule"`` (its start,
            :func:`~.discrepancy.start_weight`), ``"given"``, denoise's method in the identity case, or
            ``"none"`` when nothing was to be done (``optimizer`` ``"none"``, ``run`` 0 iterations,
            ``"completed"``).
        residual: ``||A x - y||^2`` per known value at the result, or None.
        evaluations: ``{"tv_weight", "residual"}`` for each lambda the search evaluated.
        work: a :class:`Work`: the solves run (the searches', NLTV's guide's, the final ones) and their
            iterations in all (``run.iterations`` is the last solve's); None in the identity case (denoise's
            run) and when nothing was to be done.
    """

    run: OptimizeResult
    sigma: float
    sigma_estimated: bool
    tv_weight: float
    tv_beta: float
    optimizer: str
    regularizer: str
    tv_weight_method: str = "given"
    residual: Optional[float] = None
    evaluations: List[Dict[str, float]] = field(default_factory=list)
    work: Optional["Work"] = None

    @property
    def image(self) -> torch.Tensor:
        """The restored image, (1, C, H', W') float32 (``run.image``)."""
        return self.run.image


@dataclass
class Work:
    """What a restoration ran: ``solves`` and their ``iterations`` in all (counted as they end)."""

    solves: int = 0
    iterations: int = 0

    def count(self, run: OptimizeResult) -> None:
        self.solves += 1
        self.iterations += run.iterations


def run_restore(degraded: torch.Tensor, degradation: Optional[Degradation] = None,
                settings: Optional[RestoreSettings] = None, *, callback: Optional[Callable[[Step], None]] = None,
                **overrides) -> RestoreResult:
    """Restore a (1, C, H, W) image on the [0, 1] scale from ``degradation``.

    Args:
        degraded: the image y, float; values outside [0, 1] (noise) are taken as given.
        degradation: the :class:`~.degradation.Degradation` (blur kernel, known pixels at y's size,
            enlargement); None or empty: denoising (:func:`~.solver.run_denoise`); a mask with nothing to
            fill and nothing else: y back (``optimizer`` ``"none"``), with a warning.
        settings: a :class:`~neural_style.settings.RestoreSettings` (its blur, mask, mask_color and upscale
            are what :func:`~.restore_api.restore` reads into ``degradation``; here only ``degradation`` counts).
        callback: called with a :class:`~neural_style.core.optimize.Step` as the solver runs.
        **overrides: fields of ``settings`` to change.

    Returns:
        A :class:`RestoreResult`; after Ctrl-C its run stops ``"interrupted"`` with the iterate so far.

    Raises:
        InputError: an invalid option, a mask of another size or with no known pixel, non-finite values,
            or values on another scale (0..255); ResourceError: the solver would not fit in memory;
        TypeError: ``degraded`` is not a 4-D tensor, or an unknown field.
    """
    timer = time.perf_counter()
    s = with_overrides(settings, RestoreSettings, overrides)
    if not isinstance(degraded, torch.Tensor) or degraded.ndim != 4:
        found = f"shape {tuple(degraded.shape)}" if isinstance(degraded, torch.Tensor) else type(degraded).__name__
        raise TypeError(f"expected a (1, C, H, W) tensor, got {found}")
    validate(s)
    dev = s.device if isinstance(s.device, torch.device) else resolve_device(s.device)
    y = degraded.to(dev, torch.float32).contiguous()
    check_range(y)
    given = degradation or Degradation()
    degradation = check_degradation(given, y)
    if degradation.is_identity and given.known is not None and given.kernel is None:  # a mask with nothing
        # to fill, and nothing else (a one-pixel blur dropped with it: denoising, below)
        return RestoreResult(run=OptimizeResult(image=y, stop_reason=StopReason.COMPLETED), sigma=0.0,
                             sigma_estimated=False, tv_weight=0.0, tv_beta=s.tv_beta, optimizer="none",
                             regularizer="none", tv_weight_method="none")
    if s.tv_weight == 0:
        raise InputError(f"{setting('tv_weight')} 0 leaves the blur, the holes or the enlargement without a prior: "
                         f"pass a lambda above 0, or {setting('tv_weight')} auto")
    if degradation.is_identity:
        return _denoised(y, s, callback)
    shape = degradation.output_shape(tuple(y.shape[-2:]))
    s = replace(s, regularizer=restore_regularizer(s, shape[0] * shape[1], degradation.kernel is not None,
                                                   degradation.known is not None, degradation.upscale is not None))
    optimizer = solver_for(s)
    known = None if degradation.known is None else degradation.known.to(dev)[None, None]
    if isinstance(s.sigma, str) and known is not None:
        sigma, estimated = masked_sigma(y, known), True
    else:
        sigma, estimated = noise_sigma(s.sigma, y)
    iterations = s.iterations or restore_iterations(s.regularizer, optimizer)
    problem = build_problem(y, degradation)
    if optimizer == "primal-dual" and s.optimizer == "auto" and s.regularizer == "tv" and admm_applies(problem):
        optimizer = "admm"  # the same problem, solved in fewer and cheaper iterations (:mod:`.restore_admm`)
    check_memory(problem.start, s.regularizer if s.regularizer != "tv" else optimizer, iterations, dev)
    method = "given" if not isinstance(s.tv_weight, str) else "discrepancy" if s.tv_weight == "auto" else "rule"
    work = Work()
    with primal_dual_threads(problem.start):
        if optimizer in ("primal-dual", "admm"):
            result = _primal_dual(problem, s, sigma, iterations, callback, work, optimizer == "admm")
        else:
            tv_weight = start_weight(sigma) if isinstance(s.tv_weight, str) else s.tv_weight
            result = _descent(problem, s, optimizer, tv_weight, iterations, callback)
            method = "given" if method == "given" else "rule"
            work.count(result[0])
    run, tv_weight, residual, evaluations = result
    run.seconds = time.perf_counter() - timer  # the whole restoration: the search, the graph, the solve
    return RestoreResult(run=run, sigma=sigma, sigma_estimated=estimated, tv_weight=tv_weight, tv_beta=s.tv_beta,
                         optimizer=optimizer, regularizer=s.regularizer, tv_weight_method=method,
                         residual=residual, evaluations=evaluations, work=work)


def _denoised(y: torch.Tensor, s: RestoreSettings, callback) -> RestoreResult:
    """The identity case: denoise's run."""
    names = {f.name for f in fields(DenoiseSettings)}
    settings = DenoiseSettings(**{k: v for k, v in vars(s).items() if k in names})
    r = run_denoise(y, settings, callback=callback)
    return RestoreResult(run=r.run, sigma=r.sigma, sigma_estimated=r.sigma_estimated, tv_weight=r.tv_weight,
                         tv_beta=r.tv_beta, optimizer=r.optimizer, regularizer=r.regularizer,
                         tv_weight_method=r.tv_weight_method)


#: TGV's alpha0 / alpha1 in restoration (denoise uses :data:`~.tgv.ALPHA_RATIO`, 2): a smaller alpha0 lets
#: w follow the gradient more, so that a hole is filled along the shading around it. Chosen on Set12 01-06
#: (inpainting, the tuning half): ratios 0.05, 0.1, 0.25, 0.5, 1, 2 and 4 tried, 0.25 the best.
TGV_ALPHA_RATIO = 0.25
#: NLTV's weights in restoration use ``h = max(H_FACTOR sigma, NLTV_H_MIN)`` (both on the [0, 1] scale): the
#: guide of a restoration is not noisy but blurred or filled, and patches that differ by its residual error
#: should still count as alike. Chosen on Set12 01-06 (inpainting) among h = 3, 6, 12, 20, 30, 50 and 100
#: (/255): 30-100 within 0.1 dB of each other, 3-12 0.6-3 dB worse.
NLTV_H_MIN = 50 / 255
#: NLTV's graph when pixels are missing: a window of NLTV_HOLES_WINDOW px and its NLTV_HOLES_NEIGHBOURS most
#: similar patches (denoise's :data:`~.nltv.WINDOW` and :data:`~.nltv.NEIGHBOURS`, 11 and 8, otherwise):
#: the few best matches of a wider window carry a hole's structure across it where more of them average
#: it away. Chosen on the first halves of Set12 and Kodak24 (6 images each, benchmarks/restore_vs_peers.py
#: --constant): for holes, neighbours 16, 8, 5, 4 and 3, windows 11 and 15 and patches 3 and 5 tried (4 in
#: 15 with patches of 5: +0.08 to +0.29 dB over 8 in 11 on the four rows; 16 neighbours -0.23 to -0.69 dB,
#: patches of 3 -0.38 to +0.06); for blur and enlarging 5 in 15 lost 0.03-0.22 dB against 8 in 11 (Set12).
NLTV_HOLES_WINDOW = 15
NLTV_HOLES_NEIGHBOURS = 4
#: The final solve stops at this multiple of the tolerance: the iterate changes slowly where A is not
#: invertible, so that the change per iteration under-states how far it is. Chosen on the first halves
#: (Set12 01-02 and kodim01-02, every case, TV and NLTV each at its automatic lambda; the PSNR at each
#: stopping test of one solve run to 0.1): at 0.3 the deblurred and enlarged images are within -0.036 to
#: +0.044 dB (mean +0.002) of the solve to 0.1, in 0.41-0.77 of its iterations (mean 0.58); at 0.5
#: -0.063 dB at worst, at 1 -0.11 dB.
TOLERANCE_FACTOR = 0.3
#: The final solve's multiple when pixels are missing: the iterate changes only in the holes, so a change
#: averaged over the image under-states it more: text holes lost up to 0.17 dB at 0.3 (same measurement).
TOLERANCE_FACTOR_MASK = 0.1
#: Solves inside the lambda search stop at this multiple of the tolerance.
SEARCH_FACTOR = 1.0
#: NLTV's guide (its final solve) stops at this multiple of the tolerance for a blur or an enlargement: only
#: its graph is kept. On the first halves (Set12 01-02, kodim01-02, benchmarks/restore_vs_peers.py --halves
#: first --limit 2 --priors nltv) the guide at 1 left every deblurring and enlarging row within 0.01 dB of
#: the guide at the final solve's factor, but text holes lost 0.61 dB on Set12: with missing pixels the guide
#: keeps :data:`TOLERANCE_FACTOR_MASK`.
GUIDE_FACTOR = 1.0
#: With holes alone (no blur, no enlargement), the pixels NLTV's guide filled count this much in its patch
#: distances, the known ones 1 (:func:`~.nltv.build_graph`'s ``confidence``): the filled ones are the guide's
#: guess. Chosen on the first halves (Set12 01-06, kodim01-04, benchmarks/restore_vs_peers.py --halves first
#: --cases inpaint-random,inpaint-text --priors nltv --constant restore.NLTV_FILLED_CONFIDENCE=W), against
#: 1 (every pixel alike), in dB on (random Set12, random Kodak24, text Set12, text Kodak24): 0.1 -0.32,
#: -0.29, -0.08, +0.19; 0.3 +0.06, -0.02, +0.14, +0.22; 0.5 +0.14, +0.03, +0.20, +0.14; 0.7 +0.09, +0.04,
#: +0.09, +0.09. Under a blur or an enlargement the mask is not at x's pixels and every pixel counts alike.
NLTV_FILLED_CONFIDENCE = 0.5


def _prior(s: RestoreSettings, graph):
    vectorial = s.coupling == "vectorial"
    if s.regularizer == "tgv":
        return lambda lam: TGVPrior(lam, vectorial, TGV_ALPHA_RATIO)
    if s.regularizer == "nltv":
        return lambda lam: NLTVPrior(lam, vectorial, graph)
    return lambda lam: TVPrior(lam, vectorial)


def _primal_dual(problem: Problem, s: RestoreSettings, sigma: float, iterations: int, callback, work: Work,
                 admm: bool = False):
    """(run, lambda, residual, evaluations) of the primal-dual restorer (or, with ``admm``, TV's ADMM) at the
    settings' lambda (NLTV: over the graph of a TGV guide, from the guide's x; an interrupted guide is the
    result)."""
    graph, first = None, None
    if s.regularizer == "nltv":
        guide, state = _nltv_guide(problem, s, sigma, iterations, callback, work)
        if guide[0].stop_reason == StopReason.INTERRUPTED:
            return guide
        graph = _graph(problem, state[0], max(H_FACTOR * sigma, NLTV_H_MIN))
        first = (state[0], state[1], None)
    solve = _solver(problem, _prior(s, graph), s.tolerance, iterations, callback, work, admm=admm)
    if s.tv_weight == "auto":
        choice = choose_weight(solve, sigma, _kappa(problem, sigma), first)
        return choice.run, choice.tv_weight, choice.residual, choice.evaluations
    lam = start_weight(sigma) if s.tv_weight == "rule" else s.tv_weight
    run, _, residual = solve(lam, first, False)
    return run, lam, residual, []


def _graph(problem: Problem, guide: torch.Tensor, h: float):
    """NLTV's graph over ``guide`` with the weights' ``h`` (a wider window and fewer neighbours for holes)."""
    if _has(problem, Mask):
        confidence = None
        if len(problem.op.ops) == 1:  # holes alone: the mask is at x's size
            known = problem.op.ops[0].known
            confidence = known + NLTV_FILLED_CONFIDENCE * (1 - known)
        return build_graph(guide, h, window=NLTV_HOLES_WINDOW, neighbours=NLTV_HOLES_NEIGHBOURS,
                           confidence=confidence)
    return build_graph(guide, h)


def _solver(problem: Problem, make, tolerance: float, iterations: int, callback, work: Work, guide: bool = False,
            admm: bool = False):
    """``(lambda, start, search) -> (run, state, residual)``: one solve under the prior ``make(lambda)`` (by
    :func:`~.restore_admm.solve_admm` with ``admm``, else the primal-dual restorer), to :func:`_factors` times
    ``tolerance``, counted in ``work``."""
    during, final = (tolerance * factor for factor in _factors(problem, guide, admm))
    method = solve_admm if admm else solve_restore

    def solve(lam: float, start, search: bool):
        run, state = method(problem, make(lam), iterations, during if search else final, callback, start)
        work.count(run)
        return run, state, problem.residual(state[0])

    return solve


def _factors(problem: Problem, guide: bool, admm: bool) -> tuple:
    """(search, final): the multiples of the tolerance a solve of the lambda search and the final solve stop
    at. Search :data:`SEARCH_FACTOR`; final :data:`TOLERANCE_FACTOR_MASK` with missing pixels, else
    :data:`GUIDE_FACTOR` for NLTV's guide and :data:`TOLERANCE_FACTOR` for the restoration; with ``admm``,
    these times :data:`~.restore_admm.SEARCH_SCALE` and :data:`~.restore_admm.TOLERANCE_SCALE`."""
    final = TOLERANCE_FACTOR_MASK if _has(problem, Mask) else GUIDE_FACTOR if guide else TOLERANCE_FACTOR
    if admm:
        return SEARCH_FACTOR * ADMM_SEARCH_SCALE, final * ADMM_FINAL_SCALE
    return SEARCH_FACTOR, final


def _has(problem: Problem, kind) -> bool:
    """Whether the problem's operator holds an operator of class ``kind``."""
    return any(isinstance(op, kind) for op in problem.op.ops)


def _kappa(problem: Problem, sigma: float) -> float:
    return kappa_for(_has(problem, Blur), _has(problem, Mask), _has(problem, Downsample), sigma)


def _nltv_guide(problem: Problem, s: RestoreSettings, sigma: float, iterations: int, callback, work: Work):
    """((run, lambda, residual, evaluations), state) of the TGV restoration NLTV's graph is built on (at the
    lambda the discrepancy principle picks for it, alpha ratio :data:`TGV_ALPHA_RATIO`, its final solve to
    :func:`_factors` times the tolerance; :mod:`.nltv`)."""
    vectorial = s.coupling == "vectorial"
    solve = _solver(problem, lambda lam: TGVPrior(lam, vectorial, TGV_ALPHA_RATIO), s.tolerance, iterations, callback,
                    work, guide=True)
    if s.tv_weight == "auto":
        c = choose_weight(solve, sigma, _kappa(problem, sigma))
        return (c.run, c.tv_weight, c.residual, c.evaluations), c.state
    lam = GUIDE_SMOOTHING * start_weight(sigma)
    run, state, residual = solve(lam, None, False)
    return (run, lam, residual, []), state


def _descent(problem: Problem, s: RestoreSettings, optimizer: str, tv_weight: float, iterations: int, callback):
    """L-BFGS or Adam on ``fidelity(A x, y) + lambda TV_beta(x)`` through autograd, from the first x."""
    def loss_fn(x):
        ax = problem.op.forward(x)
        if s.fidelity == "l2":
            data = 0.5 * losses.content_loss(ax, problem.y, "l2", reduction="sum")
        else:
            data = losses.content_loss(ax, problem.y, s.fidelity, eps=s.eps, reduction="sum")
        tv = losses.total_variation(x, beta=s.tv_beta, eps=s.eps, coupling=s.coupling, reduction="sum")
        return {"total": data + tv_weight * tv}

    def report(step: Step) -> None:
        callback(Step(step.iteration, step.iterations, step.losses, problem.result(step.image), step.elapsed))

    run = optimize_image(problem.start, loss_fn, optimizer=optimizer, iterations=iterations, tolerance=s.tolerance,
                         lr=None if optimizer == "lbfgs" else DENOISE_ADAM_LR,
                         callback=report if callback is not None else None, bounds=None)
    full = run.image.detach()
    run.image = problem.result(full).clamp(0, 1)
    return run, tv_weight, problem.residual(full), []

