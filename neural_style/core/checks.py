"""Input checks shared by the losses and the metrics: one-line "expected ..., got ..." errors."""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor

__all__ = ["check_tensor", "check_ndim", "check_image", "check_number", "format_shape", "working_dtype"]


def format_shape(shape) -> str:
    """``(2, 3, 4, 4)``-style text for a shape (a 1-tuple keeps no trailing comma)."""
    return "(" + ", ".join(str(int(s)) for s in shape) + ")"


def check_tensor(x: object, name: str) -> None:
    """Raise unless ``x`` is a floating-point :class:`torch.Tensor`.

    Raises:
        TypeError: ``x`` is not a tensor, or not of a floating-point dtype.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"expected {name} to be a torch.Tensor, got {type(x).__name__}")
    if not torch.is_floating_point(x):
        raise TypeError(f"expected {name} to be a floating-point tensor, got dtype {x.dtype}")


def check_ndim(x: Tensor, name: str, ndim: int, layout: str) -> None:
    """Raise unless ``x.ndim == ndim``; ``layout`` names the axes, e.g. ``"(B, C, H, W)"``.

    Raises:
        ValueError: ``x`` has another number of dimensions.
    """
    if x.ndim != ndim:
        raise ValueError(
            f"expected {name} of shape {layout}, got {format_shape(x.shape)} ({x.ndim}-D)"
        )


def check_number(
    value: object,
    name: str,
    *,
    minimum: float,
    strict: bool,
    maximum: float = math.inf,
    condition: Optional[str] = None,
) -> float:
    """Return ``value`` as a float, raising unless it is a finite real number above ``minimum``.

    Args:
        value: the option to check.
        name: its name in the message.
        minimum: the bound it must exceed (``strict``) or reach (not ``strict``).
        strict: whether ``value == minimum`` is rejected.
        maximum: the largest value accepted (inclusive).
        condition: words appended to the message, e.g. ``"for the 'charbonnier' criterion"``.

    Raises:
        TypeError: ``value`` is not a real number (``bool`` is rejected too).
        ValueError: ``value`` is NaN, infinite or out of range.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected {name} to be a real number, got {type(value).__name__}")
    value = float(value)
    ok = (value > minimum if strict else value >= minimum) and value <= maximum
    if not ok or not math.isfinite(value):
        bound = f"{'>' if strict else '>='} {minimum:g}" + (f" and <= {maximum:g}" if math.isfinite(maximum) else "")
        where = f" {condition}" if condition else ""
        raise ValueError(f"expected {name} {bound}{where}, got {value!r}")
    return value


def check_image(image: object, name: str) -> None:
    """Raise unless ``image`` is a non-empty floating-point ``(B, C, H, W)`` tensor.

    Raises:
        TypeError: not a floating-point tensor.
        ValueError: not 4-D, or a dimension of size 0.
    """
    check_tensor(image, name)
    check_ndim(image, name, 4, "(B, C, H, W)")
    if image.numel() == 0:
        raise ValueError(
            f"expected {name} with no empty dimension, got shape {format_shape(image.shape)}"
        )


def working_dtype(*tensors: Tensor) -> torch.dtype:
    """The promoted floating dtype of ``tensors``, at least ``float32``."""
    dtype = tensors[0].dtype
    for x in tensors[1:]:
        dtype = torch.promote_types(dtype, x.dtype)
    return torch.promote_types(dtype, torch.float32)
