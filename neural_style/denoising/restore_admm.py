"""Restoration under TV by ADMM with steps solved exactly by FFT: ``min_x 0.5 ||A x - y||^2 + lambda TV(x)``,
x in [0, 1], ``A = K`` or ``M K`` (a blur with unknown boundaries, and perhaps a mask of known pixels).

Almeida & Figueiredo (2013) split the problem so that each step is exact and cheap, even though A, with its
unknown boundaries and its mask, is not a convolution:

    min  0.5 ||M v - y||^2 + lambda ||W z||_{2,1} + i_[0,1](u)   s.t.   v = K x,  z = D x,  u = x

on a periodic domain at least as large as x (:meth:`~.operators.Blur.fft_shape`): K is the blur's circular
convolution and D circular forward differences, so that the x step ``(mu K^T K + mu_z D^T D + mu I) x = ...``
is diagonal in Fourier; the v step is per pixel (M marks y's known pixels inside the domain), the z step a
(vectorial) shrinkage, the u step a clip. Where y's pixels are, a circular convolution reads only x's own
pixels, so the model is :mod:`.operators`' exactly. W is 1 on the differences inside x and 0 on those that
reach the rest of the domain, so that the prior is the Neumann TV of x (that of :mod:`.restore_pd`) and the
rest of the domain is free: the problem solved is the primal-dual restorer's, not a circular one.

The penalties are ``mu = PENALTY_SCALE sqrt(lambda)`` (the v and u splits) and ``mu_z = TV_PENALTY_RATIO mu``
(measured below). The scaled duals are kept with x for a warm start (rescaled when mu changes with lambda).

Reference:
    M. S. C. Almeida and M. A. T. Figueiredo, "Deconvolving images with unknown boundaries using the
    alternating direction method of multipliers", IEEE Trans. Image Processing 22(8), 2013.
"""

import math
from dataclasses import dataclass
from typing import Callable, Optional, Tuple

import torch
import torch.nn.functional as F

from ..core.optimize import OptimizeResult, Step
from .operators import Blur, Mask
from .priors import TVPrior
from .restore_pd import Problem
from .stopping import iterate

#: ``mu = PENALTY_SCALE * sqrt(lambda)`` with a blur (as the primal-dual restorer's steps scale with lambda).
#: Measured on the first halves (Set12 01-02, kodim01; PSNR after 20 ... 300 iterations at TV's automatic
#: lambda, against the primal-dual restorer run to 1e-6): ``mu = 10 lambda`` (tried first, on Set12 07 and
#: kodim13) reached that PSNR in 30-40 iterations under noise 10 but needed 200-300 under noise 2 (lambda 10x
#: smaller), where 30-100 lambda needed 40-60; ``sqrt(lambda)`` is within 0.02 dB of it by 60 iterations in
#: both (0.5 sqrt(lambda) 100-150, 2 sqrt(lambda) alike but above the optimum early).
PENALTY_SCALE = 1.0
#: ``mu_z = TV_PENALTY_RATIO * mu``: 0.3 and 1 alike, 3 slower (Set12 07, kodim13).
TV_PENALTY_RATIO = 0.3
#: A final solve's tolerance is this multiple of the primal-dual restorer's (restore's ``_factors``):
#: ADMM's x still moves by more per iteration than that restorer's when it is as near the solution. Measured
#: on the first halves (Set12 01-02, kodim01-02, the four deblurring cases, TV at its automatic lambda; PSNR at
#: each test of a 300-iteration solve against its last): stopping at a change of 1.5e-4 (0.3 x 1e-4, times 5)
#: lost 0.024 dB at worst (mean 0.006) in 93 iterations on average; at 1e-4, 0.016 dB in 109; at 3e-4 (times
#: 10), 0.039 dB in 72; at 5e-4, 0.11 dB in 60. 5 was taken after a held-out run (Set12 07-08, kodim13-14,
#: Gaussian blur, noise 2) put 10 at 0.02-0.05 dB below the primal-dual restorer; run to 1e-6 both solvers
#: agree within 0.002 dB there, and the primal-dual restorer's own stop sits 0.005-0.048 dB above that
#: minimiser, ADMM's at 5 within -0.023 to +0.016 dB of it.
TOLERANCE_SCALE = 5.0
#: A solve of the lambda search stops at this multiple of the primal-dual restorer's tolerance: its residual
#: chooses lambda. On Set12 07 and kodim13 (motion blur with noise 10, Gaussian with noise 2), 3 chose lambda
#: within 3% of the primal-dual search's in 180-230 iterations in all (1: within 2%, 240-310; 10: up to 17%
#: off, 80-160).
SEARCH_SCALE = 3.0


def admm_applies(problem: Problem) -> bool:
    """Whether ``problem``'s operator is a blur by FFT, or one then a mask (no downsampling). Holes alone are
    left to the primal-dual restorer: there its data term's prox is per pixel, so that an iteration costs no
    FFT. Measured on Set12 07 and kodim13 (text and 50% random holes, TV): at the automatic lambda, ADMM's
    100-120 iterations took 0.4-1.1x the time of its 300-670, but the whole automatic run (the search's solves)
    0.8-2.3x."""
    kinds = [type(op) for op in problem.op.ops]
    return kinds in ([Blur], [Blur, Mask]) and problem.op.ops[0].fft


@dataclass
class AdmmState:
    """A solve's variables on the periodic domain, to warm-start from: x, the scaled duals of the three
    splits (v = K x, z = D x, u = x) and the penalty mu they are scaled by."""

    x: torch.Tensor
    d_v: torch.Tensor
    d_z: torch.Tensor
    d_u: torch.Tensor
    mu: float


class _Domain:
    """The periodic domain of ``problem``: its shape, K's spectrum, y and M placed in it, W, and the Fourier
    symbols of K^T K and D^T D."""

    def __init__(self, problem: Problem):
        y, blur = problem.y, problem.op.ops[0]
        mask = problem.op.ops[-1] if isinstance(problem.op.ops[-1], Mask) else None
        self.x_shape, self.shape = problem.op.in_shape, blur.fft_shape
        top, left = blur.kernel.shape[0] - 1, blur.kernel.shape[1] - 1  # y's first pixel in K x
        self.spectrum = blur.spectrum(y)
        height, width = y.shape[-2:]
        pad = (left, self.shape[1] - width - left, top, self.shape[0] - height - top)
        known = torch.ones_like(y[:, :1]) if mask is None else mask.known.to(y)
        self.known = F.pad(known, pad)
        self.y = F.pad(y, pad)
        xh, xw = self.x_shape
        self.weight = torch.zeros(1, 1, 2, *self.shape, dtype=y.dtype, device=y.device)
        self.weight[:, :, 0, :xh, :xw - 1] = 1  # horizontal differences inside x
        self.weight[:, :, 1, :xh - 1, :xw] = 1  # vertical ones
        fy = torch.fft.fftfreq(self.shape[0], dtype=y.dtype, device=y.device)[:, None]
        fx = torch.fft.rfftfreq(self.shape[1], dtype=y.dtype, device=y.device)[None, :]
        self.dtd = 4 * torch.sin(math.pi * fy).square() + 4 * torch.sin(math.pi * fx).square()
        self.ktk = self.spectrum.abs().square()

    def place(self, x: torch.Tensor) -> torch.Tensor:
        """x (Hx, Wx) in the domain, extended by its edge pixels."""
        return F.pad(x, (0, self.shape[1] - x.shape[-1], 0, self.shape[0] - x.shape[-2]), mode="replicate")

    def crop(self, x: torch.Tensor) -> torch.Tensor:
        return x[..., :self.x_shape[0], :self.x_shape[1]]

    def blur(self, x_hat: torch.Tensor) -> torch.Tensor:
        return torch.fft.irfft2(self.spectrum * x_hat, s=self.shape)


def _grad(x: torch.Tensor) -> torch.Tensor:
    """Circular forward differences, (B, C, 2, H, W)."""
    return torch.stack((x.roll(-1, -1) - x, x.roll(-1, -2) - x), 2)


def _grad_adjoint(p: torch.Tensor) -> torch.Tensor:
    return (p[:, :, 0].roll(1, -1) - p[:, :, 0]) + (p[:, :, 1].roll(1, -2) - p[:, :, 1])


def _start(domain: _Domain, problem: Problem, start, mu: float) -> AdmmState:
    """The state to start from: ``start``'s (its duals rescaled to ``mu``), its x alone, or the problem's."""
    if start is not None and isinstance(start[1], AdmmState):
        old, ratio = start[1], start[1].mu / mu
        return AdmmState(old.x.clone(), old.d_v * ratio, old.d_z * ratio, old.d_u * ratio, mu)
    x = domain.place(problem.start if start is None else start[0])
    return AdmmState(x, torch.zeros_like(x), torch.zeros_like(_grad(x)), torch.zeros_like(x), mu)


def solve_admm(problem: Problem, prior: TVPrior, iterations: int, tolerance: float,
               callback: Optional[Callable[[Step], None]] = None,
               start: Optional[tuple] = None) -> Tuple[OptimizeResult, tuple]:
    """(run, state): ``problem`` (for which :func:`admm_applies`) under ``prior``'s lambda TV.

    Args and returns as :func:`~.restore_pd.solve_restore`'s (``state`` is ``(x, AdmmState, None)``, x the
    whole iterate at A's input size; ``start`` another solver's state warm-starts from its x alone). The
    stopping test is that restorer's (:func:`~.stopping.converged`) on x clipped to [0, 1] (a final solve is
    given :data:`TOLERANCE_SCALE` times that restorer's tolerance).
    """
    domain = _Domain(problem)
    lam, vectorial = prior.lam, prior.vectorial
    mu = PENALTY_SCALE * math.sqrt(max(lam, 1e-8))
    mu_z = TV_PENALTY_RATIO * mu
    s = _start(domain, problem, start, mu)
    denominator = mu_z * domain.dtd + mu + mu * domain.ktk
    adjoint = mu * domain.spectrum.conj()  # mu K^T in Fourier
    inverse = 1 / (domain.known + mu)
    shrink = lam / mu_z
    dims = (1, 2) if vectorial else (2,)
    state = {"kx": domain.blur(torch.fft.rfft2(s.x)), "dx": _grad(s.x)}

    def step() -> torch.Tensor:
        v = (state["kx"] + s.d_v).mul_(mu).add_(domain.y).mul_(inverse)
        g = state["dx"] + s.d_z
        penalised = g * domain.weight
        norm = penalised.square().sum(dims, keepdim=True).sqrt_().clamp_(min=1e-12)
        z = g.sub_(penalised.mul_((shrink / norm).clamp_(max=1)))
        u = (s.x + s.d_u).clamp_(0, 1)
        rest = _grad_adjoint(z - s.d_z).mul_(mu_z).add_(u - s.d_u, alpha=mu)
        x_hat = torch.fft.rfft2(v - s.d_v).mul_(adjoint).add_(torch.fft.rfft2(rest))
        s.x = torch.fft.irfft2(x_hat.div_(denominator), s=domain.shape)
        state["kx"] = domain.blur(x_hat)
        state["dx"] = _grad(s.x)
        s.d_v.add_(state["kx"]).sub_(v)
        s.d_z.add_(state["dx"]).sub_(z)
        s.d_u.add_(s.x).sub_(u)
        return domain.crop(s.x).clamp(0, 1)

    def report(step_: Step) -> None:
        callback(Step(step_.iteration, step_.iterations, step_.losses, problem.result(step_.image), step_.elapsed))

    run = iterate(step, domain.crop(s.x).clamp(0, 1), iterations, tolerance, report if callback is not None else None)
    full = run.image
    run.image = problem.result(full)
    return run, (full, s, None)
