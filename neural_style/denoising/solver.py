"""Beta-order total-variation denoising.

The image x is optimised directly to minimise

    E(x) = fidelity(x, y) + lambda * TV_beta(x)
    TV_beta(x) = sum_ij ((x[i,j+1] - x[i,j])^2 + (x[i+1,j] - x[i,j])^2 + eps^2)^(beta/2)

(Mahendran & Vedaldi's V^beta; beta = 1 is Rudin-Osher-Fatemi), with fidelity
``0.5 * sum (x - y)^2`` (l2), ``sum |x - y|`` (l1, for impulse noise) or
``sum sqrt((x - y)^2 + eps^2)`` (charbonnier), on images on the [0, 1] scale. The data
are taken as given: noisy values outside [0, 1] are not clipped before denoising, nor is
the result (clipping belongs to writing an 8- or 16-bit file), as scikit-image does. With
l2 and beta = 1, lambda is scikit-image's ``denoise_tv_chambolle`` weight.

Solvers: for beta = 1 with l2 fidelity, the accelerated primal-dual algorithm of
Chambolle & Pock (2011, Algorithm 2; the data term is 1-strongly convex, so it
converges as O(1/k^2)); otherwise L-BFGS on E through autograd, with the TV term
computed by :func:`neural_style.losses.total_variation`, the function ``stylize`` uses.
"""

import functools
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

import numpy as np
import torch
from PIL import Image

from ..core import losses
from ..core.device import cpu_threads, other_load, require_memory, resolve_device
from ..core.metrics import estimate_sigma
from ..core.optimize import OptimizeResult, Step, optimize_image
from ..core.tensors import to_pil
from ..errors import InputError
from ..io.decode import read_image, to_tensor
from ..rules import validate
from ..settings import (
    DENOISE_ADAM_LR,
    DENOISE_ITERATIONS,
    DenoiseSettings,
    with_overrides,
)
from .nltv import GUIDE_SMOOTHING, NEIGHBOURS, build_graph, solve_nltv
from .stopping import converged
from .sure import SEARCH_TOLERANCE_FACTOR, choose_tv_weight
from .tgv import solve_tgv

DEFAULT_EPS = DenoiseSettings.eps


@dataclass
class DenoiseResult:
    """The denoised image and what the run did.

    Attributes:
        run: the solver's :class:`~neural_style.core.optimize.OptimizeResult`: ``image``
            (1, C, H, W) float32 on the input's scale (not clipped), iterations, seconds (no file I/O), stop reason
            (``"converged"``, ``"completed"`` at the iteration limit, ``"interrupted"``,
            ``"non-finite"``) and history (per iteration for L-BFGS/Adam, per check of
            ``{"iteration", "change"}`` for primal-dual).
        sigma: the noise standard deviation used, on the [0, 1] scale.
        sigma_estimated: whether ``sigma`` was estimated from the image.
        tv_weight: lambda.
        tv_beta: beta.
        optimizer: ``"primal-dual"``, ``"lbfgs"`` or ``"adam"``.
        regularizer: ``"tv"`` or ``"tgv"`` (lambda is then alpha1; alpha0 = 2 lambda).
        tv_weight_method: how lambda was chosen: ``"sure"`` (``tv_weight="auto"`` with the
            primal-dual solver: :mod:`.sure`), ``"rule"`` (``"rule"``, or ``"auto"`` with another
            solver: :func:`auto_tv_weight`) or ``"given"``.
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


#: lambda = c * sigma^p at beta = 1, fitted to the best lambda on ../shared/denoise (all of Set12;
#: the first 8 Kodak24 images; sigma 15, 25, 50; sigma as estimated by metrics.estimate_sigma, so
#: the estimator's bias is part of the rule). Colour with vectorial coupling uses lambda / sqrt(C).
_RULE = {"grey": (1.36, 1.23), "vectorial": (1.29, 1.26)}


def auto_tv_weight(sigma: float, beta: float, channels: int = 1, coupling: str = "vectorial") -> float:
    """Lambda for noise ``sigma`` (on the [0, 1] scale) and order ``beta``.

    At beta = 1: ``c * sigma^p`` with (c, p) = (1.36, 1.23) for greyscale (and per-channel
    colour) and ``sqrt(C) * 1.29 * sigma^1.26`` for colour with vectorial coupling (one root
    over C channels makes the TV of noise about sqrt(C) smaller). For other beta the TV term
    scales as |grad x|^beta ~ sigma^beta, so lambda gets a factor sigma^(1 - beta) to keep
    the balance with the data term (a dimensional extension, checked at beta 1 only).
    """
    vectorial = channels > 1 and coupling == "vectorial"
    c, p = _RULE["vectorial" if vectorial else "grey"]
    sigma = max(sigma, 1e-4)
    return (math.sqrt(channels) if vectorial else 1.0) * c * sigma ** (p + 1 - beta)


def energy(x: torch.Tensor, noisy: torch.Tensor, tv_weight: float, beta: float, eps: float = DEFAULT_EPS,
           fidelity: str = "l2", coupling: str = "vectorial") -> torch.Tensor:
    """E(x) = fidelity(x, noisy) + tv_weight * TV_beta(x), summed over the image (see module doc)."""
    if fidelity == "l2":
        data = 0.5 * losses.content_loss(x, noisy, "l2", reduction="sum")
    else:
        data = losses.content_loss(x, noisy, fidelity, eps=eps, reduction="sum")
    return data + tv_weight * losses.total_variation(x, beta=beta, eps=eps, coupling=coupling, reduction="sum")


def solver_for(settings: DenoiseSettings) -> str:
    """The solver ``settings`` ask for (``auto``: primal-dual for beta 1 with l2, else L-BFGS).

    Raises:
        InputError: a setting breaks its rule, or primal-dual was asked for another problem.
    """
    s = validate(settings)
    optimizer = s.optimizer
    if s.regularizer in ("tgv", "nltv"):
        if s.tv_beta != 1 or s.fidelity != "l2" or optimizer not in ("auto", "primal-dual"):
            raise InputError(f"--regularizer {s.regularizer} is solved by primal-dual with --tv-beta 1 and --fidelity "
                             "l2: drop the other --tv-beta, --fidelity or --optimizer")
        return "primal-dual"
    if optimizer == "auto":
        optimizer = "primal-dual" if s.tv_beta == 1 and s.fidelity == "l2" else "lbfgs"
    if optimizer == "primal-dual" and not (s.tv_beta == 1 and s.fidelity == "l2"):
        raise InputError("the primal-dual solver is for --tv-beta 1 with --fidelity l2: use lbfgs or adam")
    return optimizer


def run_denoise(noisy: torch.Tensor, settings: Optional[DenoiseSettings] = None, *,
                callback: Optional[Callable[[Step], None]] = None, **overrides) -> DenoiseResult:
    """Denoise a (1, C, H, W) image on the [0, 1] scale.

    Args:
        noisy: the image, float; values outside [0, 1] (noise) are kept as given.
        settings: a :class:`~neural_style.settings.DenoiseSettings` (default: its defaults).
        callback: called with a :class:`~neural_style.core.optimize.Step` as the solver runs.
        **overrides: fields of ``settings`` to change, e.g. ``tv_beta=1.5, sigma=20 / 255``.

    Raises:
        InputError: an invalid option, non-finite values, or values on another scale (0..255);
        TypeError: ``noisy`` is not a 4-D tensor, or an unknown field.
    """
    s = with_overrides(settings, DenoiseSettings, overrides)
    if not isinstance(noisy, torch.Tensor) or noisy.ndim != 4:
        raise TypeError(f"expected a (1, C, H, W) tensor, got {type(noisy).__name__}")
    validate(s)
    dev = s.device if isinstance(s.device, torch.device) else resolve_device(s.device)
    # one contiguous (C, H, W) layout: a permuted (H, W, C) array's strides made every pass ~2x slower
    y = noisy.to(dev, torch.float32).contiguous()
    _check_range(y)
    sigma, estimated = _sigma(s.sigma, y)
    tv_weight = _tv_weight(s.tv_weight, sigma, s.tv_beta, y.shape[1], s.coupling)
    optimizer = solver_for(s)

    tgv = s.regularizer == "tgv"
    iterations = s.iterations or (TGV_ITERATIONS if tgv else DENOISE_ITERATIONS[optimizer])
    use_sure = s.tv_weight == "auto" and optimizer == "primal-dual" and sigma > 0 and y.numel() > y.shape[1]
    _check_memory(y, s.regularizer if s.regularizer != "tv" else optimizer, iterations, dev,
                  batch=2 if use_sure else 1)
    method = "given" if not isinstance(s.tv_weight, str) else "sure" if use_sure else "rule"
    sure_value, evaluations = None, []
    if tv_weight == 0:
        run = OptimizeResult(image=y, stop_reason="converged")
    elif optimizer == "primal-dual":
        vectorial = s.coupling == "vectorial"
        solve, tolerance = (solve_tgv, s.tolerance * TGV_TOLERANCE_FACTOR) if tgv else (_rof_from, s.tolerance)
        with cpu_threads(solver_threads(y) if y.device.type == "cpu" else torch.get_num_threads()):
            if s.regularizer == "nltv":
                solve = _nltv_solver(y, sigma, s.coupling, s.tolerance)
            if use_sure:
                run, tv_weight, sure_value, evaluations = _sure_run(solve, y, sigma, tv_weight, vectorial,
                                                                    iterations, tolerance, callback)
            else:
                run, _ = solve(y, tv_weight, vectorial, iterations, tolerance, callback, None)
    else:
        def loss_fn(x):
            return {"total": energy(x, y, tv_weight, s.tv_beta, s.eps, s.fidelity, s.coupling)}

        run = optimize_image(y, loss_fn, optimizer=optimizer, iterations=iterations,
                             tolerance=s.tolerance, lr=None if optimizer == "lbfgs" else DENOISE_ADAM_LR,
                             callback=callback, clamp=False)
    return DenoiseResult(run=run, sigma=sigma, sigma_estimated=estimated, tv_weight=tv_weight,
                         tv_beta=s.tv_beta, optimizer=optimizer, tv_weight_method=method, regularizer=s.regularizer,
                         sure=sure_value,
                         sure_evaluations=evaluations)


def _nltv_solver(y: torch.Tensor, sigma: float, coupling: str, tolerance: float):
    """The NLTV solver over the graph of a TV solution of ``y`` (:mod:`.nltv`: its guide, at
    :data:`~.nltv.GUIDE_SMOOTHING` times the lambda SURE picks for TV: an image with texture, for
    which SURE picks a small lambda, keeps it in the guide)."""
    vectorial = coupling == "vectorial"
    guide = y
    if sigma > 0:
        rule = auto_tv_weight(sigma, 1.0, y.shape[1], coupling)
        iterations = DENOISE_ITERATIONS["primal-dual"]
        tv_weight = _sure_run(_rof_from, y, sigma, rule, vectorial, iterations, tolerance, None)[1] \
            if y.numel() > y.shape[1] else rule
        guide = _rof_from(y, GUIDE_SMOOTHING * tv_weight, vectorial, iterations, tolerance, None, None)[0].image
    return functools.partial(solve_nltv, graph=build_graph(guide, sigma))


def _sure_run(solver, y, sigma, start, vectorial, iterations, tolerance, callback):
    """(run, lambda, SURE, evaluations): the primal-dual ``solver`` (:func:`_rof_from` or
    :func:`~neural_style.denoising.tgv.solve_tgv`) at the lambda SURE chose (:mod:`.sure`)."""
    timer = time.perf_counter()

    state = [None]  # the last solve's (x, px, py): the next lambda starts there
    partial = []  # an interrupted solve's (lambda, image, iterations): kept if no evaluation finished

    def solve(batch, tv_weight):
        run, state[0] = solver(batch, tv_weight, vectorial, iterations, tolerance * SEARCH_TOLERANCE_FACTOR,
                               callback, state[0])
        if run.stop_reason == "interrupted":
            partial.append((tv_weight, run.image[:1].clone(), run.iterations))
            raise KeyboardInterrupt
        return run.image.clone(), run.iterations

    try:
        choice = choose_tv_weight(solve, y, sigma, start)
    except KeyboardInterrupt:  # before the first evaluation finished: the first solve's iterate so far
        if not partial:
            raise
        tv_weight, image, done = partial[0]
        run = OptimizeResult(image=image, iterations=done, stop_reason="interrupted", best_iteration=done,
                             seconds=time.perf_counter() - timer)
        return run, tv_weight, None, []
    if choice.interrupted:
        run = OptimizeResult(image=choice.image, iterations=choice.iterations, stop_reason="interrupted",
                             best_iteration=choice.iterations)
    else:  # the chosen lambda to the asked tolerance, from the search's last (nearby) solution
        run, _ = solver(y, choice.tv_weight, vectorial, iterations, tolerance, callback,
                        tuple(t[:1] for t in state[0]))
    run.seconds = time.perf_counter() - timer
    return run, choice.tv_weight, choice.sure, choice.evaluations


#: Image-sized float32 tensors each solver holds at its peak (measured: peak RSS of 4 iterations on a
#: 1024 x 1024 x 3 image, rounded up: L-BFGS 26.4, Adam 23.0, primal-dual 9.8), besides L-BFGS's history.
SOLVER_TENSORS = {"lbfgs": 28, "adam": 25, "primal-dual": 11, "tgv": 36,  # tgv: counted (x 4, w 6, p 2,
                  "nltv": 9 * NEIGHBOURS + 8}  # q 3, temporaries ~18); nltv: counted for grey (the graph
#: build's (k + 16) distances and labels ~4k; then index 2k, weights k, dual and temporaries 4k; images 8), not measured
#: TGV's iteration limit: plain Chambolle-Pock (TGV is strongly convex in x only) needs more than ROF.
TGV_ITERATIONS = 2000
#: TGV stops at this multiple of the tolerance: at 1e-4 it was ~0.2 dB short of converged on Set12.
TGV_TOLERANCE_FACTOR = 0.1


#: Below this many values (C x H x W) the primal-dual solver runs on one CPU thread: measured
#: (benchmarks/denoise_threads.py, 2 cores) 2 threads gained nothing at 128 x 128 even when idle.
SINGLE_THREAD_BELOW = 64 * 1024
#: Other runnable work (:func:`~neural_style.core.device.other_load`) from which the solver runs on
#: one thread: with one competing process, 2 threads took 1.3-1.9x one thread's time per iteration
#: (0.94x once), while idle they took 0.5-0.6x.
BUSY_LOAD = 0.5


def solver_threads(y: torch.Tensor) -> int:
    """CPU threads for the primal-dual solvers on ``y``: torch's current number, or 1 for a small
    image or on a machine busy with other work (module constants above; README, "Speed")."""
    if y.numel() < SINGLE_THREAD_BELOW or other_load(samples=1) >= BUSY_LOAD:  # one sample: no wait per image
        return 1
    return torch.get_num_threads()


def _check_memory(y: torch.Tensor, optimizer: str, iterations: int, device, batch: int = 1) -> None:
    """Refuse, before any work, an image whose solver would not fit (L-BFGS adds 2 tensors per pair;
    the SURE search solves a batch of 2)."""
    pairs = min(100, iterations) if optimizer == "lbfgs" else 0
    need = batch * y.numel() * 4 * (SOLVER_TENSORS[optimizer] + 2 * pairs)
    advice = "use --optimizer adam or a smaller image" if optimizer == "lbfgs" else "use a smaller image"
    require_memory(need, device, f"denoising {y.shape[-1]}x{y.shape[-2]} px with {optimizer}", advice)


#: Values may stray this far outside [0, 1] (noise of sigma up to ~255/255 does); a wider spread is
#: data on another scale (0..255), refused rather than denoised with a lambda meant for [0, 1].
RANGE_MARGIN = 4.0


def _check_range(y: torch.Tensor) -> None:
    if y.numel() == 0:
        raise InputError(f"the image is empty ({y.shape[-1]}x{y.shape[-2]} px): pass an image")
    low, high = float(y.min()), float(y.max())
    if not (math.isfinite(low) and math.isfinite(high)):
        raise InputError("the image contains NaN or infinite values: fix the values")
    if low < -RANGE_MARGIN or high > 1 + RANGE_MARGIN:
        raise InputError(f"the image's values span [{low:.4g}, {high:.4g}]: expected the [0, 1] scale (noise "
                         f"may stray outside it): divide 0..255 data by 255, or pass uint8/uint16 arrays")


def _sigma(sigma, y: torch.Tensor):
    """(sigma, estimated): ``"auto"`` estimates it from ``y``; a number is checked."""
    if isinstance(sigma, str):  # "auto" (validate() refused other words)
        if min(y.shape[-2:]) < 3:
            return _strip_sigma(y), True
        return float(estimate_sigma(y)[0]), True
    return sigma, False


def _strip_sigma(y: torch.Tensor) -> float:
    """Noise sigma of an image under 3 px on a side, from differences along its pixel lines: Immerkaer's
    estimator in one dimension, the residual of (1, -2, 1) ~ N(0, 6 sigma^2), along lines of 3 px or more;

    Raises:
        InputError: an image of at most 2 px on each side (1x1, 2x2, 1x2, 2x1): its few differences are
        the image as much as the noise (with a given sigma they denoise).
    """
    axis = -1 if y.shape[-1] >= y.shape[-2] else -2
    n = y.shape[axis]
    if n >= 3:
        residual = y.narrow(axis, 0, n - 2) - 2 * y.narrow(axis, 1, n - 2) + y.narrow(axis, 2, n - 2)
        return float(math.sqrt(math.pi / 2) * residual.abs().mean() / math.sqrt(6))
    raise InputError(f"the image is {y.shape[-1]}x{y.shape[-2]} px: too few pixels to estimate the noise: "
                     "pass --sigma (0..255)")


def _tv_weight(tv_weight, sigma: float, beta: float, channels: int, coupling: str) -> float:
    if not isinstance(tv_weight, str):  # a number (validate() checked it)
        return tv_weight
    try:  # "auto" or "rule": the rule (SURE starts its search there)
        weight = auto_tv_weight(sigma, beta, channels, coupling)
    except OverflowError:
        weight = math.inf
    if not math.isfinite(weight):
        raise InputError(f"the lambda rule overflows for sigma {sigma * 255:g} (0..255) and --tv-beta {beta:g}: "
                         "pass --tv-weight, or a sigma and beta in the usual range (sigma <= 255, beta <= 2)")
    return weight


def _rof_primal_dual(y, lam, vectorial, iterations, tolerance, callback):
    """min_x lam * sum_ij |grad x|_ij + 0.5 ||x - y||^2 (isotropic TV, Neumann boundary), from x = y."""
    return _rof_from(y, lam, vectorial, iterations, tolerance, callback, None)[0]


def _rof_from(y, lam, vectorial, iterations, tolerance, callback, start):
    """(run, (x, px, py)): the ROF problem from ``start`` = (x, px, py) (a warm start, e.g. the solution
    at a nearby lambda), or from x = y, p = 0 when ``start`` is None.

    Accelerated Chambolle-Pock (2011, Algorithm 2): ||grad||^2 <= 8 and the data term is
    1-strongly convex, so tau and sigma adapt each step and the iterates converge as O(1/k^2).
    The dual variable is kept scaled, q = p / lam, so that its projection is onto the unit ball.
    Every update is in place (about 16 passes over the image per iteration, no allocation).
    Stops when the RMS change of x per iteration, relative to the RMS of x, averaged over a
    check interval, falls below ``tolerance``.
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
    history, reason = [], "completed"
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
                reason = "converged"
                break
    except KeyboardInterrupt:
        reason = "interrupted"
    return (OptimizeResult(image=x, history=history, iterations=n, seconds=time.perf_counter() - timer,
                           stop_reason=reason, best_iteration=n), (x, qx * lam, qy * lam))


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
    out = run_denoise(noisy, settings, **options).image.cpu()
    if isinstance(image, Image.Image):
        result = to_pil(out)
        if data.alpha is not None:
            result.putalpha(Image.fromarray(np.round(data.alpha * 255).astype(np.uint8)))
        return result
    if isinstance(image, np.ndarray):
        pixels = out[0].permute(1, 2, 0).numpy()
        if data.alpha is not None:
            pixels = np.concatenate([pixels, data.alpha[..., None]], axis=2)
        if image.ndim == 2:
            pixels = pixels[..., 0]
        if image.dtype in (np.uint8, np.uint16):
            top = np.iinfo(image.dtype).max
            return np.round(np.clip(pixels, 0, 1) * top).astype(image.dtype)
        return pixels.astype(image.dtype)
    if isinstance(image, torch.Tensor):
        if data.alpha is not None:
            out = torch.cat([out, torch.from_numpy(data.alpha)[None, None]], dim=1)
        return out[0] if image.ndim == 3 else out
    return out
