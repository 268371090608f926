"""The temporal stability term of training: random motions, their mask, the loss, and training with it."""

import math

import pytest
import torch

from neural_style.fast.temporal import MAX_ROTATION, MAX_SHIFT, MAX_ZOOM, move, random_motion, temporal_loss
from neural_style.fast.training import Trainer
from neural_style.fast.training import run_training as train

from .test_training import config, photos  # noqa: F401  (the fixture)


def batch(b=3, h=32, w=32, seed=0):
    return torch.rand(b, 3, h, w, generator=torch.Generator().manual_seed(seed))


def test_motions_are_small_reproducible_and_masked_at_the_border():
    x = batch()
    grid, mask = random_motion(x, torch.Generator().manual_seed(1))
    again, _ = random_motion(x, torch.Generator().manual_seed(1))
    other, _ = random_motion(x, torch.Generator().manual_seed(2))
    assert grid.shape == (3, 32, 32, 2) and mask.shape == (3, 1, 32, 32)
    assert torch.equal(grid, again) and not torch.equal(grid, other)
    identity = torch.nn.functional.affine_grid(torch.eye(2, 3).expand(3, 2, 3), [3, 1, 32, 32], align_corners=False)
    assert (grid - identity).abs().max() < 2 * MAX_SHIFT + 0.15  # a few pixels at most
    assert 0.6 < mask.mean() < 1.0  # the uncovered border is left out, most pixels are in
    ones = move(torch.ones_like(x), grid)
    assert torch.allclose(ones[mask.expand_as(ones) > 0], torch.tensor(1.0), atol=1e-6)


@pytest.mark.parametrize("h, w", [(16, 64), (64, 16), (33, 20)])
def test_the_mask_holds_only_samples_from_inside_on_any_aspect(h, w):
    """Inside the mask a moved image of ones is 1 (no blend with the zero padding), across and down alike."""
    x = batch(b=8, h=h, w=w)
    grid, mask = random_motion(x, torch.Generator().manual_seed(5))
    ones = move(torch.ones_like(x), grid)
    assert torch.allclose(ones[mask.expand_as(ones) > 0], torch.tensor(1.0), atol=1e-6)
    assert mask.mean() > 0.5


@pytest.mark.parametrize("h, w", [(32, 32), (24, 48)])
def test_each_motion_is_a_small_rotation_zoom_and_shift_in_pixels(h, w):
    """The flow is known exactly: in pixel units the grid is p -> s R(a) p + t with |a| <= MAX_ROTATION degrees,
    |s - 1| <= MAX_ZOOM and |t| within MAX_SHIFT of the side (the aspect ratio does not shear the motion)."""
    grid, _ = random_motion(batch(b=16, h=h, w=w), torch.Generator().manual_seed(6))
    px = (grid[..., 0] + 1) * w / 2 - 0.5  # the sampled point in input pixels (align_corners=False)
    py = (grid[..., 1] + 1) * h / 2 - 0.5
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij")
    a = torch.stack([xs.flatten(), ys.flatten(), torch.ones(h * w, dtype=torch.float64)], 1)
    for i in range(16):
        # the exact affine map of pixel coordinates: least squares on every pixel, then its residual
        sampled = torch.stack([px[i].flatten(), py[i].flatten()], 1).double()
        coef = torch.linalg.lstsq(a, sampled).solution
        assert (a @ coef - sampled).abs().max() < 1e-3
        m = coef[:2].T  # [[dpx/dx, dpx/dy], [dpy/dx, dpy/dy]]
        assert torch.allclose(m[0, 0], m[1, 1], atol=1e-5) and torch.allclose(m[0, 1], -m[1, 0], atol=1e-5)
        scale = torch.hypot(m[0, 0], m[1, 0]).item()
        angle = math.degrees(math.atan2(m[1, 0].item(), m[0, 0].item()))
        assert abs(scale - 1) <= MAX_ZOOM + 1e-5 and abs(angle) <= MAX_ROTATION + 1e-4
        centre = coef.T @ torch.tensor([(w - 1) / 2, (h - 1) / 2, 1.0], dtype=torch.float64)
        assert abs(centre[0] - (w - 1) / 2) <= MAX_SHIFT * w + 1e-3
        assert abs(centre[1] - (h - 1) / 2) <= MAX_SHIFT * h + 1e-3


def test_a_network_that_commutes_with_motion_has_no_temporal_loss():
    x = batch()
    grid, mask = random_motion(x, torch.Generator().manual_seed(3))

    def pointwise(image):  # an affine colour map commutes with any warp inside the frame
        return 0.5 * image + 0.2

    assert temporal_loss(pointwise(move(x, grid)), pointwise(x), grid, mask).item() < 1e-12

    pattern = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(4))

    def fixed_texture(image):  # a texture tied to the frame, not the content: flickers when content moves
        return 0.5 * image + 0.5 * pattern

    assert temporal_loss(fixed_texture(move(x, grid)), fixed_texture(x), grid, mask).item() > 1e-3


def test_training_with_the_temporal_term_reports_it_and_resumes_exactly(photos, style_file, vgg16_file,  # noqa: F811
                                                                       tmp_path):
    settings = config(weights=str(vgg16_file), temporal_weight=10.0)
    straight = Trainer(style_file, photos, settings)
    result = train(straight, checkpoint_dir=tmp_path / "a")
    assert all("temporal" in h and h["temporal"] >= 0 for h in result.history)
    resumed = Trainer(style_file, photos, settings)
    resumed.load_checkpoint(tmp_path / "a" / "step-000003.ckpt")
    train(resumed)
    for (name, a), b in zip(straight.net.state_dict().items(), resumed.net.state_dict().values()):
        assert torch.equal(a, b), name


@pytest.mark.slow
@pytest.mark.parametrize("antialias", [False, True])
def test_the_temporal_term_lowers_the_network_s_temporal_loss(photos, style_file, vgg16_file, antialias):  # noqa: F811
    """The same short training with and without the term: with it, moved photos give moved outputs more
    closely (measured on motions the training did not draw; 0.09-0.19x here at 1 and 2 threads, both networks)."""
    def temporal_of(trainer):  # the 8 photos, 4 motions each
        x = torch.stack([trainer.next_batch() for _ in range(4)]).flatten(0, 1)
        losses = []
        for seed in range(4):
            grid, mask = random_motion(x, torch.Generator().manual_seed(999 + seed))
            with torch.no_grad():
                losses.append(temporal_loss(trainer.net(move(x, grid)), trainer.net(x), grid, mask).item())
        return sum(losses) / len(losses)

    losses = {}
    for weight in (0.0, 1000.0):
        trainer = Trainer(style_file, photos, config(weights=str(vgg16_file), iterations=40, temporal_weight=weight,
                                                     antialias=antialias))
        train(trainer)
        losses[weight] = temporal_of(trainer)
    assert losses[1000.0] < 0.5 * losses[0.0], losses
