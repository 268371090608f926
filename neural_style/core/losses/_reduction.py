"""The reduction convention shared by every loss in :mod:`neural_style.losses`.

As in :mod:`torch.nn.functional`, each loss takes ``reduction: str = "mean"``:

* ``"mean"``: the mean over every element of the unreduced loss;
* ``"sum"``: the sum over every element of the unreduced loss;
* ``"none"``: the unreduced, element-wise loss, whose shape each loss documents.
"""

from __future__ import annotations

from torch import Tensor

__all__ = ["REDUCTIONS", "check_reduction", "reduce_loss"]

#: The accepted values of the ``reduction`` argument.
REDUCTIONS = ("mean", "sum", "none")


def check_reduction(reduction: str) -> None:
    """Raise unless ``reduction`` is one of ``"mean"``, ``"sum"``, ``"none"``.

    Raises:
        ValueError: ``reduction`` is not one of the accepted values.
    """
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(
            f"expected reduction to be one of 'mean', 'sum', 'none', got {reduction!r}"
        )


def reduce_loss(loss: Tensor, reduction: str) -> Tensor:
    """Apply ``reduction`` over every element of the unreduced ``loss``.

    Args:
        loss: the unreduced, element-wise loss.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (already checked by
            :func:`check_reduction`).

    Returns:
        A 0-dim tensor for ``"mean"`` and ``"sum"``; ``loss`` itself for ``"none"``.
    """
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss
