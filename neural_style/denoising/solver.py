"""Beta-order total-variation denoising of an image in memory: the public entry points.

The image x is optimised directly to minimise ``E(x) = fidelity(x, y) + lambda * TV_beta(x)``
(:mod:`.energy`), on images on the [0, 1] scale. The data are taken as given: noisy values
outside [0, 1] are not clipped before denoising, nor is the result (clipping belongs to writing
an 8- or 16-bit file), as scikit-image does.

:func:`run_denoise` checks the settings and the image, chooses sigma (:mod:`.noise`) and lambda
(:mod:`.lambda_rule`; by SURE, :mod:`.primal_dual`) and the solver (:func:`solver_for`), checks the
memory and takes its threads (:mod:`.resources`), and runs one of the kernels: for beta = 1 with
l2 fidelity, the accelerated primal-dual algorithm of Chambolle & Pock (:mod:`.rof`; TGV:
:mod:`.tgv`; NLTV: :mod:`.nltv`); otherwise L-BFGS or Adam on E through autograd.
:func:`denoise` does the same for any kind of image and returns the same kind.
"""

import functools
import warnings
from dataclasses import dataclass, field, replace
from typing import Callable, Dict, List, Optional, Tuple

import torch

from ..core.device import resolve_device
from ..core.optimize import OptimizeResult, Step, optimize_image
from ..core.stop import STOPPED_EARLY, StopReason
from ..errors import InputError, Message, setting
from ..io.decode import read_image, to_tensor
from ..rules import validate
from ..settings import DENOISE_ADAM_LR, DenoiseSettings, denoise_iterations, resolved_regularizer, with_overrides
from .energy import energy
from .kinds import same_kind
from .lambda_rule import auto_tv_weight, tv_weight_for
from .nltv import GUIDE_SEARCH, GUIDE_SMOOTHING, auto_nltv_weight, build_graph, solve_nltv
from .noise import check_range, noise_sigma
from .primal_dual import Kernel, PrimalDual, SureRun, sure_run
from .resources import check_memory, primal_dual_threads
from .rof import solve_rof
from .sure import SEARCH_TOLERANCE_FACTOR, choose_tv_weight
from .tgv import TOLERANCE_FACTOR as TGV_TOLERANCE_FACTOR
from .tgv import solve_tgv


@dataclass
class DenoiseResult:
    """The denoised image and what the run did.

    Attributes:
        run: the solver's :class:`~neural_style.core.optimize.OptimizeResult`: ``image``
            (1, C, H, W) float32 on the input's scale (not clipped), iterations, seconds (no file I/O), stop reason
            (a :class:`~neural_style.core.stop.StopReason`: ``"converged"``, ``"completed"`` at the iteration
            limit, ``"interrupted"``, ``"non-finite"``) and history (per iteration for L-BFGS/Adam, per check of
            ``{"iteration", "change"}`` for primal-dual).
        sigma: the noise standard deviation used, on the [0, 1] scale.
        sigma_estimated: whether ``sigma`` was estimated from the image.
        tv_weight: lambda.
        tv_beta: beta.
        optimizer: ``"primal-dual"``, ``"lbfgs"`` or ``"adam"``.
        regularizer: ``"tv"``, ``"tgv"`` (lambda is then alpha1; alpha0 = 2 lambda) or ``"nltv"``.
        tv_weight_method: how lambda was chosen: ``"sure"`` (``tv_weight="auto"`` with the
            primal-dual solver: :mod:`.sure`), ``"rule"`` (``"rule"``, or ``"auto"`` with another
            solver: :func:`~.lambda_rule.auto_tv_weight`) or ``"given"``.
        sure: the SURE estimate of the mean squared error at the chosen lambda ([0, 1] scale), or None.
        sure_evaluations: ``{"tv_weight", "sure"}`` for each lambda the search evaluated.
    """

    run: OptimizeResult
    sigma: float
    sigma_estimated: bool
    tv_weight: float
    tv_beta: float
    optimizer: str
    tv_weight_method: str = "given"
    regularizer: str = "tv"
    sure: Optional[float] = None
    sure_evaluations: List[Dict[str, float]] = field(default_factory=list)

    @property
    def image(self) -> torch.Tensor:
        """The denoised image, (1, C, H, W) float32, not clipped (``run.image``)."""
        return self.run.image


def solver_for(settings: DenoiseSettings) -> str:
    """The solver ``settings`` ask for (``auto``: primal-dual for beta 1 with l2, else L-BFGS).

    Returns:
        ``"primal-dual"``, ``"lbfgs"`` or ``"adam"``.

    Raises:
        InputError: a setting breaks its rule, or primal-dual was asked for another problem.
    """
    s = validate(settings)
    optimizer = s.optimizer
    if s.regularizer in ("tgv", "nltv"):
        if s.tv_beta != 1 or s.fidelity != "l2" or optimizer not in ("auto", "primal-dual"):
            raise InputError(f"{setting('regularizer')} {s.regularizer} is solved by primal-dual with "
                             f"{setting('tv_beta')} 1 and {setting('fidelity')} l2: drop the other "
                             f"{setting('tv_beta')}, {setting('fidelity')} or {setting('optimizer')}")
        return "primal-dual"
    if optimizer == "auto":
        optimizer = "primal-dual" if s.tv_beta == 1 and s.fidelity == "l2" else "lbfgs"
    if optimizer == "primal-dual" and not (s.tv_beta == 1 and s.fidelity == "l2"):
        raise InputError(f"the primal-dual solver is for {setting('tv_beta')} 1 with {setting('fidelity')} l2: "
                         "use lbfgs or adam")
    return optimizer


def run_denoise(noisy: torch.Tensor, settings: Optional[DenoiseSettings] = None, *,
                callback: Optional[Callable[[Step], None]] = None, **overrides) -> DenoiseResult:
    """Denoise a (1, C, H, W) image on the [0, 1] scale.

    Args:
        noisy: the image, float; values outside [0, 1] (noise) are kept as given.
        settings: a :class:`~neural_style.settings.DenoiseSettings` (default: its defaults; ``iterations``
            None: :func:`~neural_style.settings.denoise_iterations` of the regularizer and solver).
        callback: called with a :class:`~neural_style.core.optimize.Step` as the solver runs.
        **overrides: fields of ``settings`` to change, e.g. ``tv_beta=1.5, sigma=20 / 255``.

    Returns:
        A :class:`DenoiseResult`; after Ctrl-C its run stops ``"interrupted"`` with the best image so far.

    Raises:
        InputError: an invalid option, non-finite values, or values on another scale (0..255);
        ResourceError: the solver would not fit in the device's memory;
        TypeError: ``noisy`` is not a 4-D tensor, or an unknown field.
    """
    s = with_overrides(settings, DenoiseSettings, overrides)
    if not isinstance(noisy, torch.Tensor) or noisy.ndim != 4:
        raise TypeError(f"expected a (1, C, H, W) tensor, got {type(noisy).__name__}")
    validate(s)
    s = replace(s, regularizer=resolved_regularizer(s, noisy.shape[-2] * noisy.shape[-1]))
    dev = s.device if isinstance(s.device, torch.device) else resolve_device(s.device)
    # one contiguous (C, H, W) layout: a permuted (H, W, C) array's strides made every pass ~2x slower
    y = noisy.to(dev, torch.float32).contiguous()
    check_range(y)
    sigma, estimated = noise_sigma(s.sigma, y)
    tv_weight = tv_weight_for(s.tv_weight, sigma, s.tv_beta, y.shape[1], s.coupling, s.fidelity)
    optimizer = solver_for(s)
    iterations = s.iterations or denoise_iterations(s.regularizer, optimizer)
    use_sure = s.tv_weight == "auto" and optimizer == "primal-dual" and sigma > 0 and y.numel() > y.shape[1]
    check_memory(y, s.regularizer if s.regularizer != "tv" else optimizer, iterations, dev,
                 batch=2 if use_sure else 1)
    # NLTV's automatic lambda is its rule (nltv.auto_nltv_weight); SURE picks only its guide's
    method = "given" if not isinstance(s.tv_weight, str) else "sure" if use_sure and s.regularizer != "nltv" else "rule"
    if tv_weight == 0:
        chosen = SureRun(OptimizeResult(image=y, stop_reason=StopReason.CONVERGED), tv_weight)
    elif optimizer == "primal-dual":
        chosen = _primal_dual(y, s, sigma, tv_weight, iterations, use_sure, callback)
    else:
        chosen = SureRun(_descent(y, s, optimizer, tv_weight, iterations, callback), tv_weight)
    _say_if_unchanged(chosen, y, s)
    return DenoiseResult(run=chosen.run, sigma=sigma, sigma_estimated=estimated, tv_weight=chosen.tv_weight,
                         tv_beta=s.tv_beta, optimizer=optimizer, tv_weight_method=method, regularizer=s.regularizer,
                         sure=chosen.sure, sure_evaluations=chosen.evaluations)


#: A result whose every value is within this of the input's (half a level of 255) is the input again.
UNCHANGED = 0.5 / 255


def _say_if_unchanged(chosen: SureRun, y: torch.Tensor, s: DenoiseSettings) -> None:
    """A warning when a run with a lambda above 0 ends where it started: every value within
    :data:`UNCHANGED` of the input's (a lambda too small for its data term changes nothing)."""
    if chosen.tv_weight <= 0 or chosen.run.stop_reason in STOPPED_EARLY:
        return
    steps = [y.diff(dim=d).abs().amax() for d in (-1, -2) if y.shape[d] > 1]
    if not steps or float(max(steps)) < UNCHANGED:  # a flat image (or one pixel): nothing any lambda could smooth
        return
    if float((chosen.run.image - y).abs().max()) < UNCHANGED:
        warnings.warn(Message(f"the result equals the input: lambda {chosen.tv_weight:.3g} changed no value by half a "
                              f"level; raise {setting('tv_weight')} (with {setting('fidelity')} {s.fidelity}, try "
                              f"{setting('tv_weight')} auto)"), UserWarning, stacklevel=3)


def _primal_dual(y: torch.Tensor, s: DenoiseSettings, sigma: float, tv_weight: float, iterations: int,
                 use_sure: bool, callback) -> SureRun:
    """The primal-dual kernel of ``s.regularizer`` on ``y``, at ``tv_weight`` or at SURE's lambda around it."""
    tgv = s.regularizer == "tgv"
    with primal_dual_threads(y):
        if s.regularizer == "nltv":  # an automatic lambda from the TV rule's (no SURE search: .nltv)
            kernel, guide = _nltv_kernel(y, sigma, s.coupling, s.tolerance)
            colour = s.coupling == "vectorial" and y.shape[1] > 1
            weight = auto_nltv_weight(tv_weight, sigma, colour) if isinstance(s.tv_weight, str) else tv_weight
            solver = PrimalDual(kernel, s.coupling == "vectorial", iterations, s.tolerance, callback)
            return SureRun(solver.solve(y, weight, (guide, None))[0], weight)
        kernel = solve_tgv if tgv else solve_rof
        solver = PrimalDual(kernel, s.coupling == "vectorial", iterations,
                            s.tolerance * TGV_TOLERANCE_FACTOR if tgv else s.tolerance, callback)
        if use_sure:
            return sure_run(solver, y, sigma, tv_weight)
        return SureRun(solver.solve(y, tv_weight)[0], tv_weight)


def _nltv_kernel(y: torch.Tensor, sigma: float, coupling: str, tolerance: float) -> Tuple[Kernel, torch.Tensor]:
    """(kernel, guide): the NLTV kernel over the graph of ``guide``, the TV solution of ``y`` at
    :data:`~.nltv.GUIDE_SMOOTHING` times the lambda a short TV SURE search picks (:data:`~.nltv.GUIDE_SEARCH`
    evaluations at the search tolerance: a textured image, for which SURE picks a small lambda, keeps its
    texture in the guide; ``y`` itself for sigma 0)."""
    guide = y
    if sigma > 0:
        rule = auto_tv_weight(sigma, 1.0, y.shape[1], coupling)
        tv = PrimalDual(solve_rof, coupling == "vectorial", denoise_iterations("tv", "primal-dual"),
                        tolerance * SEARCH_TOLERANCE_FACTOR)
        state = [None]

        def solve(batch: torch.Tensor, weight: float):
            run, state[0] = tv.solve(batch, weight, state[0])
            return run.image, run.iterations

        weight = choose_tv_weight(solve, y, sigma, rule, evaluations=GUIDE_SEARCH).tv_weight if y.numel() > 1 else rule
        guide = replace(tv, tolerance=tolerance).solve(y, GUIDE_SMOOTHING * weight)[0].image
    return functools.partial(solve_nltv, graph=build_graph(guide, sigma)), guide


def _descent(y: torch.Tensor, s: DenoiseSettings, optimizer: str, tv_weight: float, iterations: int,
             callback) -> OptimizeResult:
    """L-BFGS or Adam on :func:`~.energy.energy` through autograd, from x = y."""
    def loss_fn(x):
        return {"total": energy(x, y, tv_weight, s.tv_beta, s.eps, s.fidelity, s.coupling)}

    return optimize_image(y, loss_fn, optimizer=optimizer, iterations=iterations,
                          tolerance=s.tolerance, lr=None if optimizer == "lbfgs" else DENOISE_ADAM_LR,
                          callback=callback, bounds=None)


def denoise(image, settings: Optional[DenoiseSettings] = None, **options):
    """Denoise an image; returns the same kind of image.

    Args:
        image: a path, PIL image, numpy array ((H, W) or (H, W, C); uint8, uint16 or float in
            [0, 1]; 2 or 4 channels carry alpha) or tensor ((C, H, W) or (1, C, H, W) in [0, 1]).
        settings: a :class:`~neural_style.settings.DenoiseSettings` (tv_beta, tv_weight, sigma,
            fidelity, coupling, optimizer, iterations, tolerance, eps, device).
        **options: ``callback`` and fields of ``settings`` to change, as for :func:`run_denoise`.

    Returns:
        For a PIL image, an 8-bit PIL image of the same mode; for an array, an array of the same
        shape and dtype; for a tensor, a float tensor of the same shape; for a path, a
        (1, C, H, W) tensor. Alpha is passed through untouched. Float arrays and tensors are
        denoised as given and returned unclipped (noise may leave [0, 1]); integer arrays and
        PIL images are clipped when converted back.

    Raises:
        InputError: non-finite values, or float values far outside [0, 1] (data on the 0..255
        scale: divide by 255); see also :func:`run_denoise`.
    """
    data = read_image(image, clip=False)
    noisy = to_tensor(data, channels=None)
    return same_kind(image, data, run_denoise(noisy, settings, **options).image)
