"""Tests for neural_style.fast.transformer: the fast style transfer network of Johnson et al.

Networks are narrow (width 0.25) and images at most 64 pixels, so the file runs in seconds
on a CPU.
"""

import pytest
import torch
from torch import nn

from neural_style.errors import InputError
from neural_style.fast.transformer import Blur, TransformerNet


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return TransformerNet(width=0.25, residual_blocks=2)


@pytest.fixture(scope="module")
def antialiased(net):
    model = TransformerNet(width=0.25, residual_blocks=2, antialias=True)
    model.load_state_dict(net.state_dict())  # the same parameters: the blur has none
    return model


def image(*size, batch=1, seed=0):
    return torch.rand(batch, 3, *size, generator=torch.Generator().manual_seed(seed))


# ---------------------------------------------------------------- shapes and range


@pytest.mark.parametrize("size", [(32, 32), (33, 47), (7, 5), (4, 4), (64, 17), (1, 1), (2, 3),
                                  (3, 8), (5, 9), (13, 6), (31, 1)])
def test_output_size_equals_input_size(net, antialiased, size):
    for model in (net, antialiased):
        with torch.no_grad():
            out = model(image(*size))
        assert out.shape == (1, 3, *size)
        assert torch.isfinite(out).all()


def test_batch_of_two_keeps_shape_and_range(net):
    x = image(33, 47, batch=2)
    with torch.no_grad():
        out = net(x)
    assert out.shape == x.shape
    assert out.dtype == torch.float32
    assert out.min() >= 0 and out.max() <= 1
    assert not torch.equal(out[0], out[1])


def test_output_in_unit_range_even_for_extreme_weights():
    torch.manual_seed(1)
    model = TransformerNet(width=0.25, residual_blocks=1)
    with torch.no_grad():
        model.decoder[-1][1].bias.fill_(100.0)
        high = model(image(16, 16))
        model.decoder[-1][1].bias.fill_(-100.0)
        low = model(image(16, 16))
    assert high.min() >= 0 and high.max() <= 1 and high.mean() > 0.99
    assert low.min() >= 0 and low.max() <= 1 and low.mean() < 0.01


def test_other_float_dtypes_come_back_in_their_dtype(net):
    with torch.no_grad():
        out64 = net(image(12, 10).double())
        out32 = net(image(12, 10))
    assert out64.dtype == torch.float64
    torch.testing.assert_close(out64.float(), out32)


def test_sizes_that_divide_by_4_run_the_plain_x2_network(net):
    x = image(16, 24)
    with torch.no_grad():
        plain = torch.sigmoid(net.decoder(net.residuals(net.encoder(x * 2 - 1))))
        torch.testing.assert_close(net(x), plain)


def test_odd_sizes_upsample_to_the_encoder_stage_sizes(net):
    """Nearest-neighbour upsampling to the size of the matching encoder stage, written out
    with integer indices (source index floor(i * in / out)), then no crop."""
    def up(t, size):
        rows = torch.arange(size[0]) * t.shape[-2] // size[0]
        cols = torch.arange(size[1]) * t.shape[-1] // size[1]
        return t[..., rows, :][..., cols]

    x = image(13, 19)
    with torch.no_grad():
        full = net.encoder[0](x * 2 - 1)
        half = net.encoder[1](full)
        assert full.shape[-2:] == (13, 19) and half.shape[-2:] == (7, 10)
        y = net.residuals(net.encoder[2](half))
        y = net.decoder[4](net.decoder[3](up(net.decoder[1](up(y, half.shape[-2:])), full.shape[-2:])))
        torch.testing.assert_close(net(x), torch.sigmoid(y))


# ---------------------------------------------------------------- width and depth


def test_half_width_has_about_four_times_fewer_parameters():
    full, half = n_params(TransformerNet(1.0)), n_params(TransformerNet(0.5))
    assert 3.5 < full / half < 4.5


def test_channels_scale_with_width_and_stay_positive():
    assert TransformerNet().channels == (32, 64, 128)
    assert TransformerNet(0.5).channels == (16, 32, 64)
    assert TransformerNet(0.001, residual_blocks=0).channels == (1, 1, 1)
    assert TransformerNet(0.3).channels == (10, 19, 38)  # rounded to the nearest integer


def test_default_architecture():
    model = TransformerNet()
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.stride) for c in convs[:3]] == [
        (3, 32, (9, 9), (1, 1)), (32, 64, (3, 3), (2, 2)), (64, 128, (3, 3), (2, 2))]
    assert [(c.in_channels, c.out_channels, c.kernel_size) for c in convs[-3:]] == [
        (128, 64, (3, 3)), (64, 32, (3, 3)), (32, 3, (9, 9))]
    assert len(model.residuals) == 5 and len(convs) == 3 + 10 + 3
    norms = [m for m in model.modules() if isinstance(m, nn.InstanceNorm2d)]
    assert len(norms) == 2 + 3 + 10 and all(n.affine for n in norms)
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
    pads = [m for m in model.modules() if isinstance(m, nn.ReflectionPad2d)]
    assert len(pads) == len(convs)  # every convolution is reflection-padded
    assert convs[-1].bias is not None  # no norm after the last convolution


def test_no_transposed_convolutions_upsampling_is_nearest_neighbour():
    model = TransformerNet(0.25)
    assert not any(isinstance(m, nn.modules.conv._ConvTransposeNd) for m in model.modules())
    upsamples = [m for m in model.modules() if isinstance(m, nn.Upsample)]
    assert len(upsamples) == 2
    assert all(u.mode == "nearest" and u.scale_factor == 2 for u in upsamples)


def test_zero_residual_blocks_work():
    model = TransformerNet(width=0.25, residual_blocks=0)
    assert len(model.residuals) == 0
    with torch.no_grad():
        assert model(image(9, 11)).shape == (1, 3, 9, 11)
    assert n_params(model) < n_params(TransformerNet(width=0.25, residual_blocks=1))


def test_config_round_trips_through_the_constructor():
    model = TransformerNet(width=0.25, residual_blocks=3)
    assert model.config == {"width": 0.25, "residual_blocks": 3, "antialias": False}
    assert TransformerNet(**model.config).config == model.config
    assert TransformerNet(width=1).config == {"width": 1.0, "residual_blocks": 5, "antialias": False}
    assert TransformerNet(antialias=True).config["antialias"] is True
    assert isinstance(TransformerNet(width=1).config["width"], float)


@pytest.mark.parametrize("kwargs", [{"width": 0}, {"width": -0.5}, {"width": float("nan")},
                                    {"width": float("inf")}, {"width": "1"}, {"width": True},
                                    {"residual_blocks": -1}, {"residual_blocks": 1.5},
                                    {"residual_blocks": "5"}, {"residual_blocks": True},
                                    {"antialias": 1}, {"antialias": "yes"}])
def test_bad_constructor_arguments(kwargs):
    with pytest.raises(InputError, match="expected .* got"):
        TransformerNet(**kwargs)


# ---------------------------------------------------------------- instance normalisation


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_output_is_independent_of_the_rest_of_the_batch(net, mode):
    net.train(mode == "train")
    try:
        a, b = image(20, 24, seed=1), image(20, 24, seed=2) * 0.3 + 0.6
        with torch.no_grad():
            alone = net(a)
            batched = net(torch.cat([a, b]))
            swapped = net(torch.cat([b, a]))
    finally:
        net.eval()
    torch.testing.assert_close(batched[:1], alone)
    torch.testing.assert_close(swapped[1:], alone)


def test_no_running_statistics_change_in_training(net):
    state = {k: v.clone() for k, v in net.state_dict().items()}
    net.train()
    try:
        with torch.no_grad():
            net(image(16, 16, batch=2))
    finally:
        net.eval()
    for key, value in net.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_first_instance_norm_removes_a_global_brightness_offset(net):
    first_norm = next(m for m in net.modules() if isinstance(m, nn.InstanceNorm2d))
    seen = []
    handle = first_norm.register_forward_hook(lambda module, inputs, output: seen.append(output.clone()))
    try:
        x = image(24, 20) * 0.8
        with torch.no_grad():
            net(x)
            net(x + 0.1)
    finally:
        handle.remove()
    assert len(seen) == 2
    torch.testing.assert_close(seen[0], seen[1], atol=1e-4, rtol=1e-4)


# ---------------------------------------------------------------- gradients


def test_gradients_reach_every_parameter():
    torch.manual_seed(0)
    model = TransformerNet(width=0.25, residual_blocks=2)
    model.train()
    out = model(image(16, 20, batch=2))
    (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


def test_gradient_reaches_the_input(net):
    x = image(9, 13).requires_grad_()
    net(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


# ---------------------------------------------------------------- input checks


@pytest.mark.parametrize("bad, error", [
    (torch.rand(3, 16, 16), ValueError),
    (torch.rand(1, 4, 16, 16), ValueError),
    (torch.rand(1, 1, 16, 16), ValueError),
    (torch.rand(1, 3, 16), ValueError),
    (torch.rand(1, 3, 0, 16), ValueError),
    (torch.rand(0, 3, 16, 16), ValueError),
    (torch.zeros(1, 3, 16, 16, dtype=torch.uint8), TypeError),
    (torch.zeros(1, 3, 16, 16, dtype=torch.int64), TypeError),
    ([[0.5]], TypeError),
])
def test_input_checks(net, bad, error):
    with pytest.raises(error, match="expected .* got"):
        net(bad)


def test_numpy_input_is_a_type_error(net):
    np = pytest.importorskip("numpy")
    with pytest.raises(TypeError, match="expected .* got ndarray"):
        net(np.zeros((1, 3, 8, 8), np.float32))


# ---------------------------------------------------------------- anti-aliasing


def test_blur_is_the_normalised_binomial_filter():
    x = torch.zeros(1, 2, 5, 5)
    x[0, 0, 2, 2] = 16.0
    out = Blur(2)(x)
    expected = torch.tensor([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]])
    assert torch.equal(out[0, 0, 1:4, 1:4], expected) and out[0, 0].sum() == 16 and not out[0, 1].any()
    flat = torch.full((1, 3, 4, 6), 0.3, dtype=torch.float64)
    assert torch.allclose(Blur(3).double()(flat), flat)  # reflection padding: a constant stays constant at the border


def _shift_change(model, shift):
    """Mean squared change of the output's interior when the input moves by ``shift`` px: the output of
    the moved input against the moved output (0 for a shift-equivariant network)."""
    x = torch.nn.functional.avg_pool2d(image(64, 64, batch=2, seed=3), 3, 1, 1)  # a natural-ish smooth image
    with torch.no_grad():
        change = model(torch.roll(x, shift, -1)) - torch.roll(model(x), shift, -1)
    return float(change[..., 8:-8, 8 + shift:-8].square().mean())


@pytest.mark.parametrize("shift", [1, 2, 3])
def test_antialiased_network_follows_small_shifts_of_its_input(net, antialiased, shift):
    """Stride-2 convolutions alias: shifts that are not a multiple of 4 px change the plain network's output
    (measured at these weights: 3.5-4.6x less change with antialias=True; the same at 4 px)."""
    assert _shift_change(antialiased, shift) < 0.5 * _shift_change(net, shift)


def test_antialias_keeps_the_parameters_and_changes_the_output(net, antialiased):
    assert list(net.state_dict()) == list(antialiased.state_dict())
    with torch.no_grad():
        assert not torch.allclose(net(image(32, 32)), antialiased(image(32, 32)))
