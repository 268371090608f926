"""Warping by optical flow, the consistency mask and the warping error on flows known exactly."""

import pytest
import torch

from neural_style.video.flow import consistency_mask, warp, warping_error


def rand(*shape, seed=0):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def constant_flow(dx, dy, h, w):
    flow = torch.zeros(1, 2, h, w, dtype=torch.float64)
    flow[:, 0], flow[:, 1] = dx, dy
    return flow


def test_a_known_translation_is_reproduced_exactly_inside():
    previous = rand(1, 3, 16, 20)
    current = torch.zeros_like(previous)
    current[..., 2:, 3:] = previous[..., :-2, :-3]  # moved 3 px right and 2 px down
    warped, inside = warp(previous, constant_flow(-3, -2, 16, 20))  # frame t from frame t-1
    assert torch.equal(inside[0, 0, 2:, 3:], torch.ones(14, 17, dtype=torch.float64))
    assert inside[0, 0, :2].sum() == 0 and inside[0, 0, :, :3].sum() == 0
    torch.testing.assert_close(warped[..., 2:, 3:], current[..., 2:, 3:], rtol=0, atol=1e-12)


def test_a_subpixel_shift_of_a_ramp_is_exact_to_interpolation():
    xs = torch.arange(20, dtype=torch.float64).expand(1, 1, 12, 20) / 20
    warped, inside = warp(xs, constant_flow(0.25, 0.0, 12, 20))
    torch.testing.assert_close(warped[..., :-1], (xs + 0.25 / 20)[..., :-1], rtol=0, atol=1e-12)
    assert inside[0, 0, :, -1].sum() == 0


def test_the_mask_marks_a_disocclusion_and_keeps_the_static_background():
    """A 6x6 square moves 4 px right over a static background: the strip it uncovers has no
    counterpart in frame t-1 (mask 0); the background far from it is consistent (mask 1)."""
    h, w = 24, 32
    forward, backward = torch.zeros(1, 2, h, w, dtype=torch.float64), torch.zeros(1, 2, h, w, dtype=torch.float64)
    forward[:, 0, 9:15, 10:16] = 4.0   # frame t-1's square goes 4 px right
    backward[:, 0, 9:15, 14:20] = -4.0  # frame t's square came from 4 px left
    mask = consistency_mask(forward, backward)[0, 0]
    assert mask[9:15, 10:14].sum() == 0  # uncovered background: disoccluded
    assert mask[:5].min() == 1 and mask[:, 25:].min() == 1  # far background
    assert mask[10:14, 15:19].min() == 1  # the square's inside follows its flow


def test_the_warping_error_is_zero_when_frames_follow_the_flow():
    previous = rand(1, 3, 16, 20, seed=1)
    current = torch.zeros_like(previous)
    current[..., :, 2:] = previous[..., :, :-2]
    flow = constant_flow(-2, 0, 16, 20)
    mask = torch.ones(1, 1, 16, 20, dtype=torch.float64)
    assert warping_error([previous, current], [flow], [mask]) == pytest.approx(0, abs=1e-20)
    assert warping_error([previous, previous], [torch.zeros_like(flow)], [mask]) == pytest.approx(0, abs=1e-20)
    assert warping_error([previous, rand(1, 3, 16, 20, seed=2)], [flow], [mask]) > 0.05
    with pytest.raises(ValueError, match="expected 1 flows and masks for 2 frames"):
        warping_error([previous, current], [], [])
    with pytest.raises(ValueError, match="expected image"):
        warp(previous, torch.zeros(1, 3, 16, 20))


def _textured(h=120, w=140, seed=0):
    """A smooth random texture (blurred noise), uint8 (H, W, 3): what optical flow can track."""
    import numpy as np

    g = torch.Generator().manual_seed(seed)
    noise = torch.rand(1, 3, h // 4, w // 4, generator=g)
    smooth = torch.nn.functional.interpolate(noise, size=(h, w), mode="bicubic", align_corners=False).clamp(0, 1)
    return (smooth[0].permute(1, 2, 0) * 255).round().to(torch.uint8).numpy().astype(np.uint8)


def test_dis_recovers_a_known_translation():
    pytest.importorskip("cv2")
    from neural_style.video.flow import optical_flow

    big = _textured()
    source, target = big[10:90, 10:110], big[13:93, 8:108]  # source(p) = target(p + (2, -3))
    flow = optical_flow(source, target)
    assert flow.shape == (1, 2, 80, 100) and flow.dtype == torch.float32
    inner = flow[0, :, 15:-15, 15:-15].reshape(2, -1)
    assert inner[0].median().item() == pytest.approx(2, abs=0.1)
    assert inner[1].median().item() == pytest.approx(-3, abs=0.1)
    predicted, inside = warp(torch.from_numpy(target).permute(2, 0, 1)[None].float(), flow)
    error = (predicted - torch.from_numpy(source).permute(2, 0, 1)[None].float()).abs()[..., 15:-15, 15:-15]
    assert error.mean() < 2.0  # of 255


def test_optical_flow_refuses_frames_of_two_sizes():
    pytest.importorskip("cv2")
    from neural_style.video.flow import optical_flow

    big = _textured()
    with pytest.raises(ValueError, match="one size"):
        optical_flow(big[:50, :60], big[:52, :60])
