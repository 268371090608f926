"""The ``--report`` JSON of ``train``, ``transfer`` and ``export``: one typed record per command.

Each report is a :class:`neural_style.io.report.Report`: a dataclass whose fields are the JSON's
keys, in order, after ``"command"``; :meth:`~neural_style.io.report.Report.write` adds the
environment and writes the file atomically.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from ..io.report import Report

__all__ = ["TrainReport", "TransferReport", "ExportReport"]

PathLike = Union[str, Path]


@dataclass
class TrainReport(Report):
    """What ``train`` did (rank 0 writes it; also when no model was written).

    Attributes:
        settings: the :class:`~neural_style.settings.TrainSettings` fields, with ``style`` and
            ``dataset`` (the paths given).
        device: the torch device of rank 0 (``"cpu"``, ``"cuda:0"``).
        world_size: processes under torchrun (1 without).
        steps: the step reached, counting those of a resumed checkpoint (0 when stopped before training).
        images_per_second: training throughput of this run over all processes.
        skipped_files: unreadable dataset files skipped; skipped: their paths, sorted.
        history: every ``log_every`` steps ``{"step", "content", "style", "tv", "total"}`` (and
            ``"temporal"`` with a temporal weight).
        model_written: whether the model file was written.
        stop_reason: a :class:`~neural_style.core.stop.StopReason` word (``"completed"``,
            ``"interrupted"``, ``"non-finite"``) or ``"checkpoint-failed"`` (a checkpoint could not
            be written).
    """

    command = "train"
    settings: Dict[str, Any]
    device: str
    world_size: int
    steps: int
    images_per_second: float
    skipped_files: int
    skipped: List[str]
    history: List[Dict[str, float]]
    model_written: bool
    stop_reason: str


@dataclass
class TransferReport(Report):
    """What ``transfer`` did (written in every case, interrupted or not).

    Attributes:
        model: the model file.
        network: the network's configuration (``{"width", "residual_blocks", "antialias"}``, and
            ``"output": "clamp"`` for a pytorch/examples network).
        trained: the model file's metadata: style, training settings, steps, ...; for a pytorch/examples
            network ``{"source": "pytorch/examples fast_neural_style"}``.
        device: the torch device used.
        precision: the precision the network ran in (``"fp32"``, ``"bf16"``, ``"fp16"``: ``auto`` resolved).
        settings: the :class:`~neural_style.settings.TransferSettings` fields.
        files: ``{"input", "output", "frames", "seconds"}`` for each file written, in input order.
        failures: ``{"input", "output", "error"}`` for each file that could not be stylised.
        unprocessed: inputs not finished because the run was interrupted.
        stop_reason: ``"completed"`` or ``"interrupted"`` (:class:`~neural_style.core.stop.StopReason`).
    """

    command = "transfer"
    model: str
    network: Dict[str, Any]
    trained: Dict[str, Any]
    device: str
    precision: str
    settings: Dict[str, Any]
    files: List[Dict[str, Any]]
    failures: List[Dict[str, Any]]
    unprocessed: List[str]
    stop_reason: str


@dataclass
class ExportReport(Report):
    """What ``export`` did.

    Attributes:
        model: the model file (as given).
        network: the network's configuration.
        trained: the model file's metadata (as :class:`TransferReport`'s).
        check_image: the image the export was checked on (None: a random one).
        path: the exported file; format: ``"onnx"`` or ``"pt2"``.
        max_abs_diff: the largest difference between the exported and the original network's
            outputs on the check image (pixels in [0, 1]); None where onnxruntime is missing.
        checked_with: ``"torch.export.load"``, ``"onnxruntime <version>"`` or None.
    """

    command = "export"
    model: Optional[PathLike]
    network: Dict[str, Any]
    trained: Dict[str, Any]
    check_image: Optional[PathLike]
    path: str
    format: str
    max_abs_diff: Optional[float]
    checked_with: Optional[str]
