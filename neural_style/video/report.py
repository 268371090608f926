"""The ``--report`` of ``stylize`` on a clip: one typed record (docs/reports.md, "stylize (a video or an
animated image)")."""

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from ..core.stop import StopReason
from ..io.report import Report, size_record
from ..settings import StylizeSettings, VideoSettings


@dataclass
class ClipReport(Report):
    """What a stylize run of a clip did.

    Attributes:
        content, styles: the clip's and the style images' paths.
        settings, video: the :class:`~neural_style.settings.StylizeSettings` and
            :class:`~neural_style.settings.VideoSettings` fields.
        frame_size: ``{"width", "height"}`` of the stylised frames.
        frames_total, frames_resumed, frames_finished: frames in the clip, finished by earlier runs, and
            finished in all (earlier runs' included).
        stop_reason: a :class:`~neural_style.core.stop.StopReason`.
        device, precision: what ran.
        output: the file written (None with ``-o DIR/``); frame_folder: the numbered PNGs.
        seconds: this run's time.
        frames: per frame (earlier runs' included): index, iterations, seconds, stop_reason, losses, consistent.
    """

    command = "stylize"
    content: Any
    styles: List[Any]
    settings: Dict[str, Any]
    video: Dict[str, Any]
    frame_size: Dict[str, int]
    frames_total: int
    frames_resumed: int
    frames_finished: int
    stop_reason: StopReason
    device: str
    precision: str
    output: Optional[Path]
    frame_folder: Path
    seconds: float
    frames: List[Dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, content, styles, settings: StylizeSettings, video: VideoSettings, result, shape) -> "ClipReport":
        """The report of ``result`` (a :class:`~neural_style.video.stylize.VideoResult`) with frames of ``shape``."""
        return cls(content=content, styles=styles, settings=asdict(settings), video=asdict(video),
                   frame_size=size_record(shape), frames_total=result.total, frames_resumed=result.resumed,
                   frames_finished=result.finished, stop_reason=result.stop_reason, device=result.device,
                   precision=result.precision, output=result.output, frame_folder=result.frame_dir,
                   seconds=result.seconds, frames=result.earlier + [asdict(r) for r in result.frames])
