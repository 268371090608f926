"""The element-wise criteria shared by the content (perceptual) and style losses."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..checks import check_number
from ._reduction import check_reduction, reduce_loss

__all__ = ["CRITERIA", "check_criterion", "pointwise_loss"]

#: The accepted values of the ``criterion`` argument.
CRITERIA = ("l1", "l2", "charbonnier")


def check_criterion(criterion: str, eps: float, reduction: str) -> float:
    """Check ``criterion``, ``eps`` (when it is used) and ``reduction``; return ``eps`` as a float.

    Raises:
        ValueError: an unknown criterion or reduction, or ``eps <= 0`` for ``"charbonnier"``.
        TypeError: ``eps`` is not a real number (only checked for ``"charbonnier"``).
    """
    if not isinstance(criterion, str) or criterion not in CRITERIA:
        raise ValueError(
            f"expected criterion to be one of 'l1', 'l2', 'charbonnier', got {criterion!r}"
        )
    if criterion == "charbonnier":
        eps = check_number(
            eps, "eps", minimum=0.0, strict=True, condition="for the 'charbonnier' criterion"
        )
    check_reduction(reduction)
    return eps


def pointwise_loss(input: Tensor, target: Tensor, criterion: str, eps: float, reduction: str) -> Tensor:
    """``reduction`` of ``criterion(input - target)``; the arguments are already checked.

    ``target`` has ``input``'s shape or broadcasts to it along the batch axis; the
    unreduced loss has ``input``'s shape. ``"l2"`` and ``"l1"`` use the fused
    :func:`torch.nn.functional.mse_loss` / :func:`~torch.nn.functional.l1_loss`
    kernels and ``"charbonnier"`` uses :func:`torch.hypot`, so no more than one
    temporary of ``input``'s size is made.
    """
    if target.shape != input.shape:
        target = target.expand_as(input)  # a view: no copy, and no broadcast warning
    if criterion == "l2":
        return F.mse_loss(input, target, reduction=reduction)
    if criterion == "l1":
        return F.l1_loss(input, target, reduction=reduction)
    # sqrt(d^2 + eps^2) in one kernel; a 0-dim CPU tensor acts as a scalar on any device.
    loss = torch.hypot(input - target, torch.tensor(eps, dtype=input.dtype))
    return reduce_loss(loss, reduction)
