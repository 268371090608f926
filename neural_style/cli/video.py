"""``neural-style stylize`` on a clip: per-frame progress, then one line for the clip."""

import sys

from .. import signals
from .app import echo, flag
from .output import progress_bar


def stylize_video(content, styles, output, settings, video, report, quiet, **still_only):
    """Stylise the clip ``content`` (settings parsed by :func:`neural_style.cli.stylize.stylize`)."""
    from ..core.stop import StopReason
    from ..errors import InputError, NeuralStyleError
    from ..io.progress import format_duration
    from ..video.stylize import TIMING_FILE, stylize_clip

    given = [flag(k) for k, v in still_only.items() if v not in (None, 0, "auto")]
    if given:
        raise InputError(f"{', '.join(given)} applies to an image content, not a clip: leave it out (-o DIR/ "
                         "keeps every finished frame as a PNG)")
    bar = progress_bar(quiet=quiet)
    times, current = [], [None]

    def on_step(index, count, step):
        if current[0] != index:  # each frame's speed and ETA from its own start; the clip's from its frames
            current[0] = index
            clip = (f" ({len(times) / sum(times):.2f} frames/s, clip ETA "
                    f"{format_duration(sum(times) / len(times) * (count - index))})") if times else ""
            bar.restart(step.iterations, f"frame {index + 1}/{count}{clip}: ")
        bar.update(step.iteration, {k: step.losses[k] for k in ("content", "style", "extra") if k in step.losses})

    def on_frame(index, count, record):
        times.append(record.seconds)

    try:
        result = stylize_clip(content, list(styles), output, settings, video, report=report, on_step=on_step,
                              on_frame=on_frame)
    finally:
        bar.close()
    where = result.output or result.frame_dir
    if result.stop_reason == StopReason.INTERRUPTED:
        kept = (f"wrote {_finished_frames(result.finished)} to {where}; " if result.finished else "")
        echo(f"{signals.stop_word()} at frame {result.finished + 1}/{result.total}: {kept}run the same command "
             f"again to continue (frames kept in {result.frame_dir})")
        sys.exit(signals.exit_code())
    if result.stop_reason == StopReason.NON_FINITE:
        raise NeuralStyleError(f"the loss became non-finite at frame {result.finished + 1}/{result.total} (try a "
                               f"lower --lr, --style-weight or --temporal-weight): wrote "
                               f"{_finished_frames(result.finished)} to {where}")
    if not quiet:
        made = [r for r in result.frames if r.index > 0]
        later = f", {sum(r.seconds for r in made) / len(made):.1f} s per frame after the first" if made else ""
        resumed = f"; continued after frame {result.resumed}" if result.resumed else ""
        timing = "" if result.output else f"; their timing: {result.frame_dir / TIMING_FILE}"
        echo(f"wrote {where} ({result.total} frames in {result.seconds:.1f} s on {result.device}{later}{resumed}"
             f"{timing})")


def _finished_frames(count: int) -> str:
    """'the 1 finished frame', 'the 3 finished frames'."""
    return f"the {count} finished frame{'' if count == 1 else 's'}"
