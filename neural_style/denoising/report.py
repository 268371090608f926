"""What a ``denoise`` run did (:class:`DenoiseBatch`), and its ``--report`` JSON, built in one place
(:class:`DenoiseReport`)."""

from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Optional

from ..io.batch import BatchResult
from ..io.report import Report
from ..settings import DenoiseSettings, RestoreSettings


@dataclass
class DenoiseBatch(BatchResult):
    """What :func:`~.runner.denoise_files` did (a :class:`~neural_style.io.batch.BatchResult`).

    Attributes:
        records: one dict per image written, in input order: input, output, size, channels,
            bit_depth, sigma (and sigma_255, sigma_estimated), regularizer, tv_weight (and
            tv_weight_method, sure, sure_evaluations), tv_beta, optimizer,
            iterations, stop_reason, seconds; with a reference also reference, psnr, ssim (of the
            output) and psnr_noisy.
        failures: ``{"input", "output", "error"}`` for each file that could not be denoised (the
            others were still processed).
        unprocessed: inputs not reached because the run was interrupted (Ctrl-C, SIGTERM).
        stop_reason: ``"completed"`` or ``"interrupted"``.
        mean_psnr, mean_ssim: over the scored images, in dB and [0, 1]; None without a reference.
        jobs: the worker processes used (1: this process).
    """

    mean_psnr: Optional[float] = None
    mean_ssim: Optional[float] = None
    jobs: int = 1


@dataclass
class DenoiseReport(Report):
    """What :func:`~.runner.denoise_files` writes to ``report`` (with the ``environment`` that
    :func:`~neural_style.io.report.write_report` adds), keys in this order: ``command``
    (``"denoise"``), then the fields below.

    Attributes:
        settings: the :class:`~neural_style.settings.DenoiseSettings` as a dict.
        jobs: the worker processes used (1: one process).
        images: one record per image written, in input order (see :class:`DenoiseBatch`).
        failures: ``{"input", "output", "error"}`` per file that failed.
        unprocessed: inputs not reached (interrupted).
        stop_reason: ``"completed"`` or ``"interrupted"``.
        mean_psnr, mean_ssim: over the scored images (dB, [0, 1]); present only when scored.
    """

    command = "denoise"

    settings: Dict[str, Any]
    jobs: int
    images: List[Dict[str, Any]]
    failures: List[Dict[str, Any]]
    unprocessed: List[str]
    stop_reason: str
    mean_psnr: Optional[float] = None
    mean_ssim: Optional[float] = None

    @classmethod
    def of(cls, batch: DenoiseBatch, settings: DenoiseSettings) -> "DenoiseReport":
        """The report of ``batch``, run with ``settings`` (a :class:`RestoreReport` for restore's settings)."""
        kind = RestoreReport if isinstance(settings, RestoreSettings) and cls is DenoiseReport else cls
        return kind(asdict(settings), batch.jobs, batch.records, batch.failures, batch.unprocessed,
                   batch.stop_reason, batch.mean_psnr, batch.mean_ssim)

    def to_dict(self) -> Dict[str, Any]:
        """The JSON object (before :func:`~neural_style.io.report.write_report` adds the environment)."""
        data = super().to_dict()
        if self.mean_psnr is None:  # no image was scored
            del data["mean_psnr"], data["mean_ssim"]
        return data


@dataclass
class RestoreReport(DenoiseReport):
    """What :func:`~.restore_files.restore_files` writes: :class:`DenoiseReport`'s fields with ``command``
    ``"restore"``, the settings a :class:`~neural_style.settings.RestoreSettings`, and per image also
    ``output_size``, ``residual`` (``||A x - y||^2`` per known value) and ``lambda_evaluations`` instead of
    ``sure`` and ``sure_evaluations``."""

    command = "restore"
