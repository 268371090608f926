"""The image transform network of Johnson et al. (2016), "Perceptual Losses for Real-Time
Style Transfer and Super-Resolution", as in pytorch/examples ``fast_neural_style``.

Three reflection-padded convolutions (9x9, then two 3x3 with stride 2) with instance
normalisation and ReLU, residual blocks, two nearest-neighbour upsamplings (x2) each followed
by a 3x3 convolution (no transposed convolutions, so no checkerboard artefacts), and a final
9x9 convolution. Differences from pytorch/examples:

* Images are RGB in [0, 1], in and out, as everywhere in this package: the input is mapped
  to [-1, 1] (``x * 2 - 1``) inside the network and the output goes through a sigmoid
  (pytorch/examples takes and returns unbounded 0..255 values).
* The output has the size of the input for any height and width >= 1: each nearest-neighbour
  upsampling goes to the size of the matching encoder stage (exactly x2 when H and W are
  multiples of 4; other sizes need no padding, and exporters keep the size symbolic); the
  ``nn.Upsample`` modules in ``decoder`` only give the mode. Images under 8 px are first padded
  to 8 by reflection, or by replication where they are too small to reflect.
* Convolutions followed by instance normalisation have no bias (the normalisation removes
  it), so every parameter receives a gradient.
* ``width`` scales the channel counts (32, 64, 128 at width 1) and ``residual_blocks`` sets
  the depth (5 in the paper).
* ``output="clamp"`` replaces the sigmoid by a clamp to [0, 1]: the networks of pytorch/examples
  (converted by :mod:`.examples_model`) were trained with an unbounded output clamped when saved.
* ``antialias=True`` (``train --antialias``): a 3x3 binomial blur before each stride-2
  convolution and bilinear instead of nearest-neighbour upsampling, after Zhang (2019), "Making
  Convolutional Networks Shift-Invariant Again" (ICML). Plain stride-2 convolutions alias: a
  shift of the input by 1-3 px changes the texture of the output, not only its place, which is
  flicker on video. The blur has no parameters, so the state dict is the same in both kinds.
"""

import math
import numbers
from typing import Dict, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import InputError

BASE_CHANNELS = (32, 64, 128)
#: Zhang's "Tri-3" low-pass filter, [1, 2, 1] x [1, 2, 1] / 16.
_BINOMIAL = (1.0, 2.0, 1.0)
MIN_SIZE = 8  # smaller images are padded (reflection padding needs >= 5 px at the input)
#: How the last convolution becomes an image in [0, 1]: "sigmoid" (trained here) or "clamp" (pytorch/examples).
OUTPUTS = ("sigmoid", "clamp")


def _conv(in_channels: int, out_channels: int, kernel: int, stride: int = 1, bias: bool = False) -> nn.Sequential:
    """A convolution that keeps the size (divides it by ``stride``) with reflection padding."""
    return nn.Sequential(nn.ReflectionPad2d(kernel // 2),
                         nn.Conv2d(in_channels, out_channels, kernel, stride, bias=bias))


def _conv_norm_relu(in_channels: int, out_channels: int, kernel: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(_conv(in_channels, out_channels, kernel, stride),
                         nn.InstanceNorm2d(out_channels, affine=True), nn.ReLU())


class ResidualBlock(nn.Module):
    """conv3x3-IN-ReLU-conv3x3-IN plus the input (He et al. 2016, as used by Johnson et al.)."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(_conv_norm_relu(channels, channels, 3), _conv(channels, channels, 3),
                                  nn.InstanceNorm2d(channels, affine=True))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class Blur(nn.Module):
    """The 3x3 binomial low-pass filter applied to each of ``channels`` channels, reflection-padded.

    Shape: (B, channels, H, W) -> (B, channels, H, W), H and W >= 2. The kernel is a buffer that is
    not saved (no parameters, the same state dict as without it); it follows the module's dtype and device.
    """

    def __init__(self, channels: int):
        super().__init__()
        taps = torch.tensor(_BINOMIAL)
        kernel = taps[:, None] * taps[None] / taps.sum() ** 2
        self.register_buffer("kernel", kernel.expand(channels, 1, 3, 3).clone(), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), self.kernel.to(x.dtype), groups=x.shape[1])


def channels_for(width: float) -> Tuple[int, int, int]:
    """The three stages' channel counts at channel multiplier ``width`` (at least 1 each)."""
    return tuple(max(1, int(math.floor(c * width + 0.5))) for c in BASE_CHANNELS)


def inference_bytes(width: float, batch: int, height: int, image_width: int) -> int:
    """Peak memory, in bytes, of a no-grad forward pass on a (batch, 3, height, image_width) input:
    about 4.5 full-resolution maps of the middle stage's width, plus the image, in float32 (fitted
    to the peak RSS measured on a CPU: 1170 bytes per pixel at width 1, 1024 and 2048 px; bf16
    autocast needs less). Computed without building the network."""
    return int(batch * height * image_width * 4 * (3 + 4.5 * channels_for(width)[1]))


def parameter_count(width: float, residual_blocks: int = 5) -> int:
    """Weights of the convolutions at ``width`` (normalisation parameters, a few thousand, left out)."""
    c1, c2, c3 = channels_for(width)
    return 81 * 3 * c1 * 2 + 9 * (c1 * c2 + c2 * c3) * 2 + residual_blocks * 2 * 9 * c3 * c3


def weight_bytes(net: nn.Module) -> int:
    """Bytes of a network's parameters in float32 (4 per parameter, normalisation included)."""
    return 4 * sum(p.numel() for p in net.parameters())


class TransformerNet(nn.Module):
    """The fast style transfer network of Johnson et al. (2016).

    Args:
        width: channel multiplier; the three stages have ``round(32 * width)``,
            ``round(64 * width)`` and ``round(128 * width)`` channels (at least 1 each).
            Width 0.5 has about 4x fewer parameters than width 1.
        residual_blocks: number of residual blocks at the lowest resolution (>= 0).
        antialias: blur before the stride-2 convolutions and upsample bilinearly (see the
            module's docstring): outputs that move with their input instead of flickering.
        output: ``"sigmoid"`` (networks trained here) or ``"clamp"`` (``clamp(y, 0, 1)``: networks
            converted from pytorch/examples, see :mod:`.examples_model`).

    Shape:
        - Input: (B, 3, H, W), RGB in [0, 1], any floating dtype, any H, W >= 1. It is
          normalised to [-1, 1] as ``x * 2 - 1`` inside the network.
        - Output: (B, 3, H, W), RGB in [0, 1] (the last convolution goes through a
          sigmoid, or a clamp), in the dtype of the input.

    Instance normalisation uses the statistics of each image, in training and in eval mode
    alike, so an image's output does not depend on the rest of its batch.
    """

    def __init__(self, width: float = 1.0, residual_blocks: int = 5, antialias: bool = False,
                 output: str = "sigmoid"):
        super().__init__()
        if (isinstance(width, bool) or not isinstance(width, numbers.Real)
                or not math.isfinite(width) or width <= 0):
            raise InputError(f"transformer width must be a finite number > 0, expected e.g. 0.5 or 1, got {width!r}")
        if isinstance(residual_blocks, bool) or not isinstance(residual_blocks, numbers.Integral) \
                or residual_blocks < 0:
            raise InputError(f"number of residual blocks must be an integer >= 0, expected e.g. 5, "
                             f"got {residual_blocks!r}")
        if not isinstance(antialias, bool):
            raise InputError(f"antialias must be True or False, expected a bool, got {antialias!r}")
        if output not in OUTPUTS:
            raise InputError(f"output must be one of {', '.join(OUTPUTS)}, got {output!r}")
        self.output = output
        self.width = float(width)
        self.residual_blocks = int(residual_blocks)
        self.antialias = antialias
        c1, c2, c3 = self.channels = channels_for(self.width)
        self.blur1, self.blur2 = (Blur(c1), Blur(c2)) if antialias else (nn.Identity(), nn.Identity())
        upsample = "bilinear" if antialias else "nearest"
        self.encoder = nn.Sequential(_conv_norm_relu(3, c1, 9), _conv_norm_relu(c1, c2, 3, stride=2),
                                     _conv_norm_relu(c2, c3, 3, stride=2))
        self.residuals = nn.Sequential(*(ResidualBlock(c3) for _ in range(self.residual_blocks)))
        self.decoder = nn.Sequential(nn.Upsample(scale_factor=2, mode=upsample), _conv_norm_relu(c3, c2, 3),
                                     nn.Upsample(scale_factor=2, mode=upsample), _conv_norm_relu(c2, c1, 3),
                                     _conv(c1, 3, 9, bias=True))

    @property
    def config(self) -> Dict[str, object]:
        """The constructor arguments, ``{"width": float, "residual_blocks": int, "antialias": bool}``,
        and ``"output": "clamp"`` for a clamped network (absent for the default sigmoid)."""
        config = {"width": self.width, "residual_blocks": self.residual_blocks, "antialias": self.antialias}
        return config if self.output == "sigmoid" else {**config, "output": self.output}

    def inference_bytes(self, batch: int, height: int, width: int) -> int:
        """Peak memory, in bytes, of a no-grad forward pass: see :func:`inference_bytes`."""
        return inference_bytes(self.width, batch, height, width)

    def extra_repr(self) -> str:
        return (f"width={self.width}, residual_blocks={self.residual_blocks}, antialias={self.antialias}, "
                f"output={self.output}, channels={self.channels}")

    def forward(self, image: Tensor) -> Tensor:
        if not isinstance(image, Tensor):
            raise TypeError(f"expected an image tensor of shape (B, 3, H, W), got {type(image).__name__}")
        if image.ndim != 4 or image.shape[1] != 3:
            raise ValueError(f"expected an RGB image of shape (B, 3, H, W), got {tuple(image.shape)}")
        if not image.is_floating_point():
            raise TypeError(f"expected a floating point image in [0, 1], got dtype {image.dtype}")
        height, width = image.shape[-2:]
        if height == 0 or width == 0 or image.shape[0] == 0:
            raise ValueError(f"expected a non-empty image of shape (B, 3, H, W), got {tuple(image.shape)}")
        x = image.to(next(self.parameters()).dtype) * 2 - 1
        x, (top, left) = _pad(x)
        full = self.encoder[0](x)
        half = self.encoder[1](self.blur1(full))
        y = self.residuals(self.encoder[2](self.blur2(half)))
        up1, conv1, up2, conv2, out = self.decoder
        y = conv1(_upsample(y, half.shape[-2:], up1.mode))
        y = out(conv2(_upsample(y, full.shape[-2:], up2.mode)))
        if top or left or y.shape[-2:] != image.shape[-2:]:  # only for images under 8 px
            y = y[..., top:top + height, left:left + width]
        y = torch.sigmoid(y) if self.output == "sigmoid" else y.clamp(0, 1)
        return y.to(image.dtype)


def _upsample(x: Tensor, size, mode: str) -> Tensor:
    """``x`` resized to ``size`` (nearest, or bilinear with pixel-centre alignment)."""
    return F.interpolate(x, size=size, mode=mode, **({"align_corners": False} if mode == "bilinear" else {}))


def _pad(x: Tensor) -> Tuple[Tensor, Tuple[int, int]]:
    """Pad H and W under 8 up to 8, split evenly between the two sides; return the padded
    tensor and the (top, left) offsets of the original."""
    offsets = []
    for dim in (-2, -1):
        size = x.shape[dim]
        total = max(MIN_SIZE - size, 0)
        before, after = total // 2, total - total // 2
        if total:
            mode = "reflect" if after < size else "replicate"
            pad = (before, after, 0, 0) if dim == -1 else (0, 0, before, after)
            x = F.pad(x, pad, mode=mode)
        offsets.append(before)
    return x, (offsets[0], offsets[1])
