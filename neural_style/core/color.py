"""Colour-space helpers: luminance transfer for ``--original-colors``."""

import torch

# ITU-R BT.601 YUV (as jcjohnson/neural-style's original_colors): U and V are scaled
# differences B - Y and R - Y, so grey has exactly zero chrominance.
_Y = torch.tensor([0.299, 0.587, 0.114], dtype=torch.float64)
_RGB_TO_YUV = torch.stack([_Y, 0.492111 * (torch.tensor([0.0, 0, 1]).double() - _Y),
                           0.877283 * (torch.tensor([1.0, 0, 0]).double() - _Y)])


def rgb_to_yuv(image: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) RGB in [0, 1] to YUV (Y in [0, 1], U and V centred on 0)."""
    m = _RGB_TO_YUV.to(image)
    return torch.einsum("ij,bjhw->bihw", m, image)


def yuv_to_rgb(image: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`rgb_to_yuv`."""
    m = torch.linalg.inv(_RGB_TO_YUV).to(image)
    return torch.einsum("ij,bjhw->bihw", m, image)


def transfer_luminance(generated: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """The luminance of ``generated`` with the chrominance of ``content`` (Gatys et al. 2016,
    "Preserving Color in Neural Artistic Style Transfer"). Both (B, 3, H, W) in [0, 1], same size."""
    if generated.shape != content.shape:
        raise ValueError(f"expected images of the same shape, got {tuple(generated.shape)} "
                         f"and {tuple(content.shape)}")
    y = rgb_to_yuv(generated)[:, :1]
    uv = rgb_to_yuv(content)[:, 1:]
    return yuv_to_rgb(torch.cat([y, uv], dim=1)).clamp(0, 1)
