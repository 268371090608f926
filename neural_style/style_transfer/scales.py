"""Coarse-to-fine schedules: the long side and the iterations of each scale.

A coarse-to-fine run optimises the image at a small size first, where an iteration is cheap and
the style's large structures fit in the network's receptive field, then upsamples the result
(bicubic, clamped) to start each larger scale, up to the output size.
"""

import math
from typing import List, Optional, Sequence, Tuple, Union

from ..core.tensors import long_side_shape
from ..errors import InputError, setting
from ..settings import SCALE_ITERATIONS, STYLIZE_ITERATIONS

#: ``scales="auto"`` starts at this long side (or the output size, if smaller) ...
AUTO_START = 256
#: ... and grows by this factor per scale (crowsonkb/style-transfer-pytorch's sqrt(2)).
AUTO_FACTOR = math.sqrt(2)
#: Iterations of a single scale, and of the first, middle and last of several, when none are given
#: (:data:`neural_style.settings.STYLIZE_ITERATIONS`, :data:`neural_style.settings.SCALE_ITERATIONS`).
SINGLE_SCALE_ITERATIONS = STYLIZE_ITERATIONS
SCHEDULE_FIRST, SCHEDULE_MIDDLE, SCHEDULE_LAST = SCALE_ITERATIONS

#: What ``scales=None`` means for an image with an output size: coarse to fine, each scale holding the
#: coarser octaves; at 512 and 1024 px it holds the style's large structure that a single scale
#: misses, keeps the finest octave and the content loss, in less time (docs/measurements.md, "Octaves").
DEFAULT_SCALES = "auto"

Scales = Union[None, str, Sequence[int]]
Iterations = Union[None, int, Sequence[int]]


def auto_sides(size: int) -> List[int]:
    """Long sides from ``min(AUTO_START, size)`` to ``size`` by :data:`AUTO_FACTOR`."""
    sides, side = [], min(AUTO_START, size)
    while side < size:
        sides.append(side)
        side = int(round(side * AUTO_FACTOR))
    return sides + [size]


def default_iterations(count: int) -> List[int]:
    """The default iterations of ``count`` scales (see :data:`SCHEDULE_FIRST`)."""
    if count == 1:
        return [SINGLE_SCALE_ITERATIONS]
    return [SCHEDULE_FIRST] + [SCHEDULE_MIDDLE] * (count - 2) + [SCHEDULE_LAST]


def plan_scales(size: Optional[int], scales: Scales = None, iterations: Iterations = None
                ) -> List[Tuple[Optional[int], int]]:
    """``[(long side, iterations), ...]`` from the smallest scale to the output size.

    Args:
        size: the output's long side (None: the content's own size, single scale only).
        scales: ``"none"`` (one scale), ``"auto"`` (:func:`auto_sides`) or increasing long sides;
            ``size`` is appended when the list stops below it. None: ``"auto"``, or ``"none"`` when
            ``size`` is None (:data:`DEFAULT_SCALES`).
        iterations: None (:func:`default_iterations`), one number (every scale), or one per scale.
        A single long side may be given as an int (``512`` as ``[512]``).

    Raises:
        InputError: a bad list of scales or iterations (one line saying what to pass).
    """
    if scales is None:
        scales = "none" if size is None else DEFAULT_SCALES
    if isinstance(scales, int) and not isinstance(scales, bool):
        scales = [scales]
    if isinstance(scales, str):
        if scales not in ("none", "auto"):
            raise InputError(f"{setting('scales')} must be 'none', 'auto' or long sides like 256,512; got {scales!r}")
        sides = [size] if scales == "none" or size is None else auto_sides(size)
        if scales == "auto" and size is None:
            raise InputError(f"scales 'auto' needs an output size: pass {setting('size')}")
    else:
        sides = _explicit(size, scales)
    added = not isinstance(scales, str) and len(sides) > len(list(scales))
    return list(zip(sides, _iterations(iterations, len(sides), added)))


def fit_schedule(schedule: List[Tuple[Optional[int], int]], shape: Tuple[int, int], min_side: int,
                 scales: Scales, iterations: Iterations) -> List[Tuple[Optional[int], int]]:
    """``schedule`` without the automatic scales (``scales`` None or ``"auto"``) at which a content of
    ``shape`` (H, W) would have a short side below ``min_side`` px (a thin strip: the network could not
    see it); the default iterations re-planned for the scales left. Scales the user listed are kept
    (too small a one is refused with its own message)."""
    if scales not in (None, "auto") or len(schedule) == 1:
        return schedule
    kept = [(side, n) for side, n in schedule[:-1] if min(long_side_shape(shape, side)) >= min_side] + schedule[-1:]
    if iterations is None and len(kept) < len(schedule):
        return list(zip([side for side, _ in kept], default_iterations(len(kept))))
    return kept


def _explicit(size: Optional[int], scales: Sequence[int]) -> List[int]:
    sides = list(scales)
    if not sides or any(isinstance(s, bool) or not isinstance(s, int) or s < 16 for s in sides):
        raise InputError(f"{setting('scales')} must be long sides of at least 16 px, like 256,512; got {sides}")
    if any(b <= a for a, b in zip(sides, sides[1:])):
        raise InputError(f"{setting('scales')} must grow from the first to the last, got {sides}")
    if size is None:
        raise InputError(f"a list of scales needs an output size: pass {setting('size')}")
    if sides[-1] > size:
        raise InputError(f"scale {sides[-1]} is larger than the output size {size}: raise {setting('size')} or drop it")
    return sides + ([size] if sides[-1] < size else [])


def _iterations(iterations: Iterations, count: int, size_added: bool = False) -> List[int]:
    if iterations is None:
        return default_iterations(count)
    values = [iterations] if isinstance(iterations, int) and not isinstance(iterations, bool) else list(iterations)
    if any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in values):
        raise InputError(f"iterations must be whole numbers of at least 1, got {iterations}")
    if len(values) == 1:
        return values * count
    if len(values) != count:
        added = f" ({setting('size')} is added as the last)" if size_added else ""
        what = f"{count} scale{'s' if count > 1 else ''}{added}"
        raise InputError(f"got {len(values)} iteration counts for {what}: give one number, or one per scale")
    return values
