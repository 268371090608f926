"""Regions no style reaches: where every ``--style-masks`` mask is black beyond the style term's reach,
a styled run is followed by a run without style whose image is taken there.

L-BFGS keeps one curvature model for the whole image, shaped by the style term, so it leaves an unstyled
region elsewhere than a run without style does (docs/measurements.md, "Regions"); passes of its own over
those pixels did not reproduce that run, so the region takes that run's image.
"""

from dataclasses import replace
from typing import Callable

import torch

from ..core.optimize import OptimizeResult
from ..core.stop import STOPPED_EARLY, StopReason


def keep_unstyled(without_style: Callable, stride: int, far: torch.Tensor, run: OptimizeResult, image: torch.Tensor,
                  callback):
    """Where every region mask is black beyond the style's reach (``far``, :meth:`Stage.unstyled`), the
    image of a run without style (``style_weight=0``: content and TV, every other setting the same), so
    that such a region is what it would be without style. In the styled run L-BFGS's one curvature model
    is the style term's and leaves the region elsewhere (docs/measurements.md, "Regions"). The two images
    are blended over ``stride`` px (the deepest layer's) just inside the style's reach, so they meet without
    a seam. ``without_style(change, callback)`` runs the same run with ``change`` (a dict of
    :class:`~neural_style.settings.StylizeSettings` fields) applied. Returns the run with the second
    run's evaluations after its own (marked ``"unstyled": 1``; its steps ``unstyled=True``), the image, and the
    evaluation of the second run whose image was taken (numbered on; None if it had none)."""
    offset = run.iterations
    step = None if callback is None else (
        lambda st: callback(replace(st, iteration=offset + st.iteration, iterations=offset + st.iterations,
                                    unstyled=True)))
    try:
        second = without_style(dict(style_weight=0.0, style_masks=None, style_image_masks=None), step)
    except KeyboardInterrupt:  # before its first evaluation: the styled image as it is
        return replace(run, stop_reason=StopReason.INTERRUPTED), image, None
    ramp = torch.nn.functional.avg_pool2d(far, 2 * stride + 1, stride=1, padding=stride, count_include_pad=False)
    weight = torch.maximum(far, (2 * ramp).clamp(max=1))  # 1 out of reach, down to 0 within stride px of it
    weight = weight.to(image.device, image.dtype)
    image = weight * second.image.to(image.device, image.dtype) + (1 - weight) * image
    history = run.history + [{**h, "iteration": offset + h["iteration"], "unstyled": 1} for h in second.run.history]
    merged = replace(run, image=image, history=history, iterations=offset + second.run.iterations,
                     seconds=run.seconds + second.run.seconds,
                     stop_reason=second.run.stop_reason if second.run.stop_reason in STOPPED_EARLY else run.stop_reason)
    return merged, image, offset + second.run.best_iteration if second.run.best_iteration else None
