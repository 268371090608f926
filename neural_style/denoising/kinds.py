"""A result given back as the kind of image it came from (denoise's and restore's Python functions)."""

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..core.tensors import to_pil
from ..io.imagedata import ImageData


def enlarged_alpha(alpha, shape):
    """``alpha`` (H, W) array in [0, 1] (or None) at ``shape`` (H', W'): bicubic (``align_corners=False``),
    clipped; unchanged at its own size."""
    if alpha is None or tuple(np.shape(alpha)) == tuple(shape):
        return alpha
    tensor = torch.from_numpy(np.asarray(alpha, dtype=np.float32))[None, None]
    return F.interpolate(tensor, size=tuple(shape), mode="bicubic", align_corners=False).clamp(0, 1)[0, 0].numpy()


def same_kind(image, data: ImageData, out: torch.Tensor):
    """``out`` (1, C, H', W') float as ``image`` was given (read as ``data``), alpha put back (enlarged to the
    result's size when needed).

    Returns:
        For a PIL image, a PIL image of its mode family (16-bit grey stays 16-bit; otherwise 8-bit L or RGB,
        with alpha LA or RGBA); for an array, an array of the same shape and dtype (integers clipped); for a
        tensor, a float tensor of the same rank; for a path, ``out`` itself.
    """
    out = out.cpu()
    alpha = enlarged_alpha(data.alpha, out.shape[-2:])
    if isinstance(image, Image.Image):
        if image.mode.startswith("I;16") and out.shape[1] == 1:
            return Image.fromarray(np.round(np.clip(out[0, 0].numpy(), 0, 1) * 65535).astype(np.uint16))
        result = to_pil(out)
        if alpha is not None:
            result.putalpha(Image.fromarray(np.round(alpha * 255).astype(np.uint8)))
        return result
    if isinstance(image, np.ndarray):
        pixels = out[0].permute(1, 2, 0).numpy()
        if alpha is not None:
            pixels = np.concatenate([pixels, alpha[..., None]], axis=2)
        if image.ndim == 2:
            pixels = pixels[..., 0]
        if image.dtype in (np.uint8, np.uint16):
            return np.round(np.clip(pixels, 0, 1) * np.iinfo(image.dtype).max).astype(image.dtype)
        return pixels.astype(image.dtype)
    if isinstance(image, torch.Tensor):
        if alpha is not None:
            out = torch.cat([out, torch.from_numpy(np.asarray(alpha, dtype=np.float32))[None, None]], dim=1)
        return out[0] if image.ndim == 3 else out
    return out
