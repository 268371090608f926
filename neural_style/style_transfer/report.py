"""The ``--report`` of ``stylize`` on an image: one typed record (docs/reports.md, "stylize (an image)")."""

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from ..core.device import peak_memory
from ..core.stop import StopReason
from ..io.report import Report, size_record
from ..settings import StylizeOutputs, StylizeSettings
from .gatys import StylizeResult


@dataclass
class StylizeReport(Report):
    """What a stylize run of one image did. A run interrupted before its first evaluation (while loading
    or computing targets) has ``iterations`` 0, ``stop_reason`` ``"interrupted"`` and nothing measured
    (None, empty lists).

    Attributes:
        settings: every :class:`~neural_style.settings.StylizeSettings` field, the ``content``, ``styles`` and
            ``output`` paths, and the :class:`~neural_style.settings.StylizeOutputs` fields.
        device, precision, model, weights: what ran (``"cpu"``, ``"bf16"``, ``"vgg16"``, a path or URL).
        image_sizes: ``{"output": {"width", "height"}, "styles": [{"width", "height"}, ...]}`` at the output size.
        iterations: loss evaluations, all scales together; ``best_iteration``: the one written (with a run
            without style after it, the styled run's; ``unstyled_best_iteration``: that run's, taken where
            the masks leave pixels beyond the style's reach; null without such a run).
        stop_reason: a :class:`~neural_style.core.stop.StopReason`.
        seconds, seconds_per_iteration: the optimisation loop only.
        tile_size, lbfgs_history: at the output size (0: whole image; 0 with Adam).
        scales: one dict per scale run (long_side, size and style_sizes as ``{"width", "height"}``, iterations,
            seconds, stop_reason,
            tile_size, tiles, lbfgs_history, losses, octaves).
        final_losses: the terms of the output at the output size, and ``style_octaves``: each octave's style
            loss, finest first (:func:`~neural_style.style_transfer.gatys.style_octave_losses`).
        peak_memory_bytes: peak resident set size (CUDA: peak allocated GPU memory).
        history: per evaluation: iteration, content, style, tv, total (and scale).
    """

    command = "stylize"
    settings: Dict[str, Any]
    device: Optional[str] = None
    precision: Optional[str] = None
    model: Optional[str] = None
    weights: Optional[str] = None
    image_sizes: Optional[Dict[str, Any]] = None
    iterations: int = 0
    stop_reason: StopReason = StopReason.INTERRUPTED
    best_iteration: int = 0
    unstyled_best_iteration: Optional[int] = None
    seconds: float = 0.0
    seconds_per_iteration: Optional[float] = None
    tile_size: Optional[int] = None
    lbfgs_history: Optional[int] = None
    scales: List[Dict[str, Any]] = field(default_factory=list)
    final_losses: Optional[Dict[str, float]] = None
    peak_memory_bytes: Optional[int] = None
    history: List[Dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, content, styles: List, output: Path, settings: StylizeSettings, outputs: StylizeOutputs,
           result: Optional[StylizeResult] = None) -> "StylizeReport":
        """The report of a run (``result``), or of one stopped before its first evaluation (None)."""
        given = {**asdict(settings), "content": content, "styles": styles, "output": output, **asdict(outputs)}
        if result is None:
            return cls(settings=given)
        run = result.run
        return cls(
            settings=given, device=result.device, precision=result.precision, model=result.model,
            weights=result.weights, image_sizes={"output": size_record(result.content_size),
                                                 "styles": [size_record(shape) for shape in result.style_sizes]},
            iterations=run.iterations, stop_reason=run.stop_reason, best_iteration=run.best_iteration,
            unstyled_best_iteration=result.unstyled_best_iteration,
            seconds=run.seconds, seconds_per_iteration=run.seconds / max(run.iterations, 1),
            tile_size=result.tile_size, lbfgs_history=result.lbfgs_history,
            scales=[{"long_side": sc.long_side, "size": size_record(sc.size),
                     "style_sizes": [size_record(x) for x in sc.style_sizes],
                     "iterations": sc.iterations, "seconds": sc.seconds, "stop_reason": sc.stop_reason,
                     "tile_size": sc.tile_size, "tiles": sc.tiles, "lbfgs_history": sc.lbfgs_history,
                     "losses": sc.losses, "octaves": sc.octaves} for sc in result.scales],
            final_losses=result.final_losses, peak_memory_bytes=peak_memory(result.device), history=run.history)
