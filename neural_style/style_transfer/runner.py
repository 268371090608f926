"""The ``stylize`` command as a Python function, with files.

:func:`stylize_file` checks every output location first (the image, ``OUT-NNNN.ext``
intermediates, the animation, the report), runs :func:`~neural_style.style_transfer.gatys.run_stylize`,
and writes the best image, the intermediates, the animation and the report. It returns the
result; what to say about an interruption or a non-finite loss is the caller's.
"""

import math
import os
import warnings
from pathlib import Path
from typing import Callable, List, Optional, Sequence

import numpy as np
import torch
from PIL import Image

from ..core.device import out_of_memory_errors
from ..core.files import require_file
from ..core.optimize import Step
from ..core.tensors import long_side_shape, resize_to, to_grey
from ..errors import InputError, Message, setting
from ..io.animation import ANIMATION_EXTENSIONS, check_animation_path, write_animation
from ..io.decode import IMAGE_EXTENSIONS, image_shape, is_grey, source_bit_depth
from ..io.disk import image_file_bytes, require_space
from ..io.encode import write_image
from ..io.imagedata import ImageData
from ..io.inputs import expand_folders
from ..io.locks import owned
from ..io.outputs import OUTPUT_EXTENSIONS, check_output_path
from ..io.report import write_report
from ..rules import validate
from ..settings import StylizeOutputs, StylizeSettings, with_overrides
from .gatys import StylizeResult, read_inputs, run_stylize
from .report import StylizeReport
from .scales import plan_scales

#: An animation holds at most about this many frames.
MAX_FRAMES = 100


def intermediate_path(output: Path, iteration: int) -> Path:
    """``OUT-NNNN.ext``: the image at ``iteration`` written with ``save_every``."""
    return output.with_name(f"{output.stem}-{iteration:04d}{output.suffix}")


def stylize_file(content, styles: Sequence, output, settings: Optional[StylizeSettings] = None,
                 outputs: Optional[StylizeOutputs] = None, *, callback: Optional[Callable[[Step], None]] = None,
                 download_progress: bool = True, **overrides) -> StylizeResult:
    """Stylise ``content`` with ``styles`` and write the result to ``output`` (atomically).

    Args:
        content, styles: image paths (or anything :func:`run_stylize` takes); a style folder gives
            every image in its tree (:func:`~neural_style.io.inputs.folder_files`, sorted by path),
            each a style image of its own.
        output: ``.png``, ``.jpg``/``.jpeg``, ``.tif`` or ``.webp``; never an input.
        settings: a :class:`~neural_style.settings.StylizeSettings`; ``**overrides`` change its fields.
        outputs: a :class:`~neural_style.settings.StylizeOutputs` (bit depth, intermediates,
            animation, report).
        callback: called after each evaluation with a :class:`~neural_style.core.optimize.Step`.
        download_progress: show a progress bar while downloading torchvision's VGG weights.

    Returns:
        The :class:`~neural_style.style_transfer.gatys.StylizeResult`. The image is written when an
        evaluation had a finite loss (``result.run.best_iteration > 0``), also after Ctrl-C
        (``run.stop_reason == "interrupted"``) or divergence (``"non-finite"``); the report always.

    Raises:
        InputError: a bad path or option, checked before any work; NeuralStyleError: out of memory.
    """
    settings = validate(with_overrides(settings, StylizeSettings, overrides))
    outputs = validate(outputs or StylizeOutputs())
    output, styles = Path(output), expand_folders(styles, IMAGE_EXTENSIONS, "style")
    total = sum(iterations for _, iterations in plan_scales(settings.size, settings.scales, settings.iterations))
    _check_paths(content, styles, output, settings, outputs, total)
    with owned(output, "output"):  # this run's for its life: a second run with the same output is refused
        return _stylize_file(content, styles, output, settings, outputs, total, callback, download_progress)


def _stylize_file(content, styles, output: Path, settings: StylizeSettings, outputs: StylizeOutputs, total: int,
                  callback, download_progress: bool) -> StylizeResult:
    """:func:`stylize_file` once its paths are checked and held."""
    frames: List[torch.Tensor] = []
    writer = _writer(output, total, outputs, frames, callback)
    try:
        content_data, style_data = read_inputs(content, styles, settings)  # once: nothing later needs the paths
        _say_enlarged(content_data, settings.size)
        with out_of_memory_errors(f"{setting('size')} {settings.size}"):
            result = run_stylize(content_data, style_data, settings, callback=writer,
                                 download_progress=download_progress)
    except KeyboardInterrupt:  # before the first iteration (loading, targets): no image, but the report
        if outputs.report:
            write_report(outputs.report, StylizeReport.of(content, styles, output, settings, outputs))
        raise
    _say_if_unmoved(result)
    if result.run.best_iteration:  # 0: no evaluation had a finite loss, nothing worth writing
        # whose colours come out: the content's alone with colors luminance or histogram
        colour_sources = [content_data] if settings.color_mode() != "style" else [content_data, *style_data]
        grey = all(is_grey(source) for source in colour_sources)  # grey in, grey out
        alpha, icc_profile, exif = _content_extras(content_data, tuple(result.image.shape[-2:]))
        write_image(output, to_grey(result.image) if grey else result.image, alpha=alpha, icc_profile=icc_profile,
                    exif=exif, bit_depth=output_bit_depth(outputs.bit_depth, output, [content_data, *style_data]))
        if outputs.animation:
            frames.append((result.image * 255).round().to(torch.uint8))
            write_animation(outputs.animation, [_frame(f, result.content_size) for f in frames])
    if outputs.report:
        write_report(outputs.report, StylizeReport.of(content, styles, output, settings, outputs, result),
                     kept=f"wrote {output}" if result.run.best_iteration else None)
    return result


def _say_if_unmoved(result: StylizeResult) -> None:
    """A warning when the loss never fell below its first evaluation's: the result is the image the run
    started from (all weights 0, or a learning rate that never moves it)."""
    totals = [h["total"] for h in result.run.history if isinstance(h.get("total"), float) and math.isfinite(h["total"])]
    if len(totals) > 1 and min(totals[1:]) >= totals[0]:
        warnings.warn(Message(f"the loss never fell below its first value ({totals[0]:.4g}) in {len(totals)} "
                              f"evaluations: the result is the image the run started from; check "
                              f"{setting('content_weight')}, {setting('style_weight')} and {setting('lr')}"),
                      UserWarning, stacklevel=4)


def _say_enlarged(content: ImageData, size: Optional[int]) -> None:
    """A warning when ``size`` enlarges the content (``transfer`` keeps an image's size; stylize works at
    ``size``, 512 px by default), naming the setting that keeps its size."""
    height, width = content.full_size or content.pixels.shape[:2]
    if size is not None and size > max(height, width):
        out_height, out_width = long_side_shape((height, width), size)
        warnings.warn(Message(f"the content image is {width}x{height} px: it is enlarged to {out_width}x{out_height} "
                              f"px ({setting('size')} {size}); {setting('size')} {max(height, width)} keeps its size"),
                      UserWarning, stacklevel=3)


def _content_extras(data: ImageData, shape):
    """The content's alpha (resized to ``shape``), ICC profile and EXIF, carried to the output as denoise
    and transfer carry them (None for what it lacks)."""
    alpha = None
    if data.alpha is not None:
        alpha = resize_to(torch.from_numpy(data.alpha)[None, None], shape)[0, 0].numpy()
    return alpha, data.icc_profile, data.exif


#: Output formats that hold 16 bits per sample.
SIXTEEN_BIT_EXTENSIONS = (".png", ".tif", ".tiff")


def output_bit_depth(bit_depth, output: Path, inputs) -> int:
    """8 or 16: ``bit_depth`` itself, or for ``"auto"`` 16 when every input is a 16-bit file (written
    as 8 bits, with a warning, where ``output``'s format cannot hold 16)."""
    if bit_depth != "auto":
        return int(bit_depth)
    return 16 if all(source_bit_depth(source) == 16 for source in inputs) else 8  # .jpg/.webp: 8, with a warning


def _frame(frame: torch.Tensor, size) -> np.ndarray:
    """An (H, W, 3) uint8 frame at the output size (earlier scales of a coarse-to-fine run are smaller)."""
    if tuple(frame.shape[-2:]) != tuple(size):
        frame = torch.nn.functional.interpolate(frame.float(), size=tuple(size), mode="nearest").to(torch.uint8)
    return frame[0].permute(1, 2, 0).numpy()


def _check_paths(content, styles: List, output: Path, settings: StylizeSettings, outputs: StylizeOutputs,
                 total: int) -> None:
    """Every file the run will write, before any work: none may be an input or unwritable."""
    _check_still_content(content, output)
    inputs = [p for p in [content, *styles, settings.init, settings.weights]
              if isinstance(p, (str, Path)) and p not in ("content", "random", "torchvision")]
    check_output_path(output, inputs=inputs)
    if outputs.report:
        check_output_path(outputs.report, inputs=inputs, extensions=(".json",), what="report",
                          outputs={output: "output"})
    if outputs.animation:
        check_animation_path(outputs.animation, inputs=inputs, outputs={output: "output"})
    if outputs.bit_depth == 16 and output.suffix.lower() not in SIXTEEN_BIT_EXTENSIONS:
        raise InputError(f"{setting('bit_depth')} 16 needs a .png or .tif output, got '{output}': use one of them "
                         f"or {setting('bit_depth')} 8")
    if outputs.save_every:
        for iteration in range(outputs.save_every, total, outputs.save_every):
            check_output_path(intermediate_path(output, iteration), inputs=inputs, what="intermediate output",
                              outputs={outputs.animation: "animation"} if outputs.animation else None)
    _check_space(content, output, settings, outputs, total)


def _check_still_content(content, output: Path) -> None:
    """A missing content, or one frame of an animation or video asked for as a clip (``-o out.gif`` or a
    video), is named before the output's extension is judged: a GIF output is for clips only."""
    if not isinstance(content, (str, os.PathLike)):
        return
    content = Path(content)
    require_file(content, f"content image '{content}'")
    clip_only = output.suffix.lower() in set(ANIMATION_EXTENSIONS) - set(OUTPUT_EXTENSIONS)
    if clip_only and content.suffix.lower() in ANIMATION_EXTENSIONS:
        raise InputError(f"content '{content}' holds 1 frame: there is no motion to keep coherent; stylize it "
                         f"as an image ({setting('output')} {output.with_suffix('.png').name})")


def _check_space(content, output: Path, settings: StylizeSettings, outputs: StylizeOutputs, total: int) -> None:
    """The image, the intermediates and the animation must fit on the output's disk (an upper bound)."""
    shape = _output_shape(content, settings.size)
    if shape is None:
        return  # an unreadable content: its own error comes when it is read
    images = 1 + (len(range(outputs.save_every, total, outputs.save_every)) if outputs.save_every else 0)
    frames = min(total, MAX_FRAMES) + 2 if outputs.animation else 0
    need = images * image_file_bytes(*shape) + frames * shape[0] * shape[1] * 3
    require_space(output, need, f"the output ({shape[1]}x{shape[0]} px{', with intermediates' if images > 1 else ''}"
                                f"{', and the animation' if frames else ''})", smaller=setting("size"))


def _output_shape(content, size: Optional[int]):
    """(H, W) of the output, from the content file's header (no decoding), or None when it cannot be read."""
    if isinstance(content, (str, os.PathLike)):
        shape = image_shape(content)
        if shape is None:
            return None
        height, width = shape
    elif isinstance(content, Image.Image):
        width, height = content.size
    elif isinstance(content, ImageData):
        height, width = content.pixels.shape[:2]
    elif isinstance(content, torch.Tensor) and content.dim() >= 2:
        height, width = content.shape[-2:]
    elif isinstance(content, np.ndarray) and content.ndim >= 2:
        height, width = content.shape[:2]
    else:
        return None
    return (height, width) if size is None else long_side_shape((height, width), size)


def _writer(output: Path, iterations: int, outputs: StylizeOutputs, frames: List[torch.Tensor],
            then: Optional[Callable[[Step], None]]) -> Callable[[Step], None]:
    """The step callback: progress, then ``OUT-NNNN.ext`` every ``save_every`` and animation frames."""
    frame_every = max(1, math.ceil(iterations / MAX_FRAMES))

    def callback(step: Step) -> None:
        if then is not None:
            then(step)
        every = outputs.save_every
        if every and step.iteration % every == 0 and step.iteration < step.iterations:
            write_image(intermediate_path(output, step.iteration), step.image,
                        bit_depth=16 if outputs.bit_depth == 16 else 8)
        if outputs.animation and (step.iteration % frame_every == 0 or step.iteration == 1):
            frames.append((step.image.clamp(0, 1) * 255).round().to(torch.uint8).cpu())
    return callback
