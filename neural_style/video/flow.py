"""Optical flow (OpenCV's DIS), warping frames by it, Ruder et al.'s consistency mask, and Lai et al.'s
warping error.

Flows are (B, 2, H, W) float tensors in pixels, channel 0 horizontal (x, to the right) and channel 1
vertical (y, down). A *backward* flow ``b`` of frame t points into frame t-1: frame_t(p) ~
frame_{t-1}(p + b(p)); :func:`warp` samples an image at ``p + flow(p)``, so ``warp(frame_{t-1}, b)``
is frame t as predicted from frame t-1.

References:
    T. Kroeger, R. Timofte, D. Dai and L. Van Gool, "Fast optical flow using dense inverse search",
    ECCV 2016 (DIS, as OpenCV implements it: no weights to download, ~10 ms per 256 px frame on a CPU).
    M. Ruder, A. Dosovitskiy and T. Brox, "Artistic style transfer for videos", GCPR 2016
    (the consistency check, section 3.1).
    W.-S. Lai, J.-B. Huang, O. Wang, E. Shechtman, E. Yumer and M.-H. Yang, "Learning blind video
    temporal consistency", ECCV 2018 (the warping error).
"""

from typing import Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import InputError

#: OpenCV's DIS preset: MEDIUM (the ULTRAFAST preset missed the larger motions of real clips).
DIS_PRESET = "MEDIUM"


def optical_flow(source: np.ndarray, target: np.ndarray) -> torch.Tensor:
    """Dense optical flow from ``source`` to ``target`` with OpenCV's DIS (Kroeger et al. 2016):
    ``source(p) ~ target(p + flow(p))``, so ``warp(target, flow)`` predicts ``source``.

    No warm start from the previous frame's flow: OpenCV's Python ``DISOpticalFlow.calc`` returns the
    same flow whatever initial flow it is given (checked with OpenCV 5.0), and has no switch for one.

    Args:
        source, target: (H, W, 3) uint8 RGB frames of one size.

    Returns:
        (1, 2, H, W) float32 flow in pixels (x, y).

    Raises:
        InputError: OpenCV (the ``video`` extra) is not installed.
        ValueError: frames of different shapes.
    """
    try:
        import cv2
    except ImportError as exc:
        raise InputError("optical flow needs OpenCV: pip install 'neural-style[video]'") from exc
    if source.shape != target.shape or source.ndim != 3:
        raise ValueError(f"expected two (H, W, 3) frames of one size, got {source.shape} and {target.shape}")
    dis = cv2.DISOpticalFlow_create(getattr(cv2, f"DISOPTICAL_FLOW_PRESET_{DIS_PRESET}"))
    grey = [cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY) for f in (source, target)]
    flow = dis.calc(grey[0], grey[1], None)
    return torch.from_numpy(flow).permute(2, 0, 1)[None].contiguous()


def _check(image: torch.Tensor, flow: torch.Tensor) -> None:
    if image.ndim != 4 or flow.ndim != 4 or flow.shape[1] != 2:
        raise ValueError(f"expected image (B, C, H, W) and flow (B, 2, H, W), got {tuple(image.shape)} and "
                         f"{tuple(flow.shape)}")
    if image.shape[-2:] != flow.shape[-2:] or flow.shape[0] not in (1, image.shape[0]):
        raise ValueError(f"image {tuple(image.shape)} and flow {tuple(flow.shape)} do not match")


def warp(image: torch.Tensor, flow: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Sample ``image`` at ``p + flow(p)`` (bilinear, ``grid_sample`` with aligned corners).

    Args:
        image: (B, C, H, W) float.
        flow: (B, 2, H, W) or (1, 2, H, W) float, in pixels (x, y).

    Returns:
        ``(warped, inside)``: the (B, C, H, W) warped image (0 where the sample falls outside) and a
        (B, 1, H, W) float mask, 1 where ``p + flow(p)`` lies inside the image.

    Raises:
        ValueError: shapes that do not match.
    """
    _check(image, flow)
    b, _, h, w = image.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=flow.dtype, device=flow.device),
                            torch.arange(w, dtype=flow.dtype, device=flow.device), indexing="ij")
    x = xs + flow[:, 0]
    y = ys + flow[:, 1]
    inside = ((x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)).to(image.dtype)[:, None]
    grid = torch.stack([2 * x / max(w - 1, 1) - 1, 2 * y / max(h - 1, 1) - 1], dim=-1).expand(b, -1, -1, -1)
    warped = F.grid_sample(image, grid.to(image.dtype), mode="bilinear", padding_mode="zeros", align_corners=True)
    return warped * inside.expand(b, 1, h, w), inside.expand(b, 1, h, w)


def consistency_mask(forward: torch.Tensor, backward: torch.Tensor) -> torch.Tensor:
    """Ruder et al.'s per-pixel weight of frame t: 0 at disocclusions and motion boundaries, 1 elsewhere.

    ``forward`` is the flow from frame t-1 to frame t, ``backward`` from frame t to frame t-1 (both
    (B, 2, H, W) in pixels). With ``w~(p) = forward(p + backward(p))``, a pixel is disoccluded where
    ``|w~ + backward|^2 > 0.01 (|w~|^2 + |backward|^2) + 0.5`` (the two flows do not cancel), or where
    ``p + backward(p)`` leaves the image; on a motion boundary where
    ``|grad backward_x|^2 + |grad backward_y|^2 > 0.01 |backward|^2 + 0.002``.

    Returns:
        (B, 1, H, W) float mask of 0s and 1s.
    """
    if forward.shape != backward.shape:
        raise ValueError(f"forward {tuple(forward.shape)} and backward {tuple(backward.shape)} flows differ in shape")
    warped_forward, inside = warp(forward, backward)
    sum_sq = (warped_forward + backward).square().sum(1, keepdim=True)
    bound = 0.01 * (warped_forward.square().sum(1, keepdim=True) + backward.square().sum(1, keepdim=True)) + 0.5
    occluded = (sum_sq > bound) | (inside < 0.5)
    dx = torch.zeros_like(backward)
    dy = torch.zeros_like(backward)
    dx[..., :, :-1] = backward[..., :, 1:] - backward[..., :, :-1]
    dy[..., :-1, :] = backward[..., 1:, :] - backward[..., :-1, :]
    gradient = (dx.square() + dy.square()).sum(1, keepdim=True)
    boundary = gradient > 0.01 * backward.square().sum(1, keepdim=True) + 0.002
    return (~(occluded | boundary)).to(backward.dtype)


def warping_error(frames: Sequence[torch.Tensor], backward_flows: Sequence[torch.Tensor],
                  masks: Sequence[torch.Tensor]) -> float:
    """Lai et al.'s warping error: the mean over t >= 1 of the masked mean squared difference between
    output frame t and output frame t-1 warped by the input's backward flow of frame t.

    Args:
        frames: N output frames, each (1, C, H, W) in [0, 1].
        backward_flows, masks: N - 1 each, for frames 1..N-1 (flows (1, 2, H, W), masks (1, 1, H, W)).

    Returns:
        The error (0 for a clip whose frames follow the flow exactly); 0.0 for fewer than 2 frames.

    Raises:
        ValueError: counts that do not match.
    """
    if len(backward_flows) != len(frames) - 1 or len(masks) != len(backward_flows):
        raise ValueError(f"expected {len(frames) - 1} flows and masks for {len(frames)} frames, got "
                         f"{len(backward_flows)} and {len(masks)}")
    errors = []
    for t in range(1, len(frames)):
        predicted, inside = warp(frames[t - 1], backward_flows[t - 1])
        weight = masks[t - 1] * inside
        squared = (frames[t] - predicted).square().mean(1, keepdim=True)
        errors.append(float((squared * weight).sum() / weight.sum().clamp(min=1)))
    return sum(errors) / len(errors) if errors else 0.0
