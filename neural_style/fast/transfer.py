"""Applying a trained fast style network to images, folders, GIFs and videos."""

import functools
import warnings
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch

from ..core.color import transfer_luminance
from ..core.device import require_memory, resolve_precision
from ..core.tensors import long_side_shape, resize_long_side, resize_to, to_grey
from ..errors import setting
from ..io.animation import (
    ANIMATION_EXTENSIONS,
    TIFF_EXTENSIONS,
    frame_count,
    held_bytes,
    read_pages,
    write_animation,
    write_pages,
)
from ..io.clips import ClipSource, open_clip
from ..io.decode import read_image, source_bit_depth, to_tensor
from ..io.encode import write_image
from ..io.imagedata import open_image
from ..io.inputs import plan_batch
from ..io.outputs import OUTPUT_EXTENSIONS
from ..io.video import VIDEO_EXTENSIONS, check_part_of
from .transformer import TransformerNet

#: Image files that may hold several frames or pages: GIF, animated WebP, APNG, multi-page TIFF.
MULTI_FRAME_EXTENSIONS = (".gif", ".webp", ".png", ".tif", ".tiff")
#: What an image input may be written as: any still format, or an animation.
IMAGE_OUTPUTS = tuple(dict.fromkeys(OUTPUT_EXTENSIONS + ANIMATION_EXTENSIONS))
#: What a video input may be written as: a video or an animated image.
VIDEO_OUTPUTS = ANIMATION_EXTENSIONS


@torch.no_grad()
def apply_model(model: TransformerNet, images: torch.Tensor, *, size: Optional[int] = None,
                original_colors: bool = False, precision: str = "auto") -> torch.Tensor:
    """Stylise a (B, 3, H, W) batch in [0, 1]; ``size`` resizes the long side first.

    ``original_colors`` keeps the input's colours (luminance transfer); ``precision``: as for
    stylize (``auto``: bf16 autocast where the CPU has native bf16)."""
    device = next(model.parameters()).device
    dtype = resolve_precision(precision, device)
    shape = tuple(images.shape[-2:]) if size is None else long_side_shape(tuple(images.shape[-2:]), size)
    require_memory(model.inference_bytes(images.shape[0], *shape), device,
                   f"{shape[1]}x{shape[0]} px" + (f" ({images.shape[0]} frames)" if images.shape[0] > 1 else ""),
                   f"use a smaller {setting('size')}" + (f" or {setting('batch_size')}" if images.shape[0] > 1 else ""))
    x = images if size is None else resize_long_side(images, size)
    with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
        y = model(x.to(device)).float().cpu()
    return transfer_luminance(y, x) if original_colors else y


def plan_transfer(inputs: Sequence[Path], output, protected: Sequence = ()) -> List[Tuple[Path, Path]]:
    """(input, output) pairs: files and folders (their images and videos) as every batch command takes
    them (:func:`neural_style.io.inputs.plan_batch`); an image may become any image format or an
    animation (a GIF a WebP, a multi-page TIFF a GIF...), a video a video or an animation; no output may be
    one of ``protected`` (the model file)."""
    return plan_batch(inputs, output, tuple(dict.fromkeys(IMAGE_OUTPUTS + VIDEO_OUTPUTS)),
                      lambda src: VIDEO_OUTPUTS if src.suffix.lower() in VIDEO_EXTENSIONS else IMAGE_OUTPUTS,
                      protected=protected)


def transfer_file(model, src: Path, dst: Path, *, size=None, original_colors=False, batch_size=4,
                  on_frame: Optional[Callable[[int, int], None]] = None, precision: str = "auto",
                  part: Tuple[float, Optional[float], Optional[int]] = (0.0, None, None)) -> int:
    """Stylise one image or video file; returns the number of frames written.

    Every frame of an animation (GIF, animated WebP, APNG) is kept, with its timing, in an
    animation output; every page of a multi-page file in a TIFF output (its 16 bits kept); a still
    output of a file with several frames holds the first, which a warning says. ``precision``: as for
    :func:`apply_model`; ``part``: (start s, duration s or None, frames or None) of a video input
    (:func:`~neural_style.io.video.clip_part`)."""
    model = functools.partial(apply_model, model, precision=precision)  # the network, as every frame meets it
    target = dst.suffix.lower()
    if src.suffix.lower() in VIDEO_EXTENSIONS:
        return _transfer_video(model, src, dst, size, original_colors, batch_size, on_frame, part)
    check_part_of(src, *part)
    frames = frame_count(src) if src.suffix.lower() in MULTI_FRAME_EXTENSIONS else 1
    if target in (".gif", ".mp4") or (frames > 1 and target in ANIMATION_EXTENSIONS):
        return _transfer_animated(model, src, dst, size, original_colors, batch_size, on_frame)
    if frames > 1 and target in TIFF_EXTENSIONS:
        return _transfer_pages(model, src, dst, size, original_colors, on_frame)
    if frames > 1:
        warnings.warn(f"'{src}' has {frames} frames but '{dst}' holds one: only the first is stylised "
                      "(write to .gif, .webp, .png, .tif or a video for all)", UserWarning,
                      stacklevel=2)
    with warnings.catch_warnings():  # said above, with what to do
        warnings.filterwarnings("ignore", message=".* frames: only the first is used")
        data = read_image(src, what="input image", reduce_to=size)
    y = model(to_tensor(data, channels=3, reduce_to=size), size=size, original_colors=original_colors)
    same_size = size is None  # the resolution belongs to the input's pixels; alpha is resized with them
    grey = original_colors and data.pixels.shape[2] == 1  # its own colours: grey stays grey
    alpha = data.alpha
    if alpha is not None and not same_size:
        alpha = resize_to(torch.from_numpy(alpha)[None, None], tuple(y.shape[-2:]))[0, 0].clamp(0, 1).numpy()
    write_image(dst, to_grey(y) if grey else y, alpha=alpha,
                icc_profile=data.icc_profile, exif=data.exif, dpi=data.dpi if same_size else None,
                bit_depth=data.bit_depth)  # 16-bit stays 16-bit (or a warning says the format cannot hold it)
    if on_frame:
        on_frame(1, 1)
    return 1


def _transfer_pages(model, src, dst, size, original_colors, on_frame) -> int:
    """Each page of a multi-page file (pages may differ in size) into a multi-page TIFF (RGB pages,
    without alpha or frame durations, which a warning says)."""
    pages, bit_depth = read_pages(src)
    _say_what_is_dropped(src, dst, "RGB pages", bits=False, durations=True)
    out = []
    for page in pages:
        x = torch.from_numpy(page).permute(2, 0, 1)[None].contiguous()
        y = model(x, size=size, original_colors=original_colors)
        out.append(y[0].permute(1, 2, 0).numpy())
        if on_frame:
            on_frame(len(out), len(pages))
    write_pages(dst, out, bit_depth)
    return len(out)


def _say_what_is_dropped(src: Path, dst: Path, written_as: str, *, bits: bool, durations: bool) -> None:
    """One warning for what ``src`` holds and ``dst`` is written without: alpha; with ``bits``, 16 bits
    per sample (animations are 8-bit frames; TIFF pages keep them); with ``durations``, a
    non-TIFF's frame durations (TIFF pages have none)."""
    lost = []
    try:
        with open_image(src) as image:
            if "A" in image.getbands() or "transparency" in image.info:
                lost.append("the alpha channel")
            if durations and src.suffix.lower() not in TIFF_EXTENSIONS and image.info.get("duration"):
                lost.append("the frame durations")
    except Exception:  # unreadable by Pillow: reading it says why (tifffile reads what Pillow cannot)
        return
    if bits and source_bit_depth(src) == 16:
        lost.append("16 bits per sample")
    if lost:
        keeps = f" (a still .png or .tif keeps {'them' if len(lost) > 1 else 'it'})" if bits else ""
        warnings.warn(f"'{dst}' is written as {written_as}, without {' or '.join(lost)} of '{src}'{keeps}",
                      UserWarning, stacklevel=3)


def _transfer_animated(model, src, dst, size, original_colors, batch_size, on_frame) -> int:
    """A GIF, animated WebP or APNG: every frame, with its duration and the file's loop count."""
    clip = open_clip(src)
    _say_what_is_dropped(src, dst, "8-bit RGB frames", bits=True, durations=False)
    return _write_clip(model, clip, dst, size, original_colors, batch_size, on_frame)


def _transfer_video(model, src, dst, size, original_colors, batch_size, on_frame, part) -> int:
    """A video (the part asked): every frame, each at its time; into a video the audio track comes along
    (:func:`~neural_style.io.video.write_video`), into an animated image the frame durations."""
    clip = open_clip(src, *part)
    if clip.audio and dst.suffix.lower() not in VIDEO_EXTENSIONS:
        warnings.warn(f"'{src}' has an audio track ({clip.audio}), which '{dst}' cannot hold (write a video "
                      "to keep it)", UserWarning, stacklevel=3)
    return _write_clip(model, clip, dst, size, original_colors, batch_size, on_frame)


def _write_clip(model, clip: ClipSource, dst: Path, size, original_colors, batch_size, on_frame) -> int:
    """The clip's frames through the network a batch at a time, each written as it comes (memory holds a
    batch, not the clip); the number of frames written."""
    shape = clip.shape if size is None else long_side_shape(clip.shape, size)
    require_memory(held_bytes(dst, len(clip), shape), torch.device("cpu"),
                   f"writing {len(clip)} frames of {shape[1]}x{shape[0]} px to '{dst.name}'",
                   f"write a video (.mp4) instead, or use a smaller {setting('size')}")
    done = []
    frames = _stylise_frames(model, clip.frames(), len(clip), size, original_colors, batch_size, on_frame, done)
    write_animation(dst, frames, timing=clip.timing, audio_from=clip.path if clip.audio else None,
                    audio_start=clip.start)
    return len(done)


def _stylise_frames(model, frames: Iterator[np.ndarray], total: int, size, original_colors, batch_size, on_frame,
                    done: list) -> Iterator[np.ndarray]:
    """(H, W, 3) uint8 frames through the network in batches: (H', W', 3) uint8 frames, as they are made
    (each counted into ``done``)."""
    for chunk in _batches(frames, batch_size):
        x = torch.from_numpy(np.stack(chunk)[..., :3].astype(np.float32) / 255).permute(0, 3, 1, 2).contiguous()
        for y in model(x, size=size, original_colors=original_colors):
            done.append(1)
            yield (y.permute(1, 2, 0).clamp(0, 1) * 255).round().to(torch.uint8).numpy()
        if on_frame:
            on_frame(len(done), total)


def _batches(items: Iterator, size: int) -> Iterator[list]:
    """Lists of ``size`` consecutive items (the last one shorter)."""
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
