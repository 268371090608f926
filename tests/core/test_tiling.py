"""Exact tiled evaluation: tile geometry, and tiled == whole-image objective and gradient in float64."""

import pytest
import torch

from neural_style.core.objective import PerceptualObjective, load_loss_network
from neural_style.core.tiling import geometry, plan_tiles
from neural_style.errors import InputError

WEIGHTS = dict(content_weight=2.0, style_weight=3.0, tv_weight=0.5, tv_beta=1.5)


def network(weights_file, content, style, pooling="max"):
    net = load_loss_network(content, style, weights=weights_file, pooling=pooling)
    net.extractor.double()
    return net


def image(seed, h, w):
    return torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_vgg19_to_relu5_1_has_the_156_px_field(vgg19_file):
    geo = geometry(load_loss_network("relu4_2", "relu5_1", weights=vgg19_file).extractor.net)
    assert geo.stride == 16 and geo.margin == 80 and geo.reach == 70  # 2 + 2*2 + 4*4 + 4*8 + 1*16: a 156 px field
    assert (geo.strides["relu1_1"], geo.strides["relu3_1"], geo.strides["relu4_2"], geo.strides["relu5_1"]) == (
        1, 4, 8, 16)
    shallow = geometry(load_loss_network("relu2_2", "relu1_1,relu3_1", weights=vgg19_file).extractor.net)
    assert shallow.stride == 4 and shallow.margin == 12  # reach 1 + 1 + 2 + 2 + 4 = 10


@pytest.mark.parametrize("height, width, tile", [(75, 61, 16), (64, 64, 64), (33, 100, 20), (7, 9, 4)])
def test_cores_partition_the_image_on_the_stride_grid(vgg16_file, height, width, tile):
    geo = geometry(load_loss_network("relu2_2", "relu1_1,relu3_1", weights=vgg16_file).extractor.net)
    tiles = plan_tiles(height, width, tile, geo)
    covered = torch.zeros(height, width, dtype=torch.int64)
    for t in tiles:
        covered[t.rows[0]:t.rows[1], t.cols[0]:t.cols[1]] += 1
        assert t.rows[0] % geo.stride == 0 and t.cols[0] % geo.stride == 0
        assert t.crop_rows == (max(0, t.rows[0] - geo.margin), min(height, t.rows[1] + geo.margin))
        assert t.crop_cols == (max(0, t.cols[0] - geo.margin), min(width, t.cols[1] + geo.margin))
    assert (covered == 1).all()
    with pytest.raises(InputError, match="tile size must be at least 1"):
        plan_tiles(height, width, 0, geo)


def check_exact(net, content, x, tile_sizes, styles=None, **extra):
    """Tiled == whole in float64 for each of ``tile_sizes``: every target, term and the gradient (``extra``:
    more arguments of the objective: octaves, guides)."""
    styles = styles or [image(3, 40, 52)]
    whole = PerceptualObjective(net, styles, [1.0] * len(styles), **WEIGHTS, **extra)
    targets = whole.content_targets(content)
    x = x.clone().requires_grad_(True)
    expected = whole(x, targets)
    expected["total"].backward()
    expected_grad = x.grad.clone()
    for tile_size in tile_sizes:
        tiled = PerceptualObjective(net, styles, [1.0] * len(styles), **WEIGHTS, tile_size=tile_size, **extra)
        for got_part, part in zip(tiled.style.parts, whole.style.parts, strict=True):  # the style targets
            for name, target in part.targets.items():
                assert torch.allclose(got_part.targets[name], target, rtol=1e-10, atol=1e-14)
        tiled_targets = tiled.content_targets(content, tile_size)
        for name, feature in targets.features.items():
            assert torch.allclose(tiled_targets.features[name], feature, rtol=1e-10, atol=1e-12), (tile_size, name)
        x.grad = None
        got = tiled.evaluate_tiled(x, tiled_targets, tile_size)
        for term in ("content", "style", "tv", "total"):
            assert torch.allclose(got[term], expected[term].detach(), rtol=1e-9), (tile_size, term)
            assert not got[term].requires_grad
        assert torch.allclose(x.grad, expected_grad, rtol=1e-7, atol=1e-12 * expected_grad.abs().max()), tile_size


@pytest.mark.slow
@pytest.mark.parametrize("pooling", ["max", "avg"])
def test_tiled_equals_whole_in_float64_shallow_layers(vgg16_file, pooling):
    """Odd sizes, tiles smaller than the image in both directions, margins that really crop."""
    net = network(vgg16_file, "relu2_2:0.5,conv3_1", "relu1_1,relu2_1:2,relu3_1", pooling)
    check_exact(net, image(1, 75, 61), image(2, 75, 61), tile_sizes=[8, 20, 36])


@pytest.mark.slow
def test_tiled_equals_whole_in_float64_to_relu5_1(vgg16_file):
    net = network(vgg16_file, "relu4_2", "relu1_1,relu3_1,relu5_1")
    check_exact(net, image(4, 203, 189), image(5, 203, 189), tile_sizes=[96], styles=[image(6, 181, 170)])


def test_evaluation_without_grad_leaves_no_gradient(vgg16_file):
    net = network(vgg16_file, "relu2_2", "relu1_1,relu3_1")
    objective = PerceptualObjective(net, [image(3, 30, 30)], [1.0], **WEIGHTS)
    x = image(7, 45, 37)
    terms = objective.evaluate_tiled(x, objective.content_targets(image(8, 45, 37)), 16)
    assert x.grad is None and float(terms["total"]) > 0
