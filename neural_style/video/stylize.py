"""``stylize`` on a video or an animated image: Ruder, Dosovitskiy & Brox (2016), frame by frame.

Every frame after the first starts from the previous output frame warped by the optical flow of the
input frames (OpenCV's DIS, :mod:`.flow`), and its objective adds the short-term temporal loss

    temporal_weight * mean(c * (x - warp(prev, b))^2)

with b the backward flow from frame t to frame t-1 and c Ruder et al.'s consistency weight (0 at
disocclusions and motion boundaries, where the previous frame says nothing, and outside the frame;
1 elsewhere). With ``temporal_weight`` 0 every frame is stylised on its own from its content.

Finished frames are kept as they are done, as numbered lossless PNGs in a frame folder (``-o DIR/``:
DIR itself; else ``OUT.frames/`` beside the output, removed once the output is written). Running the
same command again continues after the last finished frame; the folder's ``run.json`` records the
settings, and a folder of another run is refused. The previous frame is always taken as written
(8 bits), so a resumed run makes the same frames as an uninterrupted one.

Reference: M. Ruder, A. Dosovitskiy and T. Brox, "Artistic style transfer for videos", GCPR 2016.
"""

import json
import math
import os
import shutil
import time
import warnings
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import torch

from .. import signals
from ..core.device import PRECISION_NAMES, require_memory, resolve_device, resolve_precision
from ..core.files import file_sha256
from ..core.objective import load_loss_network
from ..core.optimize import Step
from ..core.stop import STOPPED_EARLY, StopReason
from ..core.tensors import long_side_shape, resize_to
from ..errors import InputError, setting
from ..io.animation import Timing, check_animation_path, frame_count, held_bytes, write_animation
from ..io.atomic import atomic_write
from ..io.clips import ClipSource, open_clip
from ..io.decode import IMAGE_EXTENSIONS, to_tensor
from ..io.disk import image_file_bytes, nearest_existing, require_space
from ..io.encode import write_image
from ..io.inputs import expand_folders
from ..io.locks import owned
from ..io.outputs import check_output_path
from ..io.report import write_report
from ..io.video import VIDEO_EXTENSIONS
from ..rules import validate
from ..settings import VIDEO_ITERATIONS, StylizeSettings, VideoSettings
from ..style_transfer.gatys import run_stylize
from ..style_transfer.guides import read_guides
from .flow import consistency_mask, optical_flow, warp
from .records import RECORDS_FILE, RUN_FILE, earlier_records, frame_path, read_frame, resume_point  # noqa: F401
from .records import run_info as run_info_of
from .report import ClipReport

#: Animated image formats read as clips (a multi-page TIFF is pages, not a clip).
ANIMATED_EXTENSIONS = (".gif", ".webp", ".png")
#: the clip's timing in a frame folder, for encoding the frames (:func:`timing_record`)
TIMING_FILE = "timing.json"


def is_clip(path) -> bool:
    """Whether ``path`` is stylised as a clip: a video container, or a GIF/WebP/APNG of several frames."""
    if not isinstance(path, (str, os.PathLike)):
        return False
    suffix = Path(path).suffix.lower()
    return suffix in VIDEO_EXTENSIONS or (suffix in ANIMATED_EXTENSIONS and frame_count(path) > 1)


def read_clip(path, video: Optional[VideoSettings] = None) -> ClipSource:
    """A video or animated image as a clip read one frame at a time (a video: the part ``video`` asks for).

    Raises:
        InputError: unreadable (every frame is decoded once, none kept), frames of different sizes, fewer
        than 2 frames (one frame is an image: stylize it as one), or a part asked of an animated image.
    """
    path, v = Path(path), video or VideoSettings()
    clip = open_clip(path, v.start, v.duration, v.frames).verified()  # found bad before any work, not after
    if len(clip) < 2:
        raise InputError(f"'{path}' holds {len(clip)} frame: there is no motion to keep coherent; stylize "
                         "it as an image (write the frame to a .png first)")
    return clip


@dataclass
class FrameRecord:
    """One stylised frame: its index, loss evaluations, seconds (flow included), how it stopped, the
    losses of the kept image (``extra`` is the temporal term), the share of pixels the temporal
    term weighs (c = 1), and the long side of each scale it was run at (one by default: a frame starts
    from the previous one)."""

    index: int
    iterations: int
    seconds: float
    stop_reason: str
    losses: Dict[str, float] = field(default_factory=dict)
    consistent: float = 0.0
    scales: List[int] = field(default_factory=list)


@dataclass
class VideoResult:
    """What :func:`stylize_clip` did: per-frame records (those made in this run), how many frames the
    clip has, how many were already finished in the frame folder, the files written, why it stopped
    (``"completed"``, ``"interrupted"``, ``"non-finite"``), and the device and precision used."""

    frames: List[FrameRecord]
    total: int
    resumed: int
    frame_dir: Path
    output: Optional[Path]
    stop_reason: StopReason = StopReason.COMPLETED
    device: str = "cpu"
    precision: str = "fp32"
    seconds: float = 0.0
    #: the records of the frames finished by earlier runs (from the frame folder's frames.json)
    earlier: List[dict] = field(default_factory=list)

    @property
    def finished(self) -> int:
        """Frames finished, this run's and earlier ones'."""
        return self.resumed + sum(r.stop_reason not in STOPPED_EARLY for r in self.frames)


def stylize_clip(content, styles: Sequence, output, settings: Optional[StylizeSettings] = None,
                 video: Optional[VideoSettings] = None, *, report=None,
                 on_step: Optional[Callable[[int, int, Step], None]] = None,
                 on_frame: Optional[Callable[[int, int, FrameRecord], None]] = None) -> VideoResult:
    """Stylise every frame of ``content`` (a video or animated image) and write the clip.

    Args:
        content: the clip (:func:`is_clip`).
        styles: style image paths (or anything :func:`~neural_style.style_transfer.gatys.run_stylize` takes).
        output: a video (.mp4, .mov, .mkv, .avi, .webm) or animation (.gif, .webp, .png) written with the
            input's timing (and a video input's audio track), or a folder (a ``str`` ending in a
            separator, or an existing folder) of numbered PNG frames.
        settings: a :class:`~neural_style.settings.StylizeSettings` (``size``: each frame's long side).
        video: a :class:`~neural_style.settings.VideoSettings`.
        report: write what the run did there (JSON).
        on_step: called as ``on_step(frame index, frame count, step)`` after each loss evaluation.
        on_frame: called as ``on_frame(frame index, frame count, record)`` when a frame is done.

    Returns:
        A :class:`VideoResult`; after Ctrl-C/SIGTERM or a non-finite loss the finished frames are kept
        (in the frame folder, and as a playable output of them), ``stop_reason`` says why.

    Raises:
        InputError: a bad clip, output, option, or a frame folder of another run, before any work.
    """
    s, v = validate(settings or StylizeSettings()), validate(video or VideoSettings())
    styles = expand_folders(styles, IMAGE_EXTENSIONS, "style")
    output_file, frame_dir = plan_output(output, content, styles)
    with ExitStack() as held:  # this run's for its life: a second run with either is refused
        held.enter_context(owned(frame_dir, "frame folder", folder=True))
        if output_file is not None:
            held.enter_context(owned(output_file, "output"))
        return _stylize_clip(content, styles, s, v, output_file, frame_dir, report, on_step, on_frame)


def _stylize_clip(content, styles, s: StylizeSettings, v: VideoSettings, output_file: Optional[Path], frame_dir: Path,
                  report, on_step, on_frame) -> VideoResult:
    """:func:`stylize_clip` once its paths are checked and held."""
    clip = read_clip(content, v)
    if clip.audio and (output_file is None or output_file.suffix.lower() not in VIDEO_EXTENSIONS):
        held = "numbered frames" if output_file is None else f"'{output_file}'"
        warnings.warn(f"'{content}' has an audio track, which {held} cannot hold (write a video to keep it)",
                      UserWarning, stacklevel=2)
    style_images = _read_styles(styles, s)
    shape = clip.shape if s.size is None else long_side_shape(clip.shape, s.size)
    guides = read_guides(s.style_masks, s.style_image_masks, clip.shape,  # as the user knows them
                         [tuple(t.shape[-2:]) for t in style_images])
    s = replace(s, style_masks=guides.content, style_image_masks=guides.styles)  # read once, for every frame
    run_info = run_info_of(file_sha256(clip.path), len(clip), shape, style_images, s, v)
    done = resume_point(frame_dir, run_info)
    need = (len(clip) - done) * image_file_bytes(*shape) + (len(clip) * shape[0] * shape[1] * 3 if output_file else 0)
    if output_file is not None:
        require_memory(held_bytes(output_file, len(clip), shape), torch.device("cpu"),
                       f"writing {len(clip)} frames of {shape[1]}x{shape[0]} px to '{output_file.name}'",
                       f"write a video (.mp4) instead, or use a smaller {setting('size')}")
    require_space(frame_dir, need, f"the frames ({len(clip) - done} of {shape[1]}x{shape[0]} px) and the output",
                  smaller=setting("size"))
    dev = s.device if isinstance(s.device, torch.device) else resolve_device(s.device)
    autocast = resolve_precision(s.precision, dev)
    network = load_loss_network(s.content_layers, s.style_layers, weights=s.weights, model=s.model,
                                weights_format=s.weights_format, pooling=s.pooling, device=dev, autocast=autocast)
    frame_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(frame_dir / RUN_FILE, lambda p: p.write_text(json.dumps(run_info, indent=2)))
    atomic_write(frame_dir / TIMING_FILE, lambda p: p.write_text(json.dumps(timing_record(clip.timing), indent=1)))
    result = VideoResult([], len(clip), done, frame_dir, output_file, device=str(dev),
                         precision=PRECISION_NAMES[autocast])
    result.earlier = earlier_records(frame_dir, done)
    state = _State(len(clip), read_frame(frame_dir, done - 1) if done else None)
    started = time.perf_counter()
    try:
        for index, frame in enumerate(_resized(frame, shape) for frame in clip.frames()):  # one frame at a time
            state.before, state.now = state.now, frame
            if index >= done and not _next_frame(index, state, result, style_images, s, v, network, on_step,
                                                 on_frame):
                break
    except KeyboardInterrupt:  # while the next frame was decoded (a frame's own run is _next_frame's)
        result.stop_reason = StopReason.INTERRUPTED
    _finish(result, clip, frame_dir, output_file, time.perf_counter() - started)
    if report:
        write_report(report, ClipReport.of(content, styles, s, v, result, shape))
    return result


def _next_frame(index: int, state: "_State", result: VideoResult, styles, s, v, network, on_step, on_frame) -> bool:
    """Stylise and write frame ``index``; False when the run stops there (Ctrl-C/SIGTERM, even while the
    frame is written: the atomic write finishes first; or a non-finite loss)."""
    recorded = len(result.frames)
    try:
        record, image = _stylize_frame(index, state, styles, s, v, network, on_step)
        if record.stop_reason in STOPPED_EARLY:
            result.frames.append(record)
            result.stop_reason = record.stop_reason
            return False
        write_image(frame_path(result.frame_dir, index), image)
        result.frames.append(record)
        _save_records(result)
        state.previous = (image * 255).round().to(torch.uint8)  # as written: a resumed run continues the same
        if on_frame:
            on_frame(index, state.total, record)
        return True
    except KeyboardInterrupt:
        if len(result.frames) == recorded:  # stopped before the frame was recorded: named as interrupted
            result.frames.append(FrameRecord(index, 0, 0.0, StopReason.INTERRUPTED))
        result.stop_reason = StopReason.INTERRUPTED
        return False


def plan_output(output, content, styles: Sequence):
    """(output file or None, frame folder), checked before any work (see :func:`stylize_clip`)."""
    text = str(output)
    inputs = [p for p in [content, *styles] if isinstance(p, (str, os.PathLike))]
    if text.endswith(("/", os.sep)) or Path(text).is_dir():
        folder = Path(text)
        if folder.exists() and not folder.is_dir():
            raise InputError(f"output folder '{text}' is a file: choose a folder for the frames, or a video file")
        if any(Path(p).resolve() == folder.resolve() for p in inputs):
            raise InputError(f"output folder '{folder}' is an input: choose another folder")
        parent = nearest_existing(folder.absolute())
        if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
            raise InputError(f"cannot write the frames to '{text}': '{parent}' is not a writable folder: choose "
                             "another output folder")
        return None, folder
    path = check_animation_path(Path(text), inputs=inputs, what="output")
    folder = path.with_name(path.name + ".frames")
    check_output_path(frame_path(folder, 0), inputs=inputs, what="frame")  # its name too, before any work
    return path, folder


def timing_record(timing: Timing) -> dict:
    """How the clip plays, as a frame folder's ``timing.json`` holds it: ``frame_rate`` (frames per
    second over the clip's length), ``durations_ms`` (each frame's), ``timestamps`` (each frame's start
    in seconds) and ``loop`` (an animation's loop count as GIF counts it: 0 forever, None once)."""
    return {"frame_rate": timing.frame_rate, "durations_ms": list(timing.durations),
            "timestamps": [round(t, 6) for t in timing.times], "loop": timing.loop}


@dataclass
class _State:
    """The run's frame count, the previous output as written (uint8), and the frame being stylised and the
    one before it (H, W, 3) uint8 at the working size."""

    total: int
    previous: Optional[torch.Tensor]
    now: Optional[np.ndarray] = None
    before: Optional[np.ndarray] = None


def _stylize_frame(index: int, state: _State, styles, s: StylizeSettings, v: VideoSettings, network, on_step):
    """(record, image (1, 3, H, W) float in [0, 1]) of frame ``index``."""
    timer = time.perf_counter()
    content = torch.from_numpy(state.now).permute(2, 0, 1)[None].float() / 255
    start = extra = None
    consistent = 0.0
    if index and v.temporal_weight > 0 and state.previous is not None:
        start, target, weight = _temporal_target(index, state, content)
        consistent = float(weight.mean())
        extra = _temporal_loss(target, weight, v.temporal_weight)
    iterations = (v.first_frame_iterations or s.iterations) if index == 0 else (s.iterations or VIDEO_ITERATIONS)
    settings = replace(s, size=max(content.shape[-2:]), iterations=iterations,  # frames are at the working size
                       scales="none" if s.scales is None else s.scales)  # each frame starts near the last: one scale
    step = (lambda st: on_step(index, state.total, st)) if on_step else None
    result = run_stylize(content, styles, settings, network=network, start=start, extra_loss=extra, callback=step,
                         download_progress=False)
    run = result.run
    best = run.history[run.best_iteration - 1] if run.best_iteration else {}
    reason = run.stop_reason if run.stop_reason in STOPPED_EARLY else StopReason.COMPLETED
    record = FrameRecord(index, run.iterations, time.perf_counter() - timer, reason,
                         {k: val for k, val in best.items() if k != "iteration"}, consistent,
                         [sc.long_side for sc in result.scales])
    return record, result.image.clamp(0, 1)


def _temporal_target(index: int, state: _State, content: torch.Tensor):
    """(start, warped previous output, per-pixel weight c) for frame ``index`` (Ruder et al.)."""
    now, before = state.now, state.before
    backward = optical_flow(now, before)  # frame t -> t-1: warp(prev, backward) predicts frame t
    forward = optical_flow(before, now)
    warped, inside = warp(state.previous.float() / 255, backward)
    weight = consistency_mask(forward, backward) * inside
    start = warped * inside + content * (1 - inside)  # outside the previous frame: the content
    return start, warped, weight


def _temporal_loss(target: torch.Tensor, weight: torch.Tensor, temporal_weight: float):
    """``x -> temporal_weight * mean(c * (x - target)^2)`` over pixels and channels."""
    def loss(x: torch.Tensor) -> torch.Tensor:
        return temporal_weight * (weight.to(x.device) * (x - target.to(x.device)).square()).mean()
    return loss


def _resized(frame: np.ndarray, shape) -> np.ndarray:
    if tuple(frame.shape[:2]) == tuple(shape):
        return frame
    tensor = torch.from_numpy(frame).permute(2, 0, 1)[None].float() / 255
    return (resize_to(tensor, tuple(shape)).clamp(0, 1)[0].permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()


def _finish(result: VideoResult, clip: ClipSource, frame_dir: Path, output: Optional[Path], seconds: float) -> None:
    """Write the output of the finished frames (all of them, or those before a stop: a playable file), read
    back one at a time, and remove the frame folder once a file output holds every frame. Signals wait
    until the output is written: the frames are made, this keeps them."""
    result.seconds = seconds
    count = result.finished
    if output is None or count == 0:
        return
    frames = (read_frame(frame_dir, i)[0].permute(1, 2, 0).numpy() for i in range(count))
    with signals.deferred():
        write_animation(output, frames, timing=clip.timing.head(count), audio_from=clip.path if clip.audio else None,
                        audio_start=clip.start)
    if count == result.total:
        shutil.rmtree(frame_dir, ignore_errors=True)


def _save_records(result: VideoResult) -> None:
    """Every finished frame's record, earlier runs' too, into the frame folder (for a resumed run's report)."""
    done = result.earlier + [asdict(r) for r in result.frames if r.stop_reason == StopReason.COMPLETED]
    atomic_write(result.frame_dir / RECORDS_FILE, lambda p: p.write_text(json.dumps(done, indent=1)))


def _read_styles(styles: Sequence, s: StylizeSettings) -> List[torch.Tensor]:
    """The style images as tensors, read once, before anything is written (a bad path is one line and
    leaves nothing behind); each frame's run takes them as they are."""
    if s.size is None:
        return [to_tensor(style, what="style image") for style in styles]
    return [to_tensor(style, what="style image", reduce_to=math.ceil(s.size * s.style_scale)) for style in styles]
