"""Exporting a fast style network to ONNX or torch.export (``.pt2``), checked against the original.

The exported graph is the whole network: it takes (B, 3, H, W) images in [0, 1], dynamic in
B, H and W (H, W >= 8; smaller images need the network's padding, which depends on the size
in ways exporters cannot keep), and returns the stylised images in [0, 1] at the same size.
"""

import warnings
from pathlib import Path
from typing import Dict, Optional

import torch
from torch.export import Dim

from ..core.device import require_memory
from ..errors import InputError, NeuralStyleError, one_line, setting
from ..io.atomic import atomic_write
from .transformer import MIN_SIZE, TransformerNet

EXPORT_EXTENSIONS = (".onnx", ".pt2")


def check_memory(net: TransformerNet, height: int, width: int) -> None:
    """Refuse a check image whose run through the original and the exported network would not fit."""
    require_memory(2 * net.inference_bytes(1, height, width), torch.device("cpu"),
                   f"checking the export on a {width}x{height} px image", f"pass a smaller {setting('check_image')}")


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
        except ImportError as exc:
            raise InputError("ONNX export needs the onnx package: pip install 'neural-style[export]'") from exc
    core = net.eval().float().cpu()
    if sample is None:
        sample = torch.rand(1, 3, 61, 90, generator=torch.Generator().manual_seed(0))
    if min(sample.shape[-2:]) < MIN_SIZE:
        raise InputError(f"the check image is smaller than {MIN_SIZE} px: pass a larger one")
    sample = sample.float().cpu()
    check_memory(net, *sample.shape[-2:])
    with torch.no_grad():
        expected = core(sample)
    if fmt == ".pt2":
        shapes = {"image": {0: Dim("batch", min=1, max=1024), 2: Dim("height", min=MIN_SIZE, max=16384),
                            3: Dim("width", min=MIN_SIZE, max=16384)}}
        # A batch of 2 so that the batch size is not specialised to 1.
        try:
            program = torch.export.export(core, (sample.expand(2, -1, -1, -1),), dynamic_shapes=shapes)
        except Exception as exc:  # torch.export's many errors (constraint violations, unsupported ops)
            first = one_line(exc, 120)
            raise NeuralStyleError(f"torch.export cannot export this network ({type(exc).__name__}: {first}): "
                                   "export it to .onnx instead") from exc
        def save(tmp):  # through a Python file: a full disk is an OSError, not an abort in torch's C++ writer
            with open(tmp, "wb") as stream:
                torch.export.save(program, stream)

        atomic_write(path, save)
        with open(path, "rb") as stream, torch.no_grad():  # a file object: torch logs about a name not ending in .pt2
            got = torch.export.load(stream).module()(sample)
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
