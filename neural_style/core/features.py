"""A VGG feature extractor that returns named layers.

Layers are named as in the papers and in jcjohnson/neural-style: ``conv1_1``,
``relu1_1``, ``conv1_2``, ``relu1_2``, ``pool1``, ``conv2_1`` ... ``relu5_4``,
``pool5``. The network is built only up to the last layer asked for. Input is a
(B, 3, H, W) RGB image in [0, 1]; the input normalisation of the weights
(torchvision: ImageNet mean/std; caffe: BGR, 0..255, mean-subtracted) happens
here and nowhere else.
"""

from collections import OrderedDict
from typing import Dict, Iterable, List, Optional, Sequence

import torch
from torch import nn

from ..errors import InputError
from .choices import POOLINGS
from .weights import MODELS, VGG_BLOCKS, LoadedWeights

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


def layer_names(model: str) -> List[str]:
    """All layer names of ``model`` ("vgg16" or "vgg19") in network order."""
    if model not in VGG_BLOCKS:
        raise InputError(f"unknown model {model!r}: expected one of {', '.join(MODELS)}")
    names = []
    for b, block in enumerate(VGG_BLOCKS[model], start=1):
        for c in range(1, len(block) + 1):
            names += [f"conv{b}_{c}", f"relu{b}_{c}"]
        names.append(f"pool{b}")
    return names


def check_layers(model: str, layers: Iterable[str], what: str = "layer") -> List[str]:
    """Return ``layers`` as a list, raising InputError for a name ``model`` lacks."""
    known = layer_names(model)
    layers = list(layers)
    for name in layers:
        if name not in known:
            raise InputError(f"unknown {what} {name!r} for {model}: expected names like "
                             f"relu4_2 or conv1_1, up to {known[-2]}")
    return layers


class FeatureExtractor(nn.Module):
    """VGG features at named layers.

    Args:
        weights: checked VGG weights (see :func:`neural_style.weights.load_weights`).
        layers: names of the layers to return.
        weights_format: ``"torchvision"`` (RGB, ImageNet mean/std) or ``"caffe"``
            (BGR, 0..255 minus the ImageNet mean pixel).
        pooling: ``"max"`` or ``"avg"`` (average pooling, as in Gatys et al.).

    Shape:
        - Input: (B, 3, H, W), RGB in [0, 1].
        - Output: ``{name: (B, C_l, H_l, W_l)}`` for each requested layer.
    """

    def __init__(self, weights: LoadedWeights, layers: Sequence[str],
                 weights_format: str = "torchvision", pooling: str = "max"):
        super().__init__()
        if weights_format not in ("torchvision", "caffe"):
            raise InputError(f"unknown weights format {weights_format!r}: expected torchvision or caffe")
        if pooling not in POOLINGS:
            raise InputError(f"unknown pooling {pooling!r}: expected max or avg")
        self.model = weights.model
        self.layers = check_layers(self.model, dict.fromkeys(layers))
        if not self.layers:
            raise InputError("no layers requested: name at least one layer")
        self.weights_format = weights_format
        if weights_format == "caffe":
            mean, std = [m / 255 for m in _CAFFE_MEAN_BGR[::-1]], [1 / 255] * 3
        else:
            mean, std = _IMAGENET_MEAN, _IMAGENET_STD
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1))

        names = layer_names(self.model)
        last = max(names.index(n) for n in self.layers)
        modules, channels = OrderedDict(), 3
        for index, name in enumerate(names[: last + 1]):
            if name.startswith("conv"):
                conv = nn.Conv2d(channels, weights.state[f"{index}.weight"].shape[0], 3, padding=1)
                with torch.no_grad():
                    conv.weight.copy_(weights.state[f"{index}.weight"])
                    conv.bias.copy_(weights.state[f"{index}.bias"])
                modules[name], channels = conv, conv.out_channels
            elif name.startswith("relu"):
                # In place unless the conv output it would overwrite is returned.
                modules[name] = nn.ReLU(inplace=names[index - 1] not in self.layers)
            else:
                modules[name] = nn.MaxPool2d(2, 2) if pooling == "max" else nn.AvgPool2d(2, 2)
        self.net = nn.Sequential(modules)
        self.requires_grad_(False)
        self.eval()
        self.autocast_dtype: Optional[torch.dtype] = None

    def precision(self, dtype: Optional[torch.dtype]) -> "FeatureExtractor":
        """Run the network under autocast to ``dtype`` (torch.bfloat16 or torch.float16), or in
        float32 (``None``). Features are returned as float32 (or float64 for a float64 network), so losses and Gram
        matrices stay in full precision."""
        self.autocast_dtype = dtype
        return self

    @property
    def min_size(self) -> int:
        """Smallest height and width the deepest layer still sees one pixel of."""
        return 2 ** sum(1 for name in self.net._modules if name.startswith("pool"))

    def forward(self, image: torch.Tensor) -> Dict[str, torch.Tensor]:
        if image.ndim != 4 or image.shape[1] != 3:
            raise ValueError(f"expected an RGB image of shape (B, 3, H, W), got {tuple(image.shape)}")
        x = (image - self.mean) / self.std
        if self.weights_format == "caffe":
            x = x.flip(1)  # x * 255 - mean, then RGB -> BGR
        x = x.contiguous()
        out, wanted = {}, set(self.layers)
        with torch.autocast(x.device.type, dtype=self.autocast_dtype or torch.float32,
                            enabled=self.autocast_dtype is not None):
            for name, module in self.net.named_children():
                x = module(x)
                if name in wanted:
                    out[name] = x
        # autocast features back to float32 (float64 stays float64, for exactness checks)
        return {k: v.float() if v.dtype in (torch.float16, torch.bfloat16) else v for k, v in out.items()}


def build_extractor(weights: LoadedWeights, layers: Sequence[str], *, weights_format: str = "torchvision",
                    pooling: str = "max", device: Optional[torch.device] = None) -> FeatureExtractor:
    """A :class:`FeatureExtractor` moved to ``device``."""
    return FeatureExtractor(weights, layers, weights_format, pooling).to(device)


def parse_layers(spec, what: str = "layer") -> Dict[str, float]:
    """Layer names with optional weights, as ``{"relu1_1": 0.5, "relu2_1": 1.0}``.

    Accepts ``"relu1_1:0.5,relu2_1"`` (a weight of 1 where none is given), a list of
    names, or a mapping of names to weights.
    """
    if isinstance(spec, str):
        items = [s.strip() for s in spec.split(",") if s.strip()]
        spec = {}
        for item in items:
            name, _, weight = item.partition(":")
            try:
                spec[name.strip()] = float(weight) if weight else 1.0
            except ValueError as exc:
                raise InputError(f"bad {what} weight in {item!r}: expected NAME or NAME:WEIGHT "
                                 "like relu1_1:0.5") from exc
    elif not hasattr(spec, "items"):
        spec = {name: 1.0 for name in spec}
    layers = {str(k): float(v) for k, v in spec.items()}
    if not layers:
        raise InputError(f"no {what}s given: name at least one, like relu4_2")
    for name, weight in layers.items():
        if not weight >= 0 or weight == float("inf"):
            raise InputError(f"{what} weight of {name} must be a finite number >= 0, got {weight}")
    return layers


def activation_bytes(extractor: FeatureExtractor, height: int, width: int, batch: int = 1) -> int:
    """Bytes of the float32 activations of one forward pass at (height, width)."""
    total, h, w = 0, height, width
    for name, module in extractor.net.named_children():
        if name.startswith("pool"):
            h, w = h // 2, w // 2
        channels = module.out_channels if isinstance(module, nn.Conv2d) else None
        if channels:
            last = channels
        total += batch * last * h * w * 4 if not name.startswith("relu") else 0
    return total
