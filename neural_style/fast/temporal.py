"""A temporal stability term for training fast style networks without video data.

Each training photo x is moved by a random small affine motion T (translation, rotation, zoom), whose
flow is known exactly; the network f should commute with it where the moved photo is defined:

    temporal(x) = mean(m * (f(T x) - T f(x))^2)

with m the pixels of T x that come from inside x (the uncovered border is left out). A network that
answers small motions of its input with the same motion of its output does not flicker when a video's
frames move. This is the single-image motion regulariser of Wang, Yang, Xu & Liu ("Consistent video
style transfer via relaxation and regularization", IEEE TIP 2020); video-based temporal losses
(Huang et al. 2017, Gupta et al. 2017) need optical flow between real frames, and the flow-free loss
of Xu et al. (2021) needs consecutive frames, neither of which a photo dataset has.
"""

from typing import Tuple

import torch
import torch.nn.functional as F

#: The largest motion drawn: translation (fraction of the side), rotation (degrees), zoom (relative).
MAX_SHIFT, MAX_ROTATION, MAX_ZOOM = 0.04, 3.0, 0.04


def random_motion(images: torch.Tensor, generator: torch.Generator) -> Tuple[torch.Tensor, torch.Tensor]:
    """A random small affine motion per image: ``(grid, mask)``.

    Args:
        images: (B, C, H, W) batch (only its shape, dtype and device are used).
        generator: a CPU generator (the motions are reproducible from its seed).

    Returns:
        ``grid`` (B, H, W, 2) for :func:`move` (``align_corners=False`` coordinates) and ``mask``
        (B, 1, H, W) float, 1 where the moved image samples inside the original (0 on the uncovered border).
    """
    b, _, h, w = images.shape
    u = torch.rand(b, 4, generator=generator) * 2 - 1  # uniform in [-1, 1]
    angle = torch.deg2rad(u[:, 0] * MAX_ROTATION)
    scale = 1 + u[:, 1] * MAX_ZOOM
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = torch.cos(angle) * scale, -torch.sin(angle) * scale * h / w
    theta[:, 1, 0], theta[:, 1, 1] = torch.sin(angle) * scale * w / h, torch.cos(angle) * scale
    theta[:, :, 2] = u[:, 2:] * 2 * MAX_SHIFT
    grid = F.affine_grid(theta, [b, 1, h, w], align_corners=False).to(images.device, images.dtype)
    # a bilinear sample from inside pixels only: within the outer pixel centres, +-(1 - 1/W) across, +-(1 - 1/H) down
    bound = torch.tensor([1 - 1 / w, 1 - 1 / h], device=grid.device, dtype=grid.dtype)
    inside = (grid.abs() <= bound).all(-1)[:, None]
    return grid, inside.to(images.dtype)


def move(images: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """``images`` moved by ``grid`` (bilinear; outside: 0)."""
    return F.grid_sample(images, grid.to(images.dtype), mode="bilinear", padding_mode="zeros", align_corners=False)


def temporal_loss(moved_output: torch.Tensor, output: torch.Tensor, grid: torch.Tensor,
                  mask: torch.Tensor) -> torch.Tensor:
    """``mean(m * (f(T x) - T f(x))^2)`` over the pixels of the mask and the channels (0-dim tensor).

    Args:
        moved_output: f(T x), (B, C, H, W).
        output: f(x), (B, C, H, W).
        grid, mask: from :func:`random_motion`.
    """
    squared = (moved_output - move(output, grid)).square().mean(1, keepdim=True)
    return (squared * mask).sum() / mask.sum().clamp(min=1)

