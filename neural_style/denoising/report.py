"""The ``--report`` JSON of a ``denoise`` run, built in one place."""

from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar, Dict, List, Optional

from ..settings import DenoiseSettings

if TYPE_CHECKING:  # the runner imports this module
    from .runner import DenoiseBatch


@dataclass
class DenoiseReport:
    """What :func:`~.runner.denoise_files` writes to ``report`` (with the ``environment`` that
    :func:`~neural_style.io.report.write_report` adds), keys in this order: ``command``
    (``"denoise"``), then the fields below.

    Attributes:
        settings: the :class:`~neural_style.settings.DenoiseSettings` as a dict.
        jobs: the worker processes used (1: one process).
        images: one record per image written, in input order (see :class:`~.runner.DenoiseBatch`).
        failures: ``{"input", "output", "error"}`` per file that failed.
        unprocessed: inputs not reached (interrupted).
        stop_reason: ``"completed"`` or ``"interrupted"``.
        mean_psnr, mean_ssim: over the scored images (dB, [0, 1]); present only when scored.
    """

    command: ClassVar[str] = "denoise"

    settings: Dict[str, Any]
    jobs: int
    images: List[Dict[str, Any]]
    failures: List[Dict[str, Any]]
    unprocessed: List[str]
    stop_reason: str
    mean_psnr: Optional[float] = None
    mean_ssim: Optional[float] = None

    @classmethod
    def of(cls, batch: "DenoiseBatch", settings: DenoiseSettings) -> "DenoiseReport":
        """The report of ``batch``, run with ``settings``."""
        return cls(asdict(settings), batch.jobs, batch.records, batch.failures, batch.unprocessed,
                   batch.stop_reason, batch.mean_psnr, batch.mean_ssim)

    def as_dict(self) -> Dict[str, Any]:
        """The JSON object (before :func:`~neural_style.io.report.write_report` adds the environment)."""
        data = {"command": self.command, **{f.name: getattr(self, f.name) for f in fields(self)}}
        if self.mean_psnr is None:  # no image was scored
            del data["mean_psnr"], data["mean_ssim"]
        return data
