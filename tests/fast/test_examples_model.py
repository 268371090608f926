"""pytorch/examples fast_neural_style networks (candy, mosaic, rain_princess, udnie) run here.

Their published files cannot be downloaded in tests, so a state dict is built with their
architecture's key names and shapes (as ``torch.save(model.state_dict())`` writes it, with the
InstanceNorm running statistics their old files carry), and their forward pass is written out
below from their ``transformer_net.py`` to compare outputs with.
"""

import json
from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from neural_style.errors import InputError
from neural_style.fast.examples_model import SOURCE
from neural_style.fast.model_file import load_model

from ..clitools import assert_ok, invoke

_SHAPES = {"conv1": (32, 3, 9), "conv2": (64, 32, 3), "conv3": (128, 64, 3),
           "deconv1": (64, 128, 3), "deconv2": (32, 64, 3), "deconv3": (3, 32, 9)}
_NORMS = {"in1": 32, "in2": 64, "in3": 128, "in4": 64, "in5": 32}


def examples_state_dict(seed=0, blocks=5, running_stats=True) -> "OrderedDict[str, torch.Tensor]":
    """Random weights under pytorch/examples' TransformerNet key names and shapes."""
    g = torch.Generator().manual_seed(seed)
    state = OrderedDict()

    def conv(name, out_c, in_c, k):
        state[f"{name}.conv2d.weight"] = torch.randn(out_c, in_c, k, k, generator=g) / (in_c * k * k) ** 0.5
        state[f"{name}.conv2d.bias"] = torch.randn(out_c, generator=g)

    def norm(name, c):
        state[f"{name}.weight"] = 1 + 0.2 * torch.randn(c, generator=g)
        state[f"{name}.bias"] = 0.2 * torch.randn(c, generator=g)
        if running_stats:  # torch < 0.4 saved them; their loader deletes them
            state[f"{name}.running_mean"] = torch.randn(c, generator=g)
            state[f"{name}.running_var"] = torch.rand(c, generator=g)

    for name in ("conv1", "conv2", "conv3"):
        conv(name, *_SHAPES[name])
        norm("in" + name[-1], _NORMS["in" + name[-1]])
    for i in range(1, blocks + 1):
        for j in (1, 2):
            conv(f"res{i}.conv{j}", 128, 128, 3)
            norm(f"res{i}.in{j}", 128)
    conv("deconv1", *_SHAPES["deconv1"]), norm("in4", 64)
    conv("deconv2", *_SHAPES["deconv2"]), norm("in5", 32)
    conv("deconv3", *_SHAPES["deconv3"])
    state["deconv3.conv2d.weight"] *= 255  # their output is on the 0..255 scale
    state["deconv3.conv2d.bias"] = 127.5 + 20 * torch.randn(3, generator=g)
    return state


def their_forward(state, image_01: torch.Tensor, blocks=5) -> torch.Tensor:
    """pytorch/examples' TransformerNet.forward on ``image * 255``, clamped and divided by 255 as
    their stylize() saves it."""
    def conv(name, x, stride=1, upsample=False):
        w = state[f"{name}.conv2d.weight"]
        if upsample:
            x = F.interpolate(x, mode="nearest", scale_factor=2)
        return F.conv2d(F.pad(x, [w.shape[-1] // 2] * 4, mode="reflect"), w, state[f"{name}.conv2d.bias"], stride)

    def norm(name, x):
        return F.instance_norm(x, weight=state[f"{name}.weight"], bias=state[f"{name}.bias"])

    y = image_01 * 255
    y = F.relu(norm("in1", conv("conv1", y)))
    y = F.relu(norm("in2", conv("conv2", y, 2)))
    y = F.relu(norm("in3", conv("conv3", y, 2)))
    for i in range(1, blocks + 1):
        r = F.relu(norm(f"res{i}.in1", conv(f"res{i}.conv1", y)))
        y = y + norm(f"res{i}.in2", conv(f"res{i}.conv2", r))
    y = F.relu(norm("in4", conv("deconv1", y, upsample=True)))
    y = F.relu(norm("in5", conv("deconv2", y, upsample=True)))
    return conv("deconv3", y).clamp(0, 255) / 255


@pytest.mark.parametrize("running_stats", [True, False])
def test_their_network_gives_their_output(tmp_path, running_stats):
    state = examples_state_dict(running_stats=running_stats)
    path = tmp_path / "candy.pth"
    torch.save(state, path)
    net, metadata = load_model(path)
    assert metadata == {"source": SOURCE}
    assert net.config == {"width": 1.0, "residual_blocks": 5, "antialias": False, "output": "clamp"}
    image = torch.rand(1, 3, 36, 52, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ours, theirs = net(image), their_forward(state, image)
    assert ours.shape == image.shape
    assert 0.05 < (theirs > 0).float().mean() < 1 and (theirs < 1).float().mean() > 0.05  # a test with clamping
    assert (ours - theirs).abs().max() < 1e-4


def test_a_file_in_the_legacy_format_of_their_published_files_loads(tmp_path):
    """Their four files date from 2017: torch's pre-1.6 (non-zip) serialisation."""
    state = examples_state_dict(seed=3, blocks=2)
    path = tmp_path / "mosaic.model"
    torch.save(state, path, _use_new_zipfile_serialization=False)
    net, _ = load_model(path)
    image = torch.rand(2, 3, 16, 20)
    with torch.no_grad():
        assert (net(image) - their_forward(state, image, blocks=2)).abs().max() < 1e-4


@pytest.mark.parametrize("change, fragment", [
    (lambda s: s.update({"extra.weight": torch.zeros(1)}), "unknown key 'extra.weight'"),
    (lambda s: s.pop("in3.weight"), "no key 'in3.weight'"),
    (lambda s: s.update({"conv2.conv2d.weight": torch.zeros(64, 32, 5, 5)}),
     "its conv2.conv2d.weight has shape (64, 32, 5, 5), expected (64, 32, 3, 3)"),
    (lambda s: s.update({"in1.weight": torch.zeros(31)}), "its in1.weight has shape (31,), expected (32,)"),
    (lambda s: s.update({"in1.bias": torch.full((32,), float("nan"))}), "its in1.bias holds NaN or infinite values"),
])
def test_a_damaged_network_of_their_layout_is_one_line(tmp_path, change, fragment):
    state = examples_state_dict(blocks=1)
    change(state)
    path = tmp_path / "bad.pth"
    torch.save(state, path)
    with pytest.raises(InputError) as info:
        load_model(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message and fragment in message, message
    assert "looks like a pytorch/examples fast_neural_style network" in message and "train it again" not in message


def test_transfer_command_runs_their_file(tmp_path):
    path = tmp_path / "udnie.pth"
    torch.save(examples_state_dict(blocks=1), path)
    Image.new("RGB", (30, 22), (200, 120, 40)).save(tmp_path / "photo.png")
    result = invoke("transfer", str(path), str(tmp_path / "photo.png"), "-o", str(tmp_path / "out.png"), "-q",
                     "--report", str(tmp_path / "r.json"), "--precision", "fp32")
    assert_ok(result)
    assert Image.open(tmp_path / "out.png").size == (30, 22)
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["trained"] == {"source": SOURCE} and report["network"]["output"] == "clamp"
    assert report["precision"] == "fp32"


def test_an_exported_network_is_named_as_one(tmp_path):
    for name in ("candy.pt2", "candy.onnx"):
        (tmp_path / name).write_bytes(b"PK\x03\x04 an export")
        with pytest.raises(InputError, match=r"is an exported network .* pass the model file \(.pth\) it was exported"):
            load_model(tmp_path / name)
