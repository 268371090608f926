"""The ``neural-style`` command line.

Thin by design: it parses and validates options, calls the Python API, and
formats progress, reports and errors. torch is imported only inside commands, so
``--help`` answers at once.
"""

import math
import sys
from pathlib import Path

import click

from . import __version__

EXIT_INTERRUPTED = 130


class _Group(click.Group):
    """Usage errors as one line (``neural-style stylize: error: ...``), exit 2, no traceback."""

    def main(self, args=None, prog_name=None, standalone_mode=True, **extra):
        try:
            return super().main(args=args, prog_name=prog_name or "neural-style",
                                standalone_mode=False, **extra)
        except getattr(click.exceptions, "NoArgsIsHelpError", ()) as exc:  # click >= 8.2: plain help
            exc.show()
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx else "neural-style"
            hint = f" (see '{where} --help')" if exc.ctx else ""
            click.echo(f"{where}: error: {exc.format_message()}{hint}", err=True)
            sys.exit(2)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except (click.Abort, KeyboardInterrupt):
            click.echo("interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="neural-style")
def cli():
    """Neural image optimisation: style transfer, TV denoising and fast style networks."""


def _fail(exc) -> None:
    """Print a NeuralStyleError as one line and exit with its code."""
    click.echo(f"error: {exc}", err=True)
    sys.exit(exc.exit_code)


def _layer_option(flag, default, what):
    return click.option(flag, default=default, show_default=True, metavar="NAME[:W],...",
                        help=f"{what} layers by name (conv*_* or relu*_*), each with an optional weight.")


@cli.command()
@click.argument("content", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("styles", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output image (.png, .jpg, .tif, .webp).")
@click.option("--bit-depth", type=click.Choice(["8", "16"]), default="8", show_default=True,
              help="Bits per sample of the output (16: PNG only).")
@click.option("--size", type=click.IntRange(min=16), default=512, show_default=True,
              help="Long side of the output in pixels.")
@click.option("--iterations", type=click.IntRange(min=1), default=500, show_default=True,
              help="Loss evaluations.")
@click.option("--optimizer", type=click.Choice(["lbfgs", "adam"]), default="lbfgs", show_default=True)
@click.option("--lr", type=float, default=None, help="Learning rate [lbfgs: 1, adam: 0.02].")
@click.option("--content-weight", type=float, default=1.0, show_default=True)
@click.option("--style-weight", type=float, default=5.0, show_default=True)
@click.option("--tv-weight", type=float, default=2.0, show_default=True,
              help="Weight of the total variation term (0 disables it).")
@click.option("--tv-beta", type=float, default=2.0, show_default=True,
              help="Order of the total variation: 2 smooth, 1 edge-preserving.")
@_layer_option("--content-layers", "relu4_2", "Content")
@_layer_option("--style-layers", "relu1_1,relu2_1,relu3_1,relu4_1,relu5_1", "Style")
@click.option("--style-blend-weights", default=None, metavar="W,W,...",
              help="Relative weight of each style image [equal].")
@click.option("--style-scale", type=float, default=1.0, show_default=True,
              help="Size of the style images relative to --size.")
@click.option("--init", default="content", show_default=True, metavar="content|random|PATH",
              help="Starting image.")
@click.option("--original-colors", is_flag=True, help="Keep the content's colours (luminance transfer).")
@click.option("--model", type=click.Choice(["vgg19", "vgg16"]), default=None,
              help="Loss network [vgg19, or what --weights holds].")
@click.option("--weights", default=None, metavar="torchvision|PATH",
              help="VGG weights: torchvision's ImageNet weights (downloaded once) or a state dict "
                   "[$NEURAL_STYLE_WEIGHTS, else torchvision].")
@click.option("--weights-format", type=click.Choice(["torchvision", "caffe"]), default="torchvision",
              show_default=True, help="caffe: weights expecting BGR 0..255 mean-subtracted input.")
@click.option("--pooling", type=click.Choice(["max", "avg"]), default="max", show_default=True)
@click.option("--seed", type=int, default=None, help="Seed of --init random.")
@click.option("--device", default="auto", show_default=True, metavar="auto|cpu|cuda|cuda:N|mps")
@click.option("--precision", type=click.Choice(["auto", "fp32", "bf16", "fp16"]), default="auto",
              show_default=True, help="Network precision; auto: bf16 where the hardware has it natively.")
@click.option("--save-every", type=click.IntRange(min=0), default=0, metavar="N",
              help="Also write OUT-NNNN.ext every N iterations.")
@click.option("--animation", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the optimisation as an animation (.gif, or .mp4 with neural-style[video]).")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write settings, device, losses and timings as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress or summary.")
def stylize(content, styles, output, **opts):
    """Optimise an image to match CONTENT's features and the STYLE images' Gram statistics
    (Gatys et al.)."""
    from .errors import NeuralStyleError

    try:
        _stylize(content, list(styles), output, opts)
    except NeuralStyleError as exc:
        _fail(exc)


def _stylize(content, styles, output, opts):
    import torch

    from .animation import check_animation_path, write_animation
    from .errors import InputError, NeuralStyleError
    from .images import check_output_path, write_image
    from .progress import ProgressBar
    from .report import write_report
    from .style_transfer import run_stylize

    quiet = opts.pop("quiet")
    init = opts["init"] if opts["init"] in ("content", "random") else Path(opts["init"])
    inputs = [content, *styles] + ([init] if isinstance(init, Path) else [])
    if opts["weights"] not in (None, "torchvision"):
        inputs.append(Path(opts["weights"]))
    check_output_path(output, inputs=inputs)
    if opts["report"]:
        check_output_path(opts["report"], inputs=inputs + [output], extensions=(".json",), what="report")
    if opts["animation"]:
        check_animation_path(opts["animation"], inputs=inputs + [output])
    blend = _parse_floats(opts["style_blend_weights"], "--style-blend-weights")
    bit_depth = int(opts.pop("bit_depth"))
    if bit_depth == 16 and output.suffix.lower() != ".png":
        raise InputError(f"--bit-depth 16 needs a .png output, got '{output.name}': use .png or --bit-depth 8")

    save_every, animation = opts.pop("save_every"), opts.pop("animation")
    report = opts.pop("report")
    frame_every = max(1, math.ceil(opts["iterations"] / 100))
    frames = []
    bar = ProgressBar(opts["iterations"], enabled=not quiet)

    def callback(step):
        bar.update(step.iteration, {k: step.losses[k] for k in ("content", "style", "tv", "total")})
        if save_every and step.iteration % save_every == 0 and step.iteration < step.iterations:
            write_image(output.with_name(f"{output.stem}-{step.iteration:04d}{output.suffix}"), step.image,
                        bit_depth=bit_depth)
        if animation and (step.iteration % frame_every == 0 or step.iteration == 1):
            frames.append((step.image.clamp(0, 1) * 255).round().to(torch.uint8).cpu())

    options = dict(opts, init=init, style_blend_weights=blend)
    try:
        result = run_stylize(content, styles, callback=callback, download_progress=not quiet, **options)
    except torch.cuda.OutOfMemoryError:
        raise NeuralStyleError(f"out of GPU memory at --size {opts['size']}: "
                               "use a smaller --size or --device cpu") from None
    finally:
        bar.close()

    write_image(output, result.image, bit_depth=bit_depth)
    if animation:
        frames.append((result.image * 255).round().to(torch.uint8))
        write_animation(animation, [f[0].permute(1, 2, 0).numpy() for f in frames])
    if report:
        write_report(report, {
            "command": "stylize",
            "settings": {**options, "content": content, "styles": styles, "output": output,
                         "save_every": save_every, "animation": animation, "bit_depth": bit_depth},
            "device": result.device, "precision": result.precision, "model": result.model, "weights": result.weights,
            "image_sizes": {"output": list(result.content_size), "styles": result.style_sizes},
            "iterations": result.iterations, "stop_reason": result.stop_reason,
            "seconds": result.seconds,
            "seconds_per_iteration": result.seconds / max(result.iterations, 1),
            "history": result.history,
        })
    if result.stop_reason == "interrupted":
        click.echo(f"interrupted at iteration {result.iterations}: wrote the best image so far to {output}",
                   err=True)
        sys.exit(EXIT_INTERRUPTED)
    if result.stop_reason == "non-finite":
        raise NeuralStyleError(f"the loss became non-finite at iteration {result.iterations} "
                               f"(try a lower --lr or --style-weight): wrote the last finite image to {output}")
    if not quiet:
        last = result.history[-1]
        click.echo(f"wrote {output} ({result.iterations} iterations in {result.seconds:.1f} s on "
                   f"{result.device}; style {last['style']:.3g}, content {last['content']:.3g})", err=True)


def _parse_floats(text, flag):
    from .errors import InputError

    if text is None:
        return None
    try:
        return [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise InputError(f"{flag} expects numbers separated by commas, like 1,0.5; got {text!r}") from None


def main(argv=None):
    """Console-script entry point."""
    cli.main(args=argv, prog_name="neural-style")


if __name__ == "__main__":
    main()
