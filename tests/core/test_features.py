"""Tests for neural_style.core.features: layer names, the VGG feature extractor and layer specs."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from neural_style.core.features import (
    FeatureExtractor,
    activation_bytes,
    build_extractor,
    check_layers,
    layer_names,
    parse_layers,
)
from neural_style.core.weights import load_weights
from neural_style.errors import InputError

IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
CAFFE_MEAN_BGR = torch.tensor([103.939, 116.779, 123.68]).view(1, 3, 1, 1)



@pytest.fixture(scope="module")
def weights16(vgg16_file):
    return load_weights(vgg16_file)


@pytest.fixture
def image():
    return torch.rand(1, 3, 32, 48, generator=torch.Generator().manual_seed(0))


# --- layer names ----------------------------------------------------------------------------


@pytest.mark.parametrize("model, convs", [("vgg16", 13), ("vgg19", 16)])
def test_layer_names_counts(model, convs):
    names = layer_names(model)
    assert sum(n.startswith("conv") for n in names) == convs
    assert sum(n.startswith("relu") for n in names) == convs
    assert [n for n in names if n.startswith("pool")] == ["pool1", "pool2", "pool3", "pool4", "pool5"]
    assert len(names) == 2 * convs + 5
    assert len(set(names)) == len(names)


def test_layer_names_order():
    names = layer_names("vgg19")
    assert names[:6] == ["conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1", "conv2_1"]
    assert names[-3:] == ["conv5_4", "relu5_4", "pool5"]
    assert layer_names("vgg16")[-3:] == ["conv5_3", "relu5_3", "pool5"]
    # every relu follows its conv
    for i, name in enumerate(names):
        if name.startswith("relu"):
            assert names[i - 1] == "conv" + name[4:]


def test_layer_names_unknown_model():
    with pytest.raises(InputError, match="unknown model 'vgg11'"):
        layer_names("vgg11")


def test_check_layers():
    assert check_layers("vgg19", ("relu1_1", "conv5_4")) == ["relu1_1", "conv5_4"]
    with pytest.raises(InputError) as info:
        check_layers("vgg16", ["relu1_1", "relu5_4"], "style layer")
    message = str(info.value)
    assert "unknown style layer 'relu5_4' for vgg16" in message
    assert "relu5_3" in message  # the deepest layer it has
    with pytest.raises(InputError, match="'relu9_9'"):
        check_layers("vgg19", ["relu9_9"])


# --- extractor ------------------------------------------------------------------------------


def test_truncated_at_last_requested_layer(weights16):
    extractor = FeatureExtractor(weights16, ["relu2_1"])
    children = [name for name, _ in extractor.net.named_children()]
    assert children == layer_names("vgg16")[: layer_names("vgg16").index("relu2_1") + 1]
    assert children[-1] == "relu2_1"
    assert "conv2_2" not in children


def test_truncation_uses_the_deepest_layer_whatever_the_order(weights16):
    extractor = FeatureExtractor(weights16, ["relu3_1", "conv1_1"])
    assert [name for name, _ in extractor.net.named_children()][-1] == "relu3_1"


def test_extractor_parameters_are_frozen_and_loaded(weights16):
    extractor = FeatureExtractor(weights16, ["conv2_1"])
    assert not extractor.training
    assert all(not p.requires_grad for p in extractor.parameters())
    torch.testing.assert_close(extractor.net.conv2_1.weight, weights16.state["5.weight"], rtol=0, atol=0)
    torch.testing.assert_close(extractor.net.conv1_2.bias, weights16.state["2.bias"], rtol=0, atol=0)


def test_output_shapes(weights16, image):
    layers = ["conv1_1", "relu1_2", "pool1", "relu2_1", "pool2", "relu3_1", "relu4_1", "pool4", "relu5_1", "pool5"]
    out = FeatureExtractor(weights16, layers)(image)
    assert set(out) == set(layers)
    expected = {
        "conv1_1": (1, 64, 32, 48), "relu1_2": (1, 64, 32, 48), "pool1": (1, 64, 16, 24),
        "relu2_1": (1, 128, 16, 24), "pool2": (1, 128, 8, 12), "relu3_1": (1, 256, 8, 12),
        "relu4_1": (1, 512, 4, 6), "pool4": (1, 512, 2, 3), "relu5_1": (1, 512, 2, 3), "pool5": (1, 512, 1, 1),
    }
    assert {k: tuple(v.shape) for k, v in out.items()} == expected


def test_duplicate_layers_are_returned_once(weights16, image):
    extractor = FeatureExtractor(weights16, ["relu1_1", "relu1_1"])
    assert extractor.layers == ["relu1_1"]
    assert list(extractor(image)) == ["relu1_1"]


def test_tapped_conv_keeps_negative_values(weights16, image):
    out = FeatureExtractor(weights16, ["conv1_1", "relu1_1", "conv2_1", "relu2_1"])(image)
    reference = F.conv2d((image - IMAGENET_MEAN) / IMAGENET_STD, weights16.state["0.weight"],
                         weights16.state["0.bias"], padding=1)
    assert out["conv1_1"].min() < 0  # the in-place ReLU did not overwrite the returned conv output
    torch.testing.assert_close(out["conv1_1"], reference)
    torch.testing.assert_close(out["relu1_1"], out["conv1_1"].clamp(min=0), rtol=0, atol=0)
    assert out["conv2_1"].min() < 0
    torch.testing.assert_close(out["relu2_1"], out["conv2_1"].clamp(min=0), rtol=0, atol=0)


def test_torchvision_normalisation(weights16, image):
    out = FeatureExtractor(weights16, ["conv1_1"])(image)["conv1_1"]
    expected = F.conv2d((image - IMAGENET_MEAN) / IMAGENET_STD, weights16.state["0.weight"],
                        weights16.state["0.bias"], padding=1)
    torch.testing.assert_close(out, expected)


def test_caffe_normalisation(weights16, image):
    out = FeatureExtractor(weights16, ["conv1_1"], weights_format="caffe")(image)["conv1_1"]
    bgr = (image * 255).flip(1) - CAFFE_MEAN_BGR
    expected = F.conv2d(bgr, weights16.state["0.weight"], weights16.state["0.bias"], padding=1)
    torch.testing.assert_close(out, expected, rtol=1e-4, atol=1e-3)
    # and clearly not the torchvision normalisation
    torchvision = FeatureExtractor(weights16, ["conv1_1"])(image)["conv1_1"]
    assert (out - torchvision).abs().max() > 1


def test_no_channels_last_mode_and_layout_does_not_matter(weights16, image):
    """The untested channels-last option is gone; a channels-last input gives the same features
    (and Gram matrices) as a contiguous one."""
    from neural_style.core.losses import gram_matrix

    extractor = FeatureExtractor(weights16, ["relu1_1", "relu2_1"])
    assert not hasattr(extractor, "channels_last") and not hasattr(extractor, "memory_format")
    plain = extractor(image)
    nhwc = extractor(image.contiguous(memory_format=torch.channels_last))
    for name in plain:
        assert plain[name].is_contiguous()
        torch.testing.assert_close(nhwc[name], plain[name])
        torch.testing.assert_close(gram_matrix(plain[name].contiguous(memory_format=torch.channels_last)),
                                   gram_matrix(plain[name]))


def test_input_is_not_modified(weights16, image):
    before = image.clone()
    FeatureExtractor(weights16, ["relu2_1"], weights_format="caffe")(image)
    torch.testing.assert_close(image, before, rtol=0, atol=0)


def test_avg_and_max_pooling(weights16, image):
    outs = {}
    for pooling in ("avg", "max"):
        extractor = FeatureExtractor(weights16, ["relu1_2", "pool1"], pooling=pooling)
        assert isinstance(extractor.net.pool1, nn.AvgPool2d if pooling == "avg" else nn.MaxPool2d)
        outs[pooling] = extractor(image)
    relu = outs["max"]["relu1_2"]
    torch.testing.assert_close(outs["avg"]["relu1_2"], relu, rtol=0, atol=0)
    torch.testing.assert_close(outs["avg"]["pool1"], F.avg_pool2d(relu, 2))
    torch.testing.assert_close(outs["max"]["pool1"], F.max_pool2d(relu, 2))
    assert (outs["avg"]["pool1"] - outs["max"]["pool1"]).abs().max() > 1e-3


def test_gradient_reaches_the_image(weights16, image):
    x = image.clone().requires_grad_(True)
    out = FeatureExtractor(weights16, ["conv1_1", "relu1_1", "relu2_1"])(x)
    sum(v.pow(2).mean() for v in out.values()).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


@pytest.mark.parametrize("shape", [(1, 1, 16, 16), (1, 4, 16, 16), (3, 16, 16)])
def test_non_rgb_input(weights16, shape):
    with pytest.raises(ValueError, match="expected"):
        FeatureExtractor(weights16, ["relu1_1"])(torch.rand(shape))


def test_bad_extractor_arguments(weights16):
    with pytest.raises(InputError, match="weights format 'bgr'"):
        FeatureExtractor(weights16, ["relu1_1"], weights_format="bgr")
    with pytest.raises(InputError, match="pooling 'min'"):
        FeatureExtractor(weights16, ["relu1_1"], pooling="min")
    with pytest.raises(InputError, match="no layers"):
        FeatureExtractor(weights16, [])
    with pytest.raises(InputError, match="'relu5_4'"):
        FeatureExtractor(weights16, ["relu5_4"])


def test_build_extractor(weights16, image):
    extractor = build_extractor(weights16, ["pool1"], pooling="avg", weights_format="caffe",
                                device=torch.device("cpu"))
    assert isinstance(extractor, FeatureExtractor)
    assert extractor.weights_format == "caffe" and isinstance(extractor.net.pool1, nn.AvgPool2d)
    assert extractor.mean.device.type == "cpu"


# --- parse_layers ---------------------------------------------------------------------------


def test_parse_layers_string():
    assert parse_layers("relu1_1:0.5,relu2_1") == {"relu1_1": 0.5, "relu2_1": 1.0}
    assert parse_layers(" relu1_1 : 2 , relu4_2 ,") == {"relu1_1": 2.0, "relu4_2": 1.0}
    assert list(parse_layers("relu3_1,relu1_1")) == ["relu3_1", "relu1_1"]


def test_parse_layers_list_and_mapping():
    assert parse_layers(["relu1_1", "relu2_1"]) == {"relu1_1": 1.0, "relu2_1": 1.0}
    parsed = parse_layers({"relu1_1": 2, "relu3_1": 0})
    assert parsed == {"relu1_1": 2.0, "relu3_1": 0.0}
    assert all(type(v) is float for v in parsed.values())


@pytest.mark.parametrize("spec, fragment", [
    ("relu1_1:x", "bad style layer weight in 'relu1_1:x'"),
    ("relu1_1:-1", "weight of relu1_1 must be a finite number >= 0, got -1.0"),
    ({"relu1_1": -0.5}, "weight of relu1_1 must be a finite number >= 0"),
    ("relu1_1:inf", "weight of relu1_1 must be a finite number >= 0, got inf"),
    ("relu1_1:nan", "weight of relu1_1 must be a finite number >= 0, got nan"),
    ("", "no style layers given"),
    (" , ", "no style layers given"),
    ([], "no style layers given"),
])
def test_parse_layers_errors(spec, fragment):
    with pytest.raises(InputError) as info:
        parse_layers(spec, "style layer")
    assert fragment in str(info.value)


# --- activation_bytes -----------------------------------------------------------------------


def test_activation_bytes_exact_for_a_small_network(weights16):
    extractor = FeatureExtractor(weights16, ["pool1"])
    # conv1_1 and conv1_2 at full size, pool1 at half size; the in-place ReLUs add nothing
    assert activation_bytes(extractor, 32, 48) == 4 * (64 * 32 * 48 * 2 + 64 * 16 * 24)
    assert activation_bytes(extractor, 32, 48, batch=3) == 3 * activation_bytes(extractor, 32, 48)


def test_activation_bytes_grows_with_the_area(weights16):
    extractor = FeatureExtractor(weights16, ["relu1_1", "relu3_1", "relu5_1"])
    small = activation_bytes(extractor, 32, 48)
    assert small > 0
    assert activation_bytes(extractor, 64, 96) == 4 * small
    assert activation_bytes(extractor, 64, 48) == 2 * small
