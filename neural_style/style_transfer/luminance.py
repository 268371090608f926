"""The two ways stylize keeps the content's colours (``--colors luminance`` and ``luminance-only``).

``luminance`` (Gatys et al. 2016, "Preserving Color in Neural Artistic Style Transfer"; jcjohnson's
``-original_colors``): the run is in colour, then the result's luminance is given the content's
chrominance. ``luminance-only`` (Gatys et al., "Controlling Perceptual Factors in Neural Style Transfer",
CVPR 2017, Sec. 5.1): the content and the styles are turned into their luminance Y (ITU-R 601-2) before
any target is computed, the objective judges only the luminance of the image it optimises, and the
result's luminance is given the content's chrominance after the run: the style's colours never enter the
objective, so none of its effort goes into colours that are thrown away (docs/measurements.md, "Colour").
"""

from dataclasses import replace
from typing import Callable, Dict, Optional

import torch

from ..core.color import transfer_luminance
from ..core.optimize import Step
from ..core.tensors import resize_to, to_grey

#: The ``colors`` modes whose output has the content's chrominance, given after the run.
CONTENT_CHROMINANCE = ("luminance", "luminance-only")


def grey_rgb(image: torch.Tensor) -> torch.Tensor:
    """The luminance Y = 0.299 R + 0.587 G + 0.114 B of ``image`` (B, 3, H, W) in [0, 1], as an RGB image
    (B, 3, H, W) whose three channels are Y (the input of a network that takes colour)."""
    return to_grey(image).expand(-1, 3, -1, -1)


def on_luminance(loss_fn: Callable[[torch.Tensor], Dict[str, torch.Tensor]]):
    """``loss_fn`` judging only the luminance of its argument: ``x -> loss_fn(grey_rgb(x))``.

    When ``x`` requires grad, ``loss_fn`` sees a leaf of its own (so a tiled ``loss_fn`` that accumulates
    its gradient tile by tile can), and the gradient reaches ``x.grad`` through the luminance map (each
    channel of x gets 0.299, 0.587 or 0.114 times the gradient at Y: the chrominance of x gets none). The
    terms come back without a graph, the gradient already in ``x.grad`` (as a tiled evaluation returns
    them, :func:`~neural_style.core.optimize.optimize_image`).
    """
    def evaluate(x: torch.Tensor) -> Dict[str, torch.Tensor]:
        if not (x.requires_grad and torch.is_grad_enabled()):
            return loss_fn(grey_rgb(x))
        y = grey_rgb(x.detach()).contiguous().requires_grad_(True)
        terms = loss_fn(y)
        if terms["total"].requires_grad:
            terms["total"].backward()
        if y.grad is not None:
            grey_rgb(x).backward(y.grad)
        return {name: term.detach() for name, term in terms.items()}
    return evaluate


def with_content_chrominance(callback: Optional[Callable[[Step], None]],
                             content: torch.Tensor) -> Optional[Callable[[Step], None]]:
    """A callback whose steps show the image as it will be written: its luminance with the chrominance of
    ``content`` (the colour content image, (1, 3, H, W) in [0, 1], resized to each step's image)."""
    if callback is None:
        return None

    resized = {}  # one per scale

    def wrapped(step: Step) -> None:
        shape = tuple(step.image.shape[-2:])
        if shape not in resized:
            resized[shape] = resize_to(content, shape).to(step.image.device)
        callback(replace(step, image=transfer_luminance(step.image.clamp(0, 1), resized[shape])))
    return wrapped
