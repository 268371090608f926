"""Images in memory: (B, C, H, W) float tensors in [0, 1] to and from arrays and Pillow images,
luminance, and resizing. Nothing here reads or writes a file (that is :mod:`neural_style.io`)."""

from typing import Tuple

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..errors import InputError


def to_grey(image: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) in [0, 1] to its (B, 1, H, W) luminance (ITU-R 601-2, as :func:`neural_style.io.decode.to_tensor`)."""
    weights = torch.tensor([0.299, 0.587, 0.114], dtype=image.dtype, device=image.device).view(1, 3, 1, 1)
    return (image * weights).sum(dim=1, keepdim=True)


def tensor_to_hwc(image: torch.Tensor) -> np.ndarray:
    """A tensor (C, H, W) or (1, C, H, W) as an array (H, W, C) on the CPU, float32 if it is floating-point
    (values as given, not clamped); ValueError for another shape."""
    if image.dim() == 4 and image.shape[0] == 1:
        image = image[0]
    if image.dim() != 3:
        raise ValueError(f"expected a tensor of shape (C, H, W) or (1, C, H, W), got {tuple(image.shape)}")
    image = image.detach().cpu()
    return (image.float() if image.is_floating_point() else image).permute(1, 2, 0).numpy()


def tensor_to_array(image: torch.Tensor) -> np.ndarray:
    """Convert a float tensor (1, C, H, W) or (C, H, W) to a float32 array (H, W, C) clamped to [0, 1]."""
    if not isinstance(image, torch.Tensor) or not image.is_floating_point():
        got = image.dtype if isinstance(image, torch.Tensor) else type(image).__name__
        raise TypeError(f"expected a floating-point torch.Tensor, got {got}")
    return np.ascontiguousarray(np.clip(tensor_to_hwc(image), 0, 1))


def as_hwc(image) -> np.ndarray:
    """A tensor or array image (uint8, uint16 or float) as float32 (H, W, C) in [0, 1], C in 1 or 3;
    TypeError for anything else, ValueError for another number of channels."""
    if isinstance(image, torch.Tensor):
        array = tensor_to_array(image)
    elif isinstance(image, np.ndarray):
        array = image[..., None] if image.ndim == 2 else image
        if array.dtype in (np.uint8, np.uint16):
            array = array / np.float32(np.iinfo(array.dtype).max)
        array = np.clip(np.asarray(array, np.float32), 0, 1)
    else:
        raise TypeError(f"expected a torch.Tensor or numpy array, got {type(image).__name__}")
    if array.ndim != 3 or array.shape[2] not in (1, 3):
        raise ValueError(f"expected an image with 1 or 3 channels as (H, W, C), got shape {array.shape}")
    return array


def quantize(array: np.ndarray, bit_depth: int) -> np.ndarray:
    """Clamp to [0, 1] and round to unsigned integers of the bit depth."""
    return np.round(np.clip(array, 0, 1) * (2**bit_depth - 1)).astype(np.uint8 if bit_depth == 8 else np.uint16)


def to_pil(image) -> Image.Image:
    """Convert a tensor (1, C, H, W) / (C, H, W) or an array (H, W, C) / (H, W), C in 1 or 3,
    float in [0, 1] (or uint8 / uint16), to an 8-bit Pillow image of mode L or RGB."""
    array = quantize(as_hwc(image), 8)
    return Image.fromarray(array[..., 0] if array.shape[2] == 1 else array)


def resize_long_side(image: torch.Tensor, long_side: int) -> torch.Tensor:
    """Resize so that max(H, W) == long_side, keeping the aspect ratio (each side >= 1).

    Args:
        image: float tensor (B, C, H, W) or (C, H, W).
        long_side: the new length of the longer side, in pixels.

    Returns:
        The resized tensor clamped to [0, 1], or ``image`` itself if the size is unchanged.
    """
    return resize_to(image, long_side_shape(tuple(image.shape[-2:]), long_side))


def long_side_shape(shape: Tuple[int, int], long_side: int) -> Tuple[int, int]:
    """(H, W) of ``shape`` scaled so that its longer side is ``long_side`` (each side >= 1)."""
    if long_side < 1:
        raise InputError(f"the image size must be at least 1 pixel, got {long_side}: give a positive size")
    height, width = shape
    scale = long_side / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def resize_to(image: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
    """Resize to (H, W): antialiased bicubic when shrinking, plain bicubic when enlarging.

    Args:
        image: float tensor (B, C, H, W) or (C, H, W).
        size: the new (height, width).

    Returns:
        The resized tensor clamped to [0, 1], or ``image`` itself if the size is unchanged.
    """
    size = (int(size[0]), int(size[1]))
    if min(size) < 1:
        raise ValueError(f"expected a size of at least 1 x 1, got {size}")
    if tuple(image.shape[-2:]) == size:
        return image
    batch = image if image.dim() == 4 else image[None]
    shrink = size[0] < image.shape[-2] or size[1] < image.shape[-1]
    resized = F.interpolate(batch, size=size, mode="bicubic", align_corners=False, antialias=shrink).clamp(0, 1)
    return resized if image.dim() == 4 else resized[0]
