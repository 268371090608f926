"""Keeping an optimised image in [0, 1]: what each evaluation sees, and the gradient it returns.

An image file holds values in [0, 1] only. An optimiser that runs unconstrained (jcjohnson/neural-style,
neural-style-pt, and this package before ``bounds`` existed) spends part of its work on values no file
can hold, and the image clamped afterwards is not the one whose loss was minimised. The ways here keep
the optimiser's variable ``p`` and the image ``x`` the loss sees apart:

* ``"project"``: ``x = p``, and the optimiser keeps ``p`` in [0, 1]: L-BFGS by projected steps
  (:func:`neural_style.core.lbfgs.projected_lbfgs`), Adam by clamping its iterate after each step.
  Every evaluation is of an image a file can hold, so the best evaluation is the best delivered image.
* ``"clamp-objective"``: ``x = clamp(p, 0, 1)``, the gradient passed where ``0 <= p <= 1`` and zero
  outside (the projection inside the objective, for an optimiser that knows no bounds): every
  evaluation is of an image a file can hold too, but a pixel pushed past a bound gets no gradient
  and stays there.
* ``"sigmoid"``: ``x = sigmoid(p)`` (a reparametrisation; ``p`` starts at ``logit(init)``), the
  gradient times ``x (1 - x)``: smooth, but slow near the bounds.
* ``"penalty"``: ``x = p``, plus :data:`PENALTY_WEIGHT` times the mean squared distance of ``p`` to
  [0, 1] as the term ``"range"``; the image delivered is ``clamp(p, 0, 1)``, whose loss was not the one
  evaluated.
* ``"clamp-result"``: ``x = p`` unconstrained; only the result is clamped (jcjohnson/neural-style's way;
  the loss reported is not the delivered image's).
* ``None``: ``x = p``, no bounds at all (denoising data on its own range).

Source: Gatys et al.'s own code and Snelgrove (2017) optimise with bounds (L-BFGS-B); projection of
the iterate is crowsonkb/style-transfer-pytorch's way for Adam.
"""

from typing import Callable, Dict, Optional

import torch

from ..errors import InputError
from .choices import BOUNDS

__all__ = ["Bounds", "PENALTY_WEIGHT"]

#: The weight of ``"penalty"``'s range term (mean squared distance to [0, 1] of the pixels).
PENALTY_WEIGHT = 100.0
#: ``"sigmoid"`` starts from the initial image kept this far inside (0, 1), where logit is finite.
_SIGMOID_MARGIN = 1e-3

LossFn = Callable[[torch.Tensor], Dict[str, torch.Tensor]]


class Bounds:
    """One way (:data:`~neural_style.core.choices.BOUNDS`, or None) to keep an optimised image in [0, 1].

    Args:
        kind: ``"project"``, ``"sigmoid"``, ``"penalty"``, ``"clamp-result"`` or None (see the module doc).

    Raises:
        InputError: an unknown ``kind``.
    """

    def __init__(self, kind: Optional[str]):
        if kind is not None and kind not in BOUNDS:
            raise InputError(f"unknown bounds {kind!r}: expected one of {', '.join(BOUNDS)}")
        self.kind = kind

    def variable(self, image: torch.Tensor) -> torch.Tensor:
        """The optimiser's variable ``p`` for a start ``image`` (B, C, H, W) in [0, 1]: a new leaf tensor."""
        image = image.detach()
        if self.kind == "sigmoid":
            image = torch.logit(image.clamp(_SIGMOID_MARGIN, 1 - _SIGMOID_MARGIN))
        elif self.kind == "project":  # the variable is the image: in [0, 1] from the start
            image = image.clamp(0, 1)
        return image.clone(memory_format=torch.contiguous_format).requires_grad_(True)

    def image(self, p: torch.Tensor) -> torch.Tensor:
        """The image (detached) that ``p`` stands for: what is delivered and recorded. Where ``p`` is the
        image itself (``"project"``, whose optimiser keeps it in [0, 1], and None) it shares ``p``'s memory:
        copy it to keep it."""
        with torch.no_grad():
            if self.kind == "sigmoid":
                return torch.sigmoid(p)
            if self.kind in (None, "project"):
                return p.detach()
            return p.clamp(0, 1)

    def evaluate(self, p: torch.Tensor, loss_fn: LossFn) -> Dict[str, torch.Tensor]:
        """``loss_fn`` at the image ``p`` stands for, its gradient with respect to ``p`` left in ``p.grad``;
        the terms (detached) with ``"total"`` (and ``"range"`` for ``"penalty"``)."""
        if self.kind in (None, "project", "clamp-result", "penalty"):
            terms = dict(loss_fn(p))
            if self.kind == "penalty":
                terms["range"] = PENALTY_WEIGHT * (p - p.clamp(0, 1)).pow(2).mean()
                # a tiled total has no graph: the sum's backward is then the range term's alone, added to
                # the gradient the tiled evaluation accumulated
                terms["total"] = terms["total"] + terms["range"]
            if terms["total"].requires_grad:
                terms["total"].backward()
            return {k: v.detach() for k, v in terms.items()}
        x = self.image(p).requires_grad_(True)
        terms = loss_fn(x)
        if terms["total"].requires_grad:
            terms["total"].backward()
        grad = x.grad if x.grad is not None else torch.zeros_like(x)
        if self.kind == "sigmoid":
            grad = grad * x.detach() * (1 - x.detach())
        else:  # clamp-objective: no gradient where p is past a bound
            grad = grad * ((p.detach() >= 0) & (p.detach() <= 1))
        p.grad = grad if p.grad is None else p.grad + grad
        return {k: v.detach() for k, v in terms.items()}

    def step_done(self, p: torch.Tensor) -> None:
        """After a step of a first-order optimiser (Adam): ``"project"`` and ``"clamp-result"`` clamp the
        iterate itself (crowsonkb/style-transfer-pytorch's projected Adam)."""
        if self.kind in ("project", "clamp-objective", "clamp-result"):
            with torch.no_grad():
                p.clamp_(0, 1)
