"""The objective of beta-order TV denoising, on images on the [0, 1] scale.

    E(x) = fidelity(x, y) + lambda * TV_beta(x)
    TV_beta(x) = sum_ij ((x[i,j+1] - x[i,j])^2 + (x[i+1,j] - x[i,j])^2 + eps^2)^(beta/2)

(Mahendran & Vedaldi's V^beta; beta = 1 is Rudin-Osher-Fatemi), with fidelity
``0.5 * sum (x - y)^2`` (l2), ``sum |x - y|`` (l1, for impulse noise) or
``sum sqrt((x - y)^2 + eps^2)`` (charbonnier). The TV term is
:func:`neural_style.losses.total_variation`, the function ``stylize`` uses.
"""

import torch

from ..core import losses
from ..settings import DenoiseSettings

#: The TV's (and Charbonnier fidelity's) smoothing, as :class:`~neural_style.settings.DenoiseSettings` has it.
DEFAULT_EPS = DenoiseSettings.eps


def energy(x: torch.Tensor, noisy: torch.Tensor, tv_weight: float, beta: float, eps: float = DEFAULT_EPS,
           fidelity: str = "l2", coupling: str = "vectorial") -> torch.Tensor:
    """E(x) = fidelity(x, noisy) + tv_weight * TV_beta(x), summed over the image (see module doc).

    Args:
        x, noisy: (B, C, H, W) float images on the [0, 1] scale (noise may stray outside it).
        tv_weight: lambda (>= 0).
        beta: the order of the total variation (> 0; 1: ROF).
        eps: the smoothing of the TV and of the Charbonnier fidelity.
        fidelity: ``"l2"``, ``"l1"`` or ``"charbonnier"``.
        coupling: ``"vectorial"`` (the colour channels under one root) or ``"channel"``.

    Returns:
        A scalar tensor of ``x``'s dtype (differentiable in ``x``).
    """
    if fidelity == "l2":
        data = 0.5 * losses.content_loss(x, noisy, "l2", reduction="sum")
    else:
        data = losses.content_loss(x, noisy, fidelity, eps=eps, reduction="sum")
    return data + tv_weight * losses.total_variation(x, beta=beta, eps=eps, coupling=coupling, reduction="sum")
