"""The temporal stability term of training: random motions, their mask, the loss, and training with it."""

import torch

from neural_style.fast.temporal import MAX_SHIFT, move, random_motion, temporal_loss
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


def test_the_temporal_term_lowers_the_network_s_temporal_loss(photos, style_file, vgg16_file):  # noqa: F811
    """The same short training with and without the term: with it, moved photos give moved outputs more
    closely (measured on motions the training did not draw)."""
    def temporal_of(trainer):
        x = torch.stack([trainer.next_batch() for _ in range(2)]).flatten(0, 1)
        grid, mask = random_motion(x, torch.Generator().manual_seed(999))
        with torch.no_grad():
            return temporal_loss(trainer.net(move(x, grid)), trainer.net(x), grid, mask).item()

    losses = {}
    for weight in (0.0, 200.0):
        trainer = Trainer(style_file, photos, config(weights=str(vgg16_file), iterations=40, temporal_weight=weight))
        train(trainer)
        losses[weight] = temporal_of(trainer)
    assert losses[200.0] < 0.7 * losses[0.0], losses
