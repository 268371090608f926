"""Exporting a fast style network to ONNX or torch.export (``.pt2``), checked against the original.

The exported graph is the network without its size adapter: it takes (B, 3, H, W) images in
[0, 1] with H and W multiples of 4 (at least 8), dynamic in B, H and W, and returns the
stylised images in [0, 1]. (The padding that lets :class:`TransformerNet` take any size
depends on H and W in ways exporters cannot keep symbolic; pad to a multiple of 4 with
reflection before calling an exported model.)
"""

import warnings
from pathlib import Path
from typing import Dict, Optional

import torch
from torch import nn

from .errors import InputError
from .images import atomic_write
from .transformer import MULTIPLE, TransformerNet

EXPORT_EXTENSIONS = (".onnx", ".pt2")


class ExportedCore(nn.Module):
    """The network between its size adapter's padding and cropping."""

    def __init__(self, net: TransformerNet):
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        y = self.net.decoder(self.net.residuals(self.net.encoder(image * 2 - 1)))
        return torch.sigmoid(y)


def export_model(net: TransformerNet, path, *, sample: Optional[torch.Tensor] = None) -> Dict:
    """Write ``net`` to ``path`` (.onnx or .pt2) and compare the exported model with ``net``.

    Returns:
        ``{"path", "format", "max_abs_diff" (None if it could not be run), "checked_with"}``.
    """
    path = Path(path)
    fmt = path.suffix.lower()
    if fmt not in EXPORT_EXTENSIONS:
        raise InputError(f"export '{path}' has an unsupported extension: use .onnx or .pt2")
    if fmt == ".onnx":
        try:
            import onnx  # noqa: F401
        except ImportError:
            raise InputError("ONNX export needs the onnx package: pip install 'neural-style[export]'") from None
    core = ExportedCore(net.eval().float().cpu()).eval()
    if sample is None:
        sample = torch.rand(1, 3, 64, 96, generator=torch.Generator().manual_seed(0))
    height, width = (s - s % MULTIPLE for s in sample.shape[-2:])
    if min(height, width) < 8:
        raise InputError("the check image is smaller than 8 px: pass a larger one")
    sample = sample[..., :height, :width].float().cpu()
    with torch.no_grad():
        expected = core(sample)
    if fmt == ".pt2":
        from torch.export import Dim

        h, w = Dim("h", min=2, max=4096), Dim("w", min=2, max=4096)
        shapes = {"image": {0: Dim("batch", min=1, max=1024), 2: MULTIPLE * h, 3: MULTIPLE * w}}
        # A batch of 2 so that the batch size is not specialised to 1.
        program = torch.export.export(core, (sample.expand(2, -1, -1, -1),), dynamic_shapes=shapes)
        atomic_write(path, lambda tmp: torch.export.save(program, str(tmp)))
        got = torch.export.load(str(path)).module()(sample)
        diff, checked = float((got - expected).abs().max()), "torch.export.load"
    else:
        def write(tmp):
            with warnings.catch_warnings():  # the TorchScript exporter's deprecation chatter
                warnings.simplefilter("ignore")
                torch.onnx.export(core, (sample,), str(tmp), dynamo=False, input_names=["image"],
                                  output_names=["stylized"], opset_version=17,
                                  dynamic_axes={"image": {0: "batch", 2: "height", 3: "width"},
                                                "stylized": {0: "batch", 2: "height", 3: "width"}})
        atomic_write(path, write)
        try:
            import onnxruntime
        except ImportError:
            return {"path": str(path), "format": "onnx", "max_abs_diff": None, "checked_with": None}
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        got = torch.from_numpy(session.run(None, {"image": sample.numpy()})[0])
        diff, checked = float((got - expected).abs().max()), f"onnxruntime {onnxruntime.__version__}"
    return {"path": str(path), "format": fmt[1:], "max_abs_diff": diff, "checked_with": checked}
