"""The trained networks of pytorch/examples ``fast_neural_style`` (candy, mosaic, rain_princess,
udnie), read as :class:`~neural_style.fast.transformer.TransformerNet` networks.

Their files are a bare state dict (``torch.save(model.state_dict())``) of a TransformerNet with
the same layers as ours under other names (``conv1.conv2d``, ``in1``, ``res1.conv1.conv2d`` ...
``deconv3.conv2d``); files saved with torch before 0.4 also hold InstanceNorm running statistics,
which their own loader deletes and so do we. Their network reads and writes 0..255 values, ours
[0, 1]; the conversion is exact:

* Input: theirs sees ``255 x``, ours ``2 x - 1 = (255 x - 127.5) / 127.5``. Every first-stage
  activation is followed by instance normalisation, which removes a per-channel constant, so the
  first convolution's weights times 127.5 give the same normalised activations. For the same
  reason the biases of every convolution followed by normalisation are dropped (ours have none).
* Output: theirs is clamped to 0..255 and divided by 255 when saved; the last convolution's
  weights and bias divided by 255, with ``output="clamp"``, give the same image.

One difference is kept on purpose: for heights or widths that are not multiples of 4, their
upsampling makes an output 1-3 px larger than the input; ours has the input's size.
The file is read with ``weights_only=True`` like every model file: nothing in it can run.
"""

import re
from typing import Dict, Mapping, Optional, Tuple

from torch import Tensor

from .transformer import BASE_CHANNELS, TransformerNet

SOURCE = "pytorch/examples fast_neural_style"
_STAGES = {"conv1": ("encoder.0.0.1", "in1", "encoder.0.1"), "conv2": ("encoder.1.0.1", "in2", "encoder.1.1"),
           "conv3": ("encoder.2.0.1", "in3", "encoder.2.1"), "deconv1": ("decoder.1.0.1", "in4", "decoder.1.1"),
           "deconv2": ("decoder.3.0.1", "in5", "decoder.3.1")}
_DROPPED = re.compile(r"(^|\.)in\d+\.(running_mean|running_var|num_batches_tracked)$")
_RESIDUAL = re.compile(r"^res(\d+)\.")


def is_examples_state_dict(payload) -> bool:
    """Whether ``payload`` (what a model file held) is a pytorch/examples TransformerNet state dict:
    a dict of tensors with their first and last convolutions' names."""
    return (isinstance(payload, Mapping) and all(isinstance(v, Tensor) for v in payload.values())
            and "conv1.conv2d.weight" in payload and "deconv3.conv2d.weight" in payload)


def _names(blocks: int) -> Dict[str, Tuple[str, float]]:
    """Their key -> (our key, factor) for a network with ``blocks`` residual blocks; factor 0 drops it."""
    names = {}
    for theirs, (conv, norm, our_norm) in _STAGES.items():
        names[f"{theirs}.conv2d.weight"] = (f"{conv}.weight", 127.5 if theirs == "conv1" else 1.0)
        names[f"{theirs}.conv2d.bias"] = ("", 0.0)  # cancelled by the normalisation that follows
        names.update({f"{norm}.{p}": (f"{our_norm}.{p}", 1.0) for p in ("weight", "bias")})
    for i in range(blocks):
        for conv, norm, ours in (("conv1", "in1", "0"), ("conv2", "in2", "1")):
            body = f"residuals.{i}.body"
            names[f"res{i + 1}.{conv}.conv2d.weight"] = (f"{body}.{ours}.1.weight" if ours == "1"
                                                         else f"{body}.0.0.1.weight", 1.0)
            names[f"res{i + 1}.{conv}.conv2d.bias"] = ("", 0.0)
            our_norm = f"{body}.0.1" if ours == "0" else f"{body}.2"
            names.update({f"res{i + 1}.{norm}.{p}": (f"{our_norm}.{p}", 1.0) for p in ("weight", "bias")})
    names["deconv3.conv2d.weight"] = ("decoder.4.1.weight", 1 / 255)
    names["deconv3.conv2d.bias"] = ("decoder.4.1.bias", 1 / 255)
    return names


def convert_examples_state_dict(state: Mapping[str, Tensor]) -> Tuple[dict, Dict[str, Tensor], Optional[str]]:
    """Convert a pytorch/examples TransformerNet state dict (see the module's docstring).

    Args:
        state: their ``state_dict()``: float tensors under their names, with or without the
            InstanceNorm running statistics of old files.

    Returns:
        ``(config, state_dict, problem)``: the :class:`TransformerNet` constructor arguments
        (``output="clamp"``; width from the first convolution's channels, residual blocks counted),
        our state dict, and None, or a one-line ``problem`` (an unknown or missing key, a tensor of
        another shape or of NaN, named by their key) with the first two empty.
    """
    blocks = len({int(m.group(1)) for key in state for m in [_RESIDUAL.match(key)] if m})
    names = _names(blocks)
    kept = {k: v for k, v in state.items() if not _DROPPED.search(k)}
    unknown = [k for k in kept if k not in names]
    missing = [k for k, (ours, factor) in names.items() if factor and k not in kept]
    if unknown or missing:
        what = f"unknown key {unknown[0]!r}" if unknown else f"no key {missing[0]!r}"
        return {}, {}, f"it has {what}"
    config = {"width": state["conv1.conv2d.weight"].shape[0] / BASE_CHANNELS[0], "residual_blocks": blocks,
              "output": "clamp"}
    expected = TransformerNet(**config).state_dict()
    for key, value in kept.items():
        ours, factor = names[key]
        if factor and (not value.is_floating_point() or value.shape != expected[ours].shape
                       or not bool(value.isfinite().all())):
            what = (f"has shape {tuple(value.shape)}, expected {tuple(expected[ours].shape)}"
                    if value.shape != expected[ours].shape else f"is {value.dtype}" if not value.is_floating_point()
                    else "holds NaN or infinite values")
            return {}, {}, f"its {key} {what}"
    return config, {names[k][0]: v.detach().float() * names[k][1] for k, v in kept.items() if names[k][1]}, None
