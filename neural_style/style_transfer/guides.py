"""Region masks of a stylize run (``--style-masks``, ``--style-image-masks``), read and checked once.

A mask is a greyscale image (colour is turned into luminance, alpha dropped) in [0, 1]: white
means "this style here", grey "partly", black "not". ``style_masks`` give one mask per style
image in the *content's* frame (same aspect ratio, any size: resized with the content);
``style_image_masks`` (optional) one per style image in *that style image's* frame, restricting
which part of it gives the style. The style term then uses guided Gram matrices
(:mod:`neural_style.core.style_term`).
"""

from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import torch

from ..core.style_term import resized
from ..errors import InputError, setting
from ..io.decode import to_tensor
from ..io.inputs import as_list

#: How far (relative) a mask's aspect ratio may be from its frame's: a mask saved at another size
#: rounds its sides to whole pixels, so allow a pixel's worth besides this.
ASPECT_TOLERANCE = 0.01


@dataclass
class Guides:
    """The masks of a run at their own sizes, each (1, 1, H, W) float32 in [0, 1] on the CPU.

    Attributes:
        content: one per style image, in the content's frame (None: no region control).
        styles: one per style image, None or in that style image's frame (None: none given).
    """

    content: Optional[List[torch.Tensor]] = None
    styles: Optional[List[Optional[torch.Tensor]]] = None

    def at(self, shape: Tuple[int, int]) -> Optional[List[torch.Tensor]]:
        """The content-frame masks resized to (H, W) (antialiased bilinear), or None."""
        return None if self.content is None else [resize_mask(m, shape) for m in self.content]

    def of_styles(self, shapes: Sequence[Tuple[int, int]]) -> Optional[List[Optional[torch.Tensor]]]:
        """The style-frame masks resized to each style image's (H, W), or None."""
        if self.styles is None:
            return None
        return [None if m is None else resize_mask(m, shape) for m, shape in zip(self.styles, shapes)]


def read_guides(masks, image_masks, content_shape: Tuple[int, int],
                style_shapes: Sequence[Tuple[int, int]]) -> Guides:
    """Read and check the masks before any work.

    Args:
        masks: None, or one mask per style image (paths, PIL images, arrays or (1, 1|3, H, W) tensors
            in [0, 1]) in the content's frame.
        image_masks: None, or one per style image (an entry may be None), each in its style's frame.
        content_shape: (H, W) of the content image as read; style_shapes: of each style image.

    Returns:
        :class:`Guides`.

    Raises:
        InputError: a count that does not match the style images, an unreadable mask, a mask whose
            aspect ratio is not its frame's, or masks black everywhere for every style.
    """
    if masks is None and image_masks is None:
        return Guides()
    content = None if masks is None else _read_all(masks, "style_masks", [content_shape] * len(style_shapes),
                                                   "the content image")
    if content is not None and max(float(m.max()) for m in content) <= 0:
        raise InputError(f"every {setting('style_masks')} mask is black everywhere: no region would get a "
                         "style; paint white where each style goes")
    styles = None if image_masks is None else _read_all(image_masks, "style_image_masks", style_shapes,
                                                        "its style image", optional=True)
    for m in styles or []:
        if m is not None and float(m.max()) <= 0:
            raise InputError(f"a {setting('style_image_masks')} mask is black everywhere: that style image "
                             "would give no style; paint white where its style is")
    return Guides(content, styles)


def _read_all(sources, name: str, shapes: Sequence[Tuple[int, int]], frame: str, optional: bool = False):
    sources = as_list(sources)
    if len(sources) != len(shapes):
        raise InputError(f"{setting(name)} gives {len(sources)} mask{'s' if len(sources) != 1 else ''} for "
                         f"{len(shapes)} style images: give one per style image, in the same order")
    out = []
    for source, shape in zip(sources, shapes):
        if source is None:
            if not optional:
                raise InputError(f"an empty {setting(name)} entry: give one mask per style image")
            out.append(None)
            continue
        mask = to_tensor(source, channels=1, what=f"{setting(name)} mask").clamp(0, 1)
        _check_aspect(mask, shape, name, frame, f" '{source}'" if isinstance(source, (str, Path)) else "")
        out.append(mask)
    return out


def _check_aspect(mask: torch.Tensor, shape: Tuple[int, int], name: str, frame: str, label: str = "") -> None:
    (mh, mw), (h, w) = mask.shape[-2:], shape
    # the aspect of a frame resized to the mask's width: within a pixel (and ASPECT_TOLERANCE) of the mask's height
    expected = h * mw / w
    if abs(mh - expected) > 1 + ASPECT_TOLERANCE * expected:
        raise InputError(f"the {setting(name)} mask{label} is {mw}x{mh} px but {frame} is {w}x{h} px: a mask must "
                         f"have its frame's aspect ratio (draw it on {frame}, any size)")


def resize_mask(mask: torch.Tensor, shape: Tuple[int, int]) -> torch.Tensor:
    """``mask`` (1, 1, h, w) at (H, W): antialiased bilinear (area-like when reducing), clamped to [0, 1]."""
    out = resized(mask, shape)
    return out if out is mask else out.clamp_(0, 1)
