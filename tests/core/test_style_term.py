"""The style term over octaves and regions: guided Gram values, octave counts, and tiled == whole in float64."""

import pytest
import torch

from neural_style.core import losses
from neural_style.core.objective import PerceptualObjective, load_loss_network
from neural_style.core.style_term import downsample, guided_gram, octave_count
from tests.core.test_tiling import check_exact

WEIGHTS = dict(content_weight=2.0, style_weight=3.0, tv_weight=0.5, tv_beta=1.5)


def image(seed, h, w, channels=3):
    return torch.rand(1, channels, h, w, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def network(weights_file, content="relu2_2", style="relu1_1,relu2_1:2,relu3_1"):
    net = load_loss_network(content, style, weights=weights_file)
    net.extractor.double()
    return net


def test_guided_gram_on_a_tiny_tensor():
    f = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0], [1.0, 0.0]]]], dtype=torch.float64)  # (1, 2, 2, 2)
    m = torch.tensor([[[[1.0, 0.5], [0.0, 0.0]]]], dtype=torch.float64)
    # positions weighted 1 and 0.5: sum_p m_p F_p F_p^T = [[1 + 2, 0 + 1], [0 + 1, 0 + 0.5]], over C * sum m = 3
    expected = torch.tensor([[[3.0, 1.0], [1.0, 0.5]]], dtype=torch.float64) / 3
    assert torch.allclose(guided_gram(f, m), expected)
    assert torch.allclose(guided_gram(f, torch.ones_like(m)), losses.gram_matrix(f))
    assert torch.allclose(guided_gram(f, None), losses.gram_matrix(f))
    assert torch.equal(guided_gram(f, torch.zeros_like(m)), torch.zeros(1, 2, 2, dtype=torch.float64))


@pytest.mark.parametrize("side, count", [(512, 3), (1024, 4), (768, 3), (2048, 5), (128, 1), (100, 1), (255, 1)])
def test_octaves_go_down_to_a_long_side_of_128(side, count):
    assert octave_count(side) == count


def test_downsample_halves_per_octave_and_keeps_a_flat_image_flat():
    flat = torch.full((1, 3, 64, 48), 0.3, dtype=torch.float64)
    assert downsample(flat, 0) is flat
    for octave, shape in [(1, (32, 24)), (2, (16, 12)), (3, (8, 6))]:
        down = downsample(flat, octave)
        assert tuple(down.shape[-2:]) == shape and torch.allclose(down, torch.tensor(0.3, dtype=torch.float64))


def test_octave_losses_of_the_style_itself_are_zero_and_of_a_flat_image_are_not(vgg16_file):
    net = network(vgg16_file)
    style = image(3, 96, 80)
    objective = PerceptualObjective(net, [style], [1.0], **WEIGHTS, octaves=3)
    values = objective.style.octave_values(style)
    assert len(values) == 3 and all(float(v) < 1e-20 for v in values)
    flat = torch.full_like(style, 0.5)
    assert all(float(v) > 0 for v in objective.style.octave_values(flat))


def test_an_octave_of_an_image_is_the_one_octave_term_of_it_downsampled(vgg16_file):
    """Octave o of x against style s == octave 0 of downsample(x, o) against downsample(s, o), over O."""
    net = network(vgg16_file)
    style, x = image(3, 96, 80), image(4, 88, 72)
    octaves = PerceptualObjective(net, [style], [1.0], **WEIGHTS, octaves=3).style.octave_values(x)
    for o in range(3):
        single = PerceptualObjective(net, [downsample(style, o)], [1.0], **WEIGHTS).style.value(downsample(x, o))
        assert torch.allclose(octaves[o] * 3, single, rtol=1e-10)


def test_a_white_guide_gives_the_plain_term(vgg16_file):
    net = network(vgg16_file)
    style, x = image(3, 40, 52), image(4, 45, 37)
    plain = PerceptualObjective(net, [style], [1.0], **WEIGHTS)
    guided = PerceptualObjective(net, [style], [1.0], **WEIGHTS, shape=(45, 37),
                                 guides=[torch.ones(1, 1, 45, 37, dtype=torch.float64)])
    assert torch.allclose(guided.style.value(x), plain.style.value(x), rtol=1e-10)


def test_tiled_equals_whole_in_float64_with_octaves(vgg16_file):
    net = network(vgg16_file)
    check_exact(net, image(1, 61, 53), image(2, 61, 53), [20], [image(3, 52, 44)], octaves=3)


def test_tiled_equals_whole_in_float64_with_guides_octaves_and_style_guides(vgg16_file):
    net = network(vgg16_file)
    h, w = 58, 50
    left = torch.zeros(1, 1, h, w, dtype=torch.float64)
    left[..., : w // 2] = 1
    left[..., w // 2: w // 2 + 6] = 0.5  # a grey seam
    guides = [left, 1 - left]
    style_guides = [None, image(9, 48, 40, channels=1)]
    check_exact(net, image(1, h, w), image(2, h, w), [24], [image(3, 50, 44), image(4, 48, 40)],
                 octaves=2, shape=(h, w), guides=guides, style_guides=style_guides)


def test_a_black_region_gets_no_style_gradient_far_from_its_border(vgg16_file):
    net = network(vgg16_file, style="relu1_1,relu2_1")
    h, w = 64, 64
    guide = torch.zeros(1, 1, h, w, dtype=torch.float64)
    guide[..., :, :24] = 1
    objective = PerceptualObjective(net, [image(3, 40, 40)], [1.0], **WEIGHTS, shape=(h, w), guides=[guide])
    x = image(2, h, w).requires_grad_(True)
    objective.style.value(x).backward()
    assert x.grad[..., :, :24].abs().sum() > 0
    assert float(x.grad[..., :, 40:].abs().max()) == 0.0  # relu2_1 reaches 4 px, its grid cells 2 px


def test_octave_weights_weigh_the_octaves_and_the_measure_stays_unweighted(vgg16_file):
    net = network(vgg16_file)
    style, x = image(3, 96, 80), image(4, 88, 72)
    mean = PerceptualObjective(net, [style], [1.0], **WEIGHTS, octaves=2).style
    held = PerceptualObjective(net, [style], [1.0], **WEIGHTS, octaves=2, octave_weights=[1.0, 0.25]).style
    halves = mean.octave_values(x)
    assert torch.allclose(held.value(x), 2 * halves[0] + 0.5 * halves[1], rtol=1e-10)
    assert held.octave_losses(x) == pytest.approx(mean.octave_losses(x), rel=1e-10)
    with pytest.raises(ValueError, match="expected 2 octave weights, got 1"):
        PerceptualObjective(net, [style], [1.0], **WEIGHTS, octaves=2, octave_weights=[1.0])
