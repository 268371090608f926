"""Lambda per image by Stein's unbiased risk estimate (SURE), without the clean image.

For a denoiser ``x = f(y)`` of ``y = clean + n``, ``n ~ N(0, sigma^2 I)`` with ``N`` values,

    SURE(lambda) = ||y - f(y)||^2 / N - sigma^2 + 2 sigma^2 div f(y) / N

is an unbiased estimate of the mean squared error ``||f(y) - clean||^2 / N`` (Stein 1981).
The divergence of an iterative, non-linear solver has no closed form; the Monte-Carlo
estimate of Ramani, Blu & Unser (2008) needs one more solve, of ``y + eps * b`` with ``b`` a
fixed standard normal vector:

    div f(y) ~= b . (f(y + eps b) - f(y)) / eps.

Both solves run as one batch of two images, and they stop at the same iteration, so that
``f`` is one fixed map and the estimate is SURE of the denoiser actually used. Lambda is
then chosen by golden-section search on log lambda around the power-law rule's value.

References:
    C. M. Stein, "Estimation of the mean of a multivariate normal distribution", Annals of
    Statistics 9(6), 1981.
    S. Ramani, T. Blu and M. Unser, "Monte-Carlo SURE: a black-box optimization of
    regularization parameters for general denoising algorithms", IEEE TIP 17(9), 2008.
"""

import math
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

import torch

#: The perturbation eps as a fraction of sigma (Ramani et al. take eps small next to the noise).
EPS_FRACTION = 0.01
#: SURE evaluations of the search (golden section: the bracket shrinks by 0.618 per evaluation).
EVALUATIONS = 8
#: The solves of the search stop at this multiple of the caller's tolerance; the chosen lambda is
#: then solved again to the caller's tolerance (README, "Lambda per image", measured the trade-off).
SEARCH_TOLERANCE_FACTOR = 3.0
#: The search bracket: [rule / SPAN, rule * SPAN].
SPAN = 3.0
#: The seed of the probe vector b (the choice is reproducible).
SEED = 0

_GOLDEN = (math.sqrt(5) - 1) / 2


@dataclass
class SureChoice:
    """The lambda SURE chose, its SURE value (an estimate of the MSE on the [0, 1] scale), the image
    denoised with it (1, C, H, W), the iterations of that solve, every (lambda, SURE) evaluated, and
    whether Ctrl-C cut the search short (the best so far is kept)."""

    tv_weight: float
    sure: float
    image: torch.Tensor
    iterations: int
    evaluations: List[Dict[str, float]]
    interrupted: bool = False


def mc_sure(solve: Callable[[torch.Tensor, float], tuple], y: torch.Tensor, sigma: float, tv_weight: float,
            probe: torch.Tensor, eps: float):
    """(SURE, denoised image, iterations) of ``solve`` at ``tv_weight`` on ``y`` (1, C, H, W).

    ``solve(batch, tv_weight)`` denoises a (2, C, H, W) batch, stopping both images at one
    iteration, and returns (images, iterations); ``probe`` is ``b``, shaped like ``y``.
    """
    images, iterations = solve(torch.cat([y, y + eps * probe]), tv_weight)
    x, x_eps = images[:1], images[1:]
    n = y.numel()
    divergence = float((probe * (x_eps - x)).sum(dtype=torch.float64)) / eps
    residual = float((y - x).square().sum(dtype=torch.float64)) / n
    return residual - sigma**2 + 2 * sigma**2 * divergence / n, x, iterations


def choose_tv_weight(solve, y: torch.Tensor, sigma: float, start: float, *, evaluations: Optional[int] = None,
                     span: float = SPAN) -> SureChoice:
    """Lambda minimising SURE, by golden-section search on log lambda in [start / span, start * span].

    Args:
        solve: as for :func:`mc_sure`.
        y: the noisy image (1, C, H, W), on the [0, 1] scale.
        sigma: the noise standard deviation on the same scale (> 0).
        start: the centre of the bracket (the power-law rule's lambda).
        evaluations: SURE evaluations (each two solves in one batch), at least 2; default
            :data:`EVALUATIONS`.

    Returns:
        A :class:`SureChoice` (the best evaluated lambda).
    """
    generator = torch.Generator().manual_seed(SEED)
    probe = torch.randn(y.shape, generator=generator, dtype=torch.float32).to(y.device)
    eps = EPS_FRACTION * sigma
    seen: Dict[float, tuple] = {}

    def at(log_lambda: float) -> float:
        if log_lambda not in seen:
            seen[log_lambda] = mc_sure(solve, y, sigma, math.exp(log_lambda), probe, eps)
        return seen[log_lambda][0]

    interrupted = False
    try:
        _golden_section(at, math.log(start / span), math.log(start * span), evaluations or EVALUATIONS)
    except KeyboardInterrupt:
        if not seen:
            raise
        interrupted = True
    best = min(seen, key=lambda key: seen[key][0])
    value, image, iterations = seen[best]
    return SureChoice(math.exp(best), value, image, iterations,
                      [{"tv_weight": math.exp(k), "sure": v[0]} for k, v in sorted(seen.items())], interrupted)


def _golden_section(f: Callable[[float], float], low: float, high: float, evaluations: int) -> None:
    """Evaluate ``f`` ``evaluations`` times, narrowing [low, high] around a minimum of a unimodal ``f``."""
    a, b = high - _GOLDEN * (high - low), low + _GOLDEN * (high - low)
    fa, fb = f(a), f(b)
    for _ in range(max(0, evaluations - 2)):
        if fa <= fb:  # the minimum is in [low, b]
            high, b, fb = b, a, fa
            a = high - _GOLDEN * (high - low)
            fa = f(a)
        else:
            low, a, fa = a, b, fb
            b = low + _GOLDEN * (high - low)
            fb = f(b)
