"""``neural-style stylize``: Gatys et al. on an image, or frame by frame on a clip (Ruder et al.)."""

import sys
from pathlib import Path

import click

from .. import signals
from ..settings import (
    DEFAULT_LR,
    MIN_SIZE,
    SCALE_ITERATIONS,
    STYLIZE_ITERATIONS,
    VIDEO_ITERATIONS,
    StylizeOutputs,
    StylizeSettings,
    VideoSettings,
)
from . import options as opt
from .app import cli, echo
from .output import progress_bar

STYLIZE, STYLIZE_OUT, VIDEO = StylizeSettings, StylizeOutputs, VideoSettings
_FIRST, _MIDDLE, _LAST = SCALE_ITERATIONS


@cli.command()
@click.argument("content", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("styles", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=str),
              help="Output image (.png, .jpg, .tif, .webp); for a video or animated CONTENT a video (.mp4, .mov, "
              ".mkv, .avi, .webm), an animation (.gif, .webp, .png) or DIR/ for numbered PNG frames.")
@opt.setting(STYLIZE_OUT, "--bit-depth", "Bits per sample of the output (16: .png or .tif); auto: 16 when the "
             "content and every style image are 16-bit and the format holds it, else 8.")
@opt.setting(STYLIZE, "--size", f"Long side of the output in pixels (>= {MIN_SIZE}; the content's short side must "
             f"also reach {MIN_SIZE} px, the deepest layer's minimum; smaller style images are enlarged to it).")
@opt.setting(STYLIZE, "--iterations", "Loss evaluations: one number (each scale) or one per scale "
             f"[{STYLIZE_ITERATIONS}; over several scales {_FIRST}, {_MIDDLE}, ..., {_LAST}].", metavar="N[,N...]")
@opt.setting(STYLIZE, "--scales", "Coarse to fine: auto (256 px up to --size by sqrt 2, "
             "each scale holding the coarser octaves), none, or long sides [auto for an image, none for a clip's "
             "frames].",
             metavar="auto|none|S1,S2,...", listed=True)
@opt.setting(STYLIZE, "--optimizer")
@opt.setting(STYLIZE, "--lr", "Learning rate [" + ", ".join(f"{k}: {v:g}" for k, v in DEFAULT_LR.items()) + "].")
@opt.setting(STYLIZE, "--content-weight")
@opt.setting(STYLIZE, "--style-weight")
@opt.setting(STYLIZE, "--tv-weight", "Weight of the total variation term (0 disables it).")
@opt.setting(STYLIZE, "--tv-beta", "Order of the total variation: 2 smooth, 1 edge-preserving.")
@opt.layers(STYLIZE, "--content-layers", "Content")
@opt.layers(STYLIZE, "--style-layers", "Style")
@opt.setting(STYLIZE, "--style-blend-weights", "Relative weight of each style image [equal].", metavar="W,W,...")
@opt.setting(STYLIZE, "--style-scale", "Size of the style images relative to --size.")
@opt.setting(STYLIZE, "--init", "Starting image.", metavar="content|random|PATH")
@opt.setting(STYLIZE, "--original-colors", "Keep the content's colours: --colors luminance.", is_flag=True)
@opt.setting(STYLIZE, "--colors", "Whose colours come out: style (the style images'), luminance (the content's "
             "colours, the result's luminance), luminance-only (the content's colours: only the luminance is "
             "stylised, with the styles' luminance) or histogram (each style recoloured to the content's colour "
             "mean and covariance before the run).")
@opt.setting(STYLIZE, "--model", "Loss network [vgg19, or what --weights holds].")
@opt.setting(STYLIZE, "--weights", "VGG weights: torchvision's ImageNet weights (downloaded once) or a state "
             "dict [$NEURAL_STYLE_WEIGHTS, else torchvision].", metavar="torchvision|PATH")
@opt.setting(STYLIZE, "--weights-format", "caffe: weights expecting BGR 0..255 mean-subtracted input.")
@opt.setting(STYLIZE, "--pooling")
@opt.setting(STYLIZE, "--seed", "Seed of --init random.")
@opt.device
@opt.setting(STYLIZE, "--precision", "Network precision; auto: bf16 on CPUs that have it natively, else fp32.")
@opt.setting(STYLIZE, "--tile-size", "Evaluate exactly, tile by tile, with N px tiles: memory follows the tile. "
             "auto: only when the whole image would not fit; 0: never.", metavar="N|auto")
@opt.setting(STYLIZE, "--lbfgs-history", "L-BFGS correction pairs; auto: up to 100, as memory allows.",
             metavar="N|auto")
@opt.setting(STYLIZE, "--bounds", "How pixels stay in [0, 1] while optimised: project (each evaluation sees the "
             "image as written), sigmoid, penalty, or clamp-result (jcjohnson's: unconstrained, the result clamped).")
@opt.setting(STYLIZE, "--style-octaves", "Match the style over N (1 to 8) octaves of the output (each half the size, the "
             "style images halved too): the style's large structure as well as its fine texture; coarse to fine "
             "holds at least the octaves down to its first scale.", metavar="N")
@opt.setting(STYLIZE, "--style-masks", "One mask per style image, in the content's frame (white: that style, "
             "grey: partly, black: not; black for every style keeps the content).", metavar="M1,M2,...")
@opt.setting(STYLIZE, "--style-image-masks", "One mask per style image, in that image's frame: only its white "
             "part gives the style (an empty entry: the whole image).", metavar="M1,M2,...")
@opt.setting(STYLIZE_OUT, "--save-every", "Also write OUT-NNNN.ext every N iterations.", metavar="N")
@opt.setting(STYLIZE_OUT, "--animation", "Write the optimisation as an animation (.gif, or .mp4 with "
             "neural-style[video]).", type=click.Path(dir_okay=False, path_type=Path))
@opt.setting(VIDEO, "--temporal-weight", "Video: weight of the temporal loss tying each frame to the previous "
             "one warped by the optical flow (0: every frame on its own). Not train's --temporal-weight, a "
             "stability term of the network.")
@opt.setting(VIDEO, "--first-frame-iterations", "Video: loss evaluations of the first frame [--iterations, else "
             f"{STYLIZE_ITERATIONS}]; later frames take --iterations [{VIDEO_ITERATIONS}].")
@opt.setting(VIDEO, "--start", "Video: stylise from this time on (seconds, MM:SS or HH:MM:SS); its audio comes "
             "along.", metavar="TIME")
@opt.setting(VIDEO, "--duration", "Video: stylise this long (seconds, MM:SS or HH:MM:SS) [to the end].", metavar="TIME")
@opt.setting(VIDEO, "--frames", "Video: stylise at most N frames [all].", metavar="N")
@opt.report
@opt.quiet
def stylize(content, styles, output, bit_depth, save_every, animation, report, quiet, temporal_weight,
            first_frame_iterations, **options):
    """Optimise an image to match CONTENT's features and the STYLE images' Gram statistics
    (Gatys et al.). A STYLE folder gives every image in it (and its subfolders), in name order.
    A video or animated CONTENT is stylised frame by frame, each frame tied to the previous one
    (Ruder et al.); running the same command again continues an interrupted clip."""
    from ..io.video import check_part_of
    from ..style_transfer.runner import stylize_file
    from ..video.stylize import is_clip
    from .peers import split_style_list

    styles = split_style_list(styles, lambda p: Path(p).exists())  # jcjohnson's a.jpg,b.jpg
    from .video import stylize_video

    part = {name: options.pop(name) for name in ("start", "duration", "frames")}
    if options["init"] not in ("content", "random"):
        options["init"] = Path(options["init"])
    options["style_masks"] = _paths(options["style_masks"])
    options["style_image_masks"] = _paths(options["style_image_masks"])
    settings = StylizeSettings(**options)
    if is_clip(content):
        video = VideoSettings(temporal_weight=temporal_weight, first_frame_iterations=first_frame_iterations, **part)
        return stylize_video(content, styles, output, settings, video, report, quiet,
                             bit_depth=bit_depth, save_every=save_every, animation=animation)
    check_part_of(content, **part)
    output = Path(output)
    outputs = StylizeOutputs(bit_depth=bit_depth, save_every=save_every, animation=animation, report=report)
    bar = progress_bar(quiet=quiet)

    def on_step(step):
        bar.total = step.iterations
        scale = f"scale {step.scale[0]}/{step.scale[1]}, {step.scale[2]} px: " if step.scale else ""
        bar.label = f"without style: {scale}" if step.unstyled else scale
        bar.update(step.iteration, {k: step.losses[k] for k in ("content", "style", "tv", "total")})

    try:
        result = stylize_file(content, list(styles), output, settings, outputs, callback=on_step,
                              download_progress=not quiet)
    finally:
        bar.close()
    _outcome(result, output, quiet)


def _paths(text):
    """``A,B,,C`` as paths (an empty entry: None), or None."""
    return None if text is None else [Path(p) if p else None for p in text.split(",")]


def _outcome(result, output, quiet):
    from ..core.stop import StopReason
    from ..errors import NeuralStyleError

    run = result.run
    best = run.best_iteration
    unstyled = sum(1 for h in run.history if h.get("unstyled"))
    if run.stop_reason == StopReason.INTERRUPTED:
        beyond = ", with the run without style so far where the masks leave no style" if unstyled else ""
        echo(f"{signals.stop_word()} at iteration {run.iterations}: wrote the best image so far "
             f"(iteration {best}{beyond}) to {output}" if best else
             f"{signals.stop_word()} before the first iteration finished: wrote no image")
        sys.exit(signals.exit_code())
    if run.stop_reason == StopReason.NON_FINITE:
        if not best:
            raise NeuralStyleError("the loss was non-finite from the first iteration: "
                                   "lower --style-weight/--content-weight")
        raise NeuralStyleError(f"the loss became non-finite at iteration {run.iterations} "
                               f"(try a lower --lr or --style-weight): wrote the best finite image "
                               f"(iteration {best}) to {output}")
    if not quiet:
        last = result.final_losses or run.history[-1]  # the written image's losses
        scales = f" over {len(result.scales)} scales" if len(result.scales) > 1 else ""
        without = f" ({unstyled} in a run without style, for where the masks leave no style)" if unstyled else ""
        echo(f"wrote {output} ({run.iterations} iterations{scales}{without} in {run.seconds:.1f} s on "
             f"{result.device}, {result.precision}; style {last['style']:.3g}, "
             f"content {last['content']:.3g})")
