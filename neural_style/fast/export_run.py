"""The ``export`` command as a Python function, with files.

:func:`export` checks the output locations, the disk space and the check image's memory before
any work, exports the model (:mod:`.export`) and writes the report
(:class:`~neural_style.fast.reports.ExportReport`).
"""

from pathlib import Path
from typing import Dict

from ..io.decode import image_shape, to_tensor
from ..io.disk import require_space
from ..io.locks import owned
from ..io.outputs import check_output_path
from .export import EXPORT_EXTENSIONS, check_memory, export_model
from .model_file import load_model
from .reports import ExportReport
from .transformer import weight_bytes

__all__ = ["export"]


def export(model, output, *, check_image=None, report=None) -> Dict:
    """Export a model file to ONNX (``.onnx``) or torch.export (``.pt2``) and check it.

    Args:
        model: a model file from :func:`~neural_style.fast.train_run.train`.
        output: ``OUT.onnx`` (needs the ``export`` extra) or ``OUT.pt2``.
        check_image: the image to compare the exported model with the original on (at least 8x8 px;
            default: a random one).
        report: write the model, the check image and the result as JSON
            (a :class:`~neural_style.fast.reports.ExportReport`).

    Returns:
        ``{"path", "format", "max_abs_diff" (None where onnxruntime is missing), "checked_with"}``.

    Raises:
        InputError: bad paths, model or check image, or not enough memory or disk, before any work.
    """
    output = Path(output)
    reads = [model] + ([check_image] if check_image else [])
    check_output_path(output, inputs=reads, extensions=EXPORT_EXTENSIONS, what="export")
    if report is not None:
        check_output_path(report, inputs=reads, extensions=(".json",), what="report", outputs={output: "export"})
    net, trained = load_model(model)
    require_space(output, 2 * weight_bytes(net) + 2**20, "the exported model")  # the weights, the graph: checked
    # first, as torch's archive writer aborts the process on a full disk
    if check_image:
        shape = image_shape(check_image)
        if shape is not None:  # before decoding: a huge image is refused from its header
            check_memory(net, *shape)
    sample = to_tensor(check_image, what="check image") if check_image else None
    with owned(output, "export"):  # while it is made: another run's same output is refused
        result = export_model(net, output, sample=sample)
    if report is not None:
        ExportReport(model=model, network=net.config, trained=trained, check_image=check_image, **result).write(
            report, kept=f"wrote {output}")
    return result
