"""The ``neural-style`` command line.

Thin by design: it declares the options (their defaults come from :mod:`neural_style.settings`),
calls a runner (:mod:`~neural_style.style_transfer.runner`, :mod:`~neural_style.denoising.runner`,
:mod:`~neural_style.fast.runner`), and formats progress, summaries and one-line errors. The
runners, and torch with them, are imported inside the commands, so ``--help`` answers at once.
"""

import math
import os
import sys
import warnings
from pathlib import Path

import click

from . import __version__, signals
from .settings import (
    COUPLINGS,
    DEFAULT_DEVICE,
    DEFAULT_LR,
    DENOISE_ITERATIONS,
    DENOISE_OPTIMIZERS,
    FIDELITIES,
    OPTIMIZERS,
    POOLINGS,
    PRECISIONS,
    REGULARIZERS,
    VIDEO_ITERATIONS,
    WEIGHTS_FORMATS,
    DenoiseBatchSettings,
    DenoiseSettings,
    StylizeOutputs,
    StylizeSettings,
    TrainSettings,
    TransferSettings,
    VideoSettings,
)

EXIT_INTERRUPTED = signals.EXIT_INTERRUPTED
STYLIZE, STYLIZE_OUT, DENOISE, TRAIN, TRANSFER, VIDEO = (StylizeSettings, StylizeOutputs, DenoiseSettings,
                                                         TrainSettings, TransferSettings, VideoSettings)


DEBUG_ENV = "NEURAL_STYLE_DEBUG"


class _Command(click.Command):
    """A command that runs with torch's threads fitted to the machine's other work."""

    def invoke(self, ctx):
        from .core.device import shared_cpu  # imports torch: only when a command runs (not for --help)

        with shared_cpu():  # fewer threads on a machine busy with other work
            return super().invoke(ctx)


class _Group(click.Group):
    """Every failure as one line, never a traceback (unless ``--debug``):

    * usage errors: ``neural-style stylize: error: ...``, exit 2;
    * a :class:`~neural_style.errors.NeuralStyleError`: ``error: ...`` with its exit code;
    * an OS error (no space, permission, read-only file system): ``error: ...`` naming the path, exit 1;
    * Ctrl-C: ``interrupted``, exit 130; SIGTERM and SIGHUP stop the same way, exit 128 + the signal;
    * anything else: ``internal error: ...; run with --debug for the traceback``, exit 1.
    """

    command_class = _Command

    def main(self, args=None, prog_name=None, standalone_mode=True, **extra):
        args = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in args or os.environ.get(DEBUG_ENV, "") not in ("", "0")
        args = [a for a in args if a != "--debug"]  # accepted anywhere on the line
        with signals.interrupt_on_termination(), warnings.catch_warnings():
            warnings.showwarning = _one_line_warnings()  # a library's multi-line warning: one line of ours, once
            try:
                return self._run(args, prog_name, extra)
            except Exception as exc:  # the last resort: one line unless asked for the traceback
                if debug:
                    raise
                first = (str(exc).strip().splitlines() or [""])[0][:200]
                _echo(f"internal error: {type(exc).__name__}: {first}; run with --debug for the traceback")
                sys.exit(1)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:  # past click, which would print a blank line for it
            raise _Stopped(exc) from exc

    def _run(self, args, prog_name, extra):
        from .errors import NeuralStyleError, spelled

        try:
            return super().main(args=args, prog_name=prog_name or "neural-style", standalone_mode=False, **extra)
        except getattr(click.exceptions, "NoArgsIsHelpError", ()) as exc:  # click >= 8.2: plain help
            exc.show()
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx else "neural-style"
            hint = f" (see '{where} --help')" if exc.ctx else ""
            _echo(f"{where}: error: {exc.format_message()}{hint}")
            sys.exit(2)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except NeuralStyleError as exc:
            _echo("error: " + spelled(exc, _flag))  # an f-string would read the settings' Python names
            sys.exit(exc.exit_code)
        except OSError as exc:
            _echo(f"error: {signals.describe_os_error(exc)}")
            sys.exit(1)
        except _Stopped as stop:
            _echo(signals.stop_word(stop.interrupt))
            sys.exit(signals.exit_code(stop.interrupt))
        except (click.Abort, KeyboardInterrupt) as exc:
            _echo(signals.stop_word(exc))
            sys.exit(signals.exit_code(exc))


class _Stopped(Exception):
    """Ctrl-C, SIGTERM or SIGHUP inside a command (``interrupt``: the KeyboardInterrupt)."""

    def __init__(self, interrupt: KeyboardInterrupt):
        super().__init__(str(interrupt))
        self.interrupt = interrupt


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="neural-style")
@click.option("--debug", is_flag=True, expose_value=False,
              help=f"Show the traceback of an internal error (may come anywhere on the line; or set {DEBUG_ENV}=1).")
def cli():
    """Neural image optimisation: style transfer, TV denoising and fast style networks."""


def _warn(message: str) -> None:
    from .errors import spelled

    _echo("warning: " + spelled(message, _flag))


def _one_line(message: str) -> str:
    """A message as one printable line: line breaks (a file name may hold one) written as ``\\n``,
    the bytes of a file name that is not UTF-8 (decoded by Python as lone surrogates) as ``\\xNN``."""
    message = message.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return message.replace("\r", "\\r").replace("\n", "\\n")


def _flag(name: str) -> str:
    """The option of a setting named in a library message (:func:`neural_style.errors.setting`)."""
    return "--" + name.replace("_", "-")


def _echo(message) -> None:
    """Every line the commands print (on stderr: stdout is left for data), as :func:`_one_line`, the
    settings a library message names spelled as options (``tv_beta`` -> ``--tv-beta``)."""
    from .errors import spelled

    click.echo(_one_line(spelled(message, _flag)), err=True)


def _one_line_warnings():
    """A ``warnings.showwarning`` for the command line: ``warning: <first line>`` (no source line), each
    text once per run (a library warns again for every file it decodes, as filters change between)."""
    seen = set()

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        from .errors import spelled

        text = (spelled(message, _flag).strip().splitlines() or [category.__name__])[0]
        text = text if len(text) <= 400 else text[:400].rsplit(" ", 1)[0] + " ..."  # a path may be long
        if text not in seen:
            seen.add(text)
            _warn(text)
    return show


def _setting(source, flag, type=None, help=None, **extra):
    """An option whose default is the field of ``source`` (a settings dataclass) named like ``flag``;
    without an explicit ``type`` or callback, the field's rule (:mod:`neural_style.rules`) parses
    and checks it, with the same words in every command."""
    name = flag.lstrip("-").replace("-", "_")
    default = getattr(source, name)
    shown = default is not None and not extra.get("is_flag")
    check = _rule_of(source, name)
    if type is None and "callback" not in extra and not extra.get("is_flag") and check is not None \
            and check.kind in ("count", "number") and not check.choices:
        type = _RuleType(check)
    return click.option(flag, type=type, default=default, show_default=shown, help=help, **extra)


def _rule_of(source, name):
    from dataclasses import fields

    return next((f.metadata.get("rule") for f in fields(source) if f.name == name), None)


class _RuleType(click.ParamType):
    """A number option checked by its settings field's rule: ``must be a finite number > 0, got inf``."""

    def __init__(self, check):
        self.check = check
        self.name = "integer" if check.kind == "count" else "float"

    def convert(self, value, param, ctx):
        if not isinstance(value, str):
            number = value
        else:
            try:
                number = int(value) if self.check.kind == "count" else float(value)
            except ValueError:
                number = value
        if number is None or not self.check.accepts(number):
            self.fail(f"must be {self.check.describe()}, got {value!r}", param, ctx)
        return number


def _layers(source, flag, what):
    return _setting(source, flag, metavar="NAME[:W],...",
                    help=f"{what} layers by name (conv*_* or relu*_*), each with an optional weight.")


def _floats(ctx, param, text):
    """Click callback: numbers separated by commas, or None."""
    from .errors import InputError

    if text is None:
        return None
    try:
        return [float(t) for t in text.split(",") if t.strip()]
    except ValueError as exc:
        raise InputError(f"{param.opts[0]} expects numbers separated by commas, like 1,0.5; got {text!r}") from exc


def _auto_or_count(minimum):
    """Click callback: 'auto' or an integer >= ``minimum``."""
    def parse(ctx, param, value):
        if value == "auto":
            return value
        try:
            number = int(value)
        except (TypeError, ValueError) as exc:
            raise click.BadParameter(f"expected 'auto' or an integer >= {minimum}, got {value!r}") from exc
        if number < minimum:
            raise click.BadParameter(f"expected 'auto' or an integer >= {minimum}, got {value!r}")
        return number
    return parse


def _counts(ctx, param, text):
    """Click callback: N or N,N,... (whole numbers >= 1), or None."""
    if text is None or isinstance(text, int):
        return text
    try:
        values = [int(t) for t in text.split(",") if t.strip()]
    except ValueError as exc:
        raise click.BadParameter(f"expected a whole number or several separated by commas, got {text!r}") from exc
    if not values or min(values) < 1:
        raise click.BadParameter(f"expected whole numbers of at least 1, got {text!r}")
    return values[0] if len(values) == 1 and "," not in text else values


def _scales(ctx, param, text):
    """Click callback: auto, none, or long sides S1,S2,..."""
    if text in ("auto", "none"):
        return text
    try:
        return [int(t) for t in text.split(",") if t.strip()]
    except ValueError as exc:
        raise click.BadParameter(f"expected auto, none or long sides like 256,512, got {text!r}") from exc


def _words_or_float(*words, most=math.inf, scale=""):
    """Click callback: one of ``words`` or a finite number >= 0 (and <= ``most``, a number ``scale``)."""
    said = " or ".join(f"'{w}'" for w in words)

    def parse(ctx, param, value):
        if value is None or value in words:
            return value
        try:
            number = float(value)
        except ValueError as exc:
            raise click.BadParameter(f"expected {said} or a number, got {value!r}") from exc
        if not (number >= 0 and math.isfinite(number)):
            raise click.BadParameter(f"expected {said} or a finite number >= 0, got {value!r}")
        if number > most:
            raise click.BadParameter(f"expected {said} or a number {scale} (at most {most:g}), got {value!r}")
        return number
    return parse



_device_option = click.option("--device", default=DEFAULT_DEVICE, show_default=True, metavar="auto|cpu|cuda|cuda:N|mps")
_quiet_option = click.option("-q", "--quiet", is_flag=True, help="No progress or summary.")
_report_option = click.option("--report", type=click.Path(dir_okay=False, path_type=Path), default=None,
                              help="Write what the run did as JSON.")


@cli.command()
@click.argument("content", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("styles", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=str),
              help="Output image (.png, .jpg, .tif, .webp); for a video or animated CONTENT a video (.mp4, .mov, "
              ".mkv, .avi, .webm), an animation (.gif, .webp, .png) or DIR/ for numbered PNG frames.")
@click.option("--bit-depth", type=click.Choice(["auto", "8", "16"]), default=str(STYLIZE_OUT.bit_depth),
              show_default=True, help="Bits per sample of the output (16: .png or .tif); auto: 16 when the content "
              "and every style image are 16-bit and the format holds it, else 8.")
@_setting(STYLIZE, "--size", None, "Long side of the output in pixels (>= 16; the content's short side must "
          "also reach 16 px, the deepest layer's minimum; smaller style images are enlarged to it).")
@_setting(STYLIZE, "--iterations", None, "Loss evaluations: one number (each scale) or one per scale "
          "[500; over several scales 300, 150, ..., 80].", callback=_counts, metavar="N[,N...]")
@_setting(STYLIZE, "--scales", None, "Coarse to fine: auto (256 px up to --size by sqrt 2), none, or long sides.",
          callback=_scales, metavar="auto|none|S1,S2,...")
@_setting(STYLIZE, "--optimizer", click.Choice(OPTIMIZERS))
@_setting(STYLIZE, "--lr", None, "Learning rate [" + ", ".join(f"{k}: {v:g}" for k, v in DEFAULT_LR.items()) + "].")
@_setting(STYLIZE, "--content-weight", None)
@_setting(STYLIZE, "--style-weight", None)
@_setting(STYLIZE, "--tv-weight", None, "Weight of the total variation term (0 disables it).")
@_setting(STYLIZE, "--tv-beta", None, "Order of the total variation: 2 smooth, 1 edge-preserving.")
@_layers(STYLIZE, "--content-layers", "Content")
@_layers(STYLIZE, "--style-layers", "Style")
@_setting(STYLIZE, "--style-blend-weights", None, "Relative weight of each style image [equal].", metavar="W,W,...",
          callback=_floats)
@_setting(STYLIZE, "--style-scale", None, "Size of the style images relative to --size.")
@_setting(STYLIZE, "--init", None, "Starting image.", metavar="content|random|PATH")
@_setting(STYLIZE, "--original-colors", None, "Keep the content's colours (luminance transfer).", is_flag=True)
@_setting(STYLIZE, "--model", click.Choice(["vgg19", "vgg16"]), "Loss network [vgg19, or what --weights holds].")
@_setting(STYLIZE, "--weights", None, "VGG weights: torchvision's ImageNet weights (downloaded once) or a state "
          "dict [$NEURAL_STYLE_WEIGHTS, else torchvision].", metavar="torchvision|PATH")
@_setting(STYLIZE, "--weights-format", click.Choice(WEIGHTS_FORMATS),
          "caffe: weights expecting BGR 0..255 mean-subtracted input.")
@_setting(STYLIZE, "--pooling", click.Choice(POOLINGS))
@_setting(STYLIZE, "--seed", click.IntRange(0, 2**63 - 1), "Seed of --init random.")
@_device_option
@_setting(STYLIZE, "--precision", click.Choice(PRECISIONS),
          "Network precision; auto: bf16 on CPUs that have it natively, else fp32.")
@_setting(STYLIZE, "--tile-size", None, "Evaluate exactly, tile by tile, with N px tiles: memory follows the tile. "
          "auto: only when the whole image would not fit; 0: never.", callback=_auto_or_count(0), metavar="N|auto")
@_setting(STYLIZE, "--lbfgs-history", None, "L-BFGS correction pairs; auto: up to 100, as memory allows.",
          callback=_auto_or_count(1), metavar="N|auto")
@_setting(STYLIZE_OUT, "--save-every", None, "Also write OUT-NNNN.ext every N iterations.",
          metavar="N")
@_setting(STYLIZE_OUT, "--animation", click.Path(dir_okay=False, path_type=Path),
          "Write the optimisation as an animation (.gif, or .mp4 with neural-style[video]).")
@_setting(VIDEO, "--temporal-weight", None, "Video: weight of the temporal loss tying each frame to the previous "
          "one warped by the optical flow (0: every frame on its own).")
@_setting(VIDEO, "--first-frame-iterations", None, "Video: loss evaluations of the first frame [--iterations, "
          f"else 500]; later frames take --iterations [{VIDEO_ITERATIONS}].")
@_report_option
@_quiet_option
def stylize(content, styles, output, bit_depth, save_every, animation, report, quiet, temporal_weight,
            first_frame_iterations, **options):
    """Optimise an image to match CONTENT's features and the STYLE images' Gram statistics
    (Gatys et al.). A STYLE folder gives every image in it (and its subfolders), in name order.
    A video or animated CONTENT is stylised frame by frame, each frame tied to the previous one
    (Ruder et al.); running the same command again continues an interrupted clip."""
    from .io.progress import ProgressBar
    from .style_transfer.runner import stylize_file
    from .video.stylize import is_clip

    if options["init"] not in ("content", "random"):
        options["init"] = Path(options["init"])
    settings = StylizeSettings(**options)
    if is_clip(content):
        video = VideoSettings(temporal_weight=temporal_weight, first_frame_iterations=first_frame_iterations)
        return _stylize_video(content, styles, output, settings, video, report, quiet,
                              bit_depth=bit_depth, save_every=save_every, animation=animation)
    output = Path(output)
    outputs = StylizeOutputs(bit_depth=bit_depth if bit_depth == "auto" else int(bit_depth), save_every=save_every,
                             animation=animation, report=report)
    bar = ProgressBar(0, enabled=not quiet)

    def on_step(step):
        bar.total = step.iterations
        if step.scale:
            bar.label = f"scale {step.scale[0]}/{step.scale[1]}, {step.scale[2]} px "
        bar.update(step.iteration, {k: step.losses[k] for k in ("content", "style", "tv", "total")})

    try:
        result = stylize_file(content, list(styles), output, settings, outputs, callback=on_step,
                              download_progress=not quiet)
    finally:
        bar.close()
    _stylize_outcome(result, output, quiet)


def _stylize_video(content, styles, output, settings, video, report, quiet, **still_only):
    """``stylize`` on a clip: per-frame progress, then one line for the clip."""
    from .errors import InputError, NeuralStyleError
    from .io.progress import ProgressBar, format_duration
    from .video.stylize import TIMING_FILE, stylize_clip

    given = [f"--{k.replace('_', '-')}" for k, v in still_only.items() if v not in (None, 0, "auto")]
    if given:
        raise InputError(f"{', '.join(given)} applies to an image content, not a clip: leave it out (a clip's "
                         "frames are 8-bit, and -o DIR/ keeps every frame)")
    bar = ProgressBar(0, enabled=not quiet)
    times = []

    def on_step(index, count, step):
        bar.total = step.iterations
        eta = f", clip ETA {format_duration(sum(times) / len(times) * (count - index))}" if times else ""
        bar.label = f"frame {index + 1}/{count}{eta} "
        bar.update(step.iteration, {k: step.losses[k] for k in ("content", "style", "extra") if k in step.losses})

    def on_frame(index, count, record):
        times.append(record.seconds)

    try:
        result = stylize_clip(content, list(styles), output, settings, video, report=report, on_step=on_step,
                              on_frame=on_frame)
    finally:
        bar.close()
    where = result.output or result.frame_dir
    if result.stop_reason == "interrupted":
        kept = (f"wrote {_finished_frames(result.finished)} to {where}; " if result.finished else "")
        _echo(f"{signals.stop_word()} at frame {result.finished + 1}/{result.total}: {kept}run the same command "
              f"again to continue (frames kept in {result.frame_dir})")
        sys.exit(signals.exit_code())
    if result.stop_reason == "non-finite":
        raise NeuralStyleError(f"the loss became non-finite at frame {result.finished + 1}/{result.total} (try a "
                               f"lower --lr, --style-weight or --temporal-weight): wrote "
                               f"{_finished_frames(result.finished)} to {where}")
    if not quiet:
        made = [r for r in result.frames if r.index > 0]
        later = f", {sum(r.seconds for r in made) / len(made):.1f} s per frame after the first" if made else ""
        resumed = f"; continued after frame {result.resumed}" if result.resumed else ""
        timing = "" if result.output else f"; their timing: {result.frame_dir / TIMING_FILE}"
        _echo(f"wrote {where} ({result.total} frames in {result.seconds:.1f} s on {result.device}{later}{resumed}"
              f"{timing})")


def _finished_frames(count: int) -> str:
    """'the 1 finished frame', 'the 3 finished frames'."""
    return f"the {count} finished frame{'' if count == 1 else 's'}"


def _stylize_outcome(result, output, quiet):
    from .errors import NeuralStyleError

    run = result.run
    best = run.best_iteration
    if run.stop_reason == "interrupted":
        _echo(f"{signals.stop_word()} at iteration {run.iterations}: wrote the best image so far "
                   f"(iteration {best}) to {output}" if best else
                   f"{signals.stop_word()} before the first iteration finished: wrote no image")
        sys.exit(signals.exit_code())
    if run.stop_reason == "non-finite":
        if not best:
            raise NeuralStyleError("the loss was non-finite from the first iteration: "
                                   "lower --style-weight/--content-weight")
        raise NeuralStyleError(f"the loss became non-finite at iteration {run.iterations} "
                               f"(try a lower --lr or --style-weight): wrote the best finite image "
                               f"(iteration {best}) to {output}")
    if not quiet:
        last = run.history[-1]
        _echo(f"wrote {output} ({run.iterations} iterations in {run.seconds:.1f} s on "
                   f"{result.device}, {result.precision}; style {last['style']:.3g}, "
                   f"content {last['content']:.3g})")


@cli.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=str),
              help="Output file for one input; a folder for several (created if missing, names kept).")
@_setting(DENOISE, "--regularizer", click.Choice(REGULARIZERS),
          "tv: beta-order total variation; tgv: total generalised variation of order 2 (no staircases on "
          "smooth shading; slower); nltv: non-local TV (differences to similar patches: keeps texture; slower).")
@_setting(DENOISE, "--tv-beta", None, "Order of the total variation (1: ROF). Below 1 is non-convex.")
@_setting(DENOISE, "--tv-weight", None, "Lambda; auto: per image by SURE (primal-dual solver; README, 'Lambda "
          "per image'), else the rule; rule: the power law in sigma (README, 'The lambda rule').",
          callback=_words_or_float("auto", "rule"), metavar="auto|rule|FLOAT")
@_setting(DENOISE, "--sigma", None, "Noise standard deviation on the 0..255 scale; auto: estimated.",
          callback=_words_or_float("auto", most=255, scale="on the 0..255 scale"), metavar="auto|FLOAT")
@_setting(DENOISE, "--fidelity", click.Choice(FIDELITIES),
          "Data term; l1 for impulse (salt-and-pepper) noise.")
@_setting(DENOISE, "--coupling", click.Choice(COUPLINGS),
          "Colour TV: all channels under one root, or per channel.")
@_setting(DENOISE, "--optimizer", click.Choice(DENOISE_OPTIMIZERS),
          "auto: primal-dual (Chambolle-Pock) for beta 1 with l2, else L-BFGS.")
@_setting(DENOISE, "--iterations", None,
          "Iteration limit [" + ", ".join(f"{k} {v}" for k, v in DENOISE_ITERATIONS.items()) + "].")
@_setting(DENOISE, "--tolerance", None, "Stop when the relative change per iteration falls below this.")
@_device_option
@click.option("--reference", type=click.Path(path_type=Path), default=None,
              help="Clean image (or folder of them, matched by name): print PSNR and SSIM.")
@_setting(DenoiseBatchSettings, "--jobs", click.STRING, "Denoise files in N processes, one thread each; auto: one per "
          "core (README, 'Speed').", callback=_auto_or_count(1), metavar="N|auto")
@_report_option
@_quiet_option
def denoise(inputs, output, reference, report, quiet, sigma, jobs, **options):
    """Remove noise from INPUT images by minimising fidelity + lambda * beta-order TV."""
    from .denoising.runner import denoise_files, plan_outputs
    from .errors import spelled
    from .io.progress import ProgressBar

    pairs = plan_outputs(list(inputs), output)
    settings = DenoiseSettings(sigma=sigma if sigma == "auto" else sigma / 255, **options)
    bar = ProgressBar(len(pairs), label="files ", enabled=not quiet)
    done = [0]

    def on_file(index, record):
        done[0] = index
        bar.update(index, force=True)
        if not quiet:
            if bar.drawn:  # the summary line replaces the bar; the bar redraws below it
                bar.stream.write("\r\x1b[K")
            _echo(_denoised_line(record))

    def on_failure(index, failure):
        done[0] = index
        if bar.drawn:
            bar.stream.write("\r\x1b[K")
        _echo("error: " + spelled(failure["error"], _flag))

    try:
        batch = denoise_files(pairs, settings, reference=reference, report=report, on_file=on_file,
                              on_failure=on_failure, warn=_warn, jobs=jobs,
                              callback=lambda step: bar.update(done[0], {"iteration": step.iteration}))
    finally:
        bar.close()
    if batch.mean_psnr is not None:
        click.echo(f"mean PSNR {batch.mean_psnr:.2f} dB, mean SSIM {batch.mean_ssim:.4f} "
                   f"over {_count(len(batch.records), 'image')}")
    _batch_outcome(len(pairs), len(batch.records), [f["input"] for f in batch.failures], batch.unprocessed, report,
                   batch.stop_reason == "interrupted")


def _count(number: int, noun: str) -> str:
    """``"1 image"``, ``"3 images"``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _batch_outcome(total: int, written: int, failed, unprocessed, report, interrupted: bool = False) -> None:
    """The last line of a batch that did not complete, and its exit code (failures were named as they came)."""
    listed = f" (listed in {report})" if report else ""
    if interrupted and not unprocessed:  # the last file was being denoised: written with its best so far
        _echo(f"{signals.stop_word()}: wrote {written} of {_count(total, 'file')} (the last with its best image so far)"
              f"{listed}")
        sys.exit(signals.exit_code())
    if unprocessed:
        names = ", ".join(unprocessed[:3]) + (f" and {len(unprocessed) - 3} more" if len(unprocessed) > 3 else "")
        _echo(f"{signals.stop_word()}: wrote {written} of {_count(total, 'file')}; not processed: {names}{listed}")
        sys.exit(signals.exit_code())
    if failed:
        _echo(f"error: {len(failed)} of {_count(total, 'file')} failed (named above){listed}; wrote the other "
                   f"{written}")
        sys.exit(1)


def _denoised_line(record) -> str:
    method = ""
    if record["tv_weight_method"] == "rule":
        method = " (rule)"
    elif record["tv_weight_method"] == "sure" and record["sure"] is not None:
        method = f" (SURE {record['sure']:.3g})"
    line = (f"{record['input']}: sigma {record['sigma'] * 255:.2f}"
            f"{' (estimated)' if record['sigma_estimated'] else ''}, lambda {record['tv_weight']:.4g}{method}, "
            f"{record['iterations']} iterations, {record['seconds']:.2f} s")
    if "psnr" in record:
        line += f", PSNR {record['psnr']:.2f} dB, SSIM {record['ssim']:.4f}"
    return line


@cli.command()
@click.argument("style", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dataset", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder (any tree) of training photos.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Model file to write (.pth).")
@_setting(TRAIN, "--image-size", None)
@_setting(TRAIN, "--batch-size", None)
@_setting(TRAIN, "--epochs", None, "Passes over the dataset [1].")
@_setting(TRAIN, "--iterations", None, "Optimisation steps (overrides --epochs).")
@_setting(TRAIN, "--lr", None, "Adam.")
@_setting(TRAIN, "--content-weight", None,
          "Higher than stylize's 1: a network cannot fit each photo as an optimiser does.")
@_setting(TRAIN, "--style-weight", None)
@_setting(TRAIN, "--tv-weight", None)
@_setting(TRAIN, "--tv-beta", None)
@_setting(TRAIN, "--style-size", None, "Long side of the style image [image size].")
@_setting(TRAIN, "--width", None, "Channel multiplier of the network (0.5: 4x smaller).")
@_setting(TRAIN, "--antialias", None, "Anti-aliased network: blur before its stride-2 convolutions, bilinear "
          "upsampling (less flicker on video: README).", is_flag=True)
@_layers(TRAIN, "--content-layers", "Content")
@_layers(TRAIN, "--style-layers", "Style")
@_setting(TRAIN, "--model", click.Choice(["vgg16", "vgg19"]))
@_setting(TRAIN, "--weights", None, "As for stylize.", metavar="torchvision|PATH")
@_setting(TRAIN, "--weights-format", click.Choice(WEIGHTS_FORMATS))
@_setting(TRAIN, "--seed", click.IntRange(0, 2**63 - 1))
@_device_option
@_setting(TRAIN, "--amp", None, "Mixed precision (GPU only).", is_flag=True)
@_setting(TRAIN, "--checkpoint-every", None, metavar="N")
@_setting(TRAIN, "--keep-checkpoints", None, "Keep the newest N step-*.ckpt files (0: all); last.ckpt always stays.",
          metavar="N")
@_setting(TRAIN, "--temporal-weight", None, "Weight of a temporal stability term against flicker in videos: the "
          "output of a randomly moved photo against the moved output (0: none; measured in README: 400 with "
          "--antialias, 250 without; each step runs the network on twice the batch).")
@_setting(TRAIN, "--ema-decay", None, "Write the exponential moving average of the weights, about 1/(1-decay) "
          "steps, instead of the last step's (0: off; at most 0.9999; README: 0.995 measured).", metavar="DECAY")
@click.option("--checkpoint-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="[<output stem>-checkpoints/ beside the output]")
@click.option("--resume", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Checkpoint to resume.")
@_report_option
@_quiet_option
def train(style, dataset, output, device, checkpoint_dir, resume, report, quiet, **options):
    """Train a fast style network for STYLE on the photos in --dataset (Johnson et al.)."""
    from .errors import NeuralStyleError
    from .fast.runner import train as run_train
    from .io.progress import ProgressBar

    bar = ProgressBar(0, enabled=not quiet)
    first = []

    def on_step(step):
        if not first:  # a resumed run starts past step 0
            first.append(step.iteration - 1)
            bar.total = step.iterations - first[0]
        bar.update(step.iteration - first[0], {"content": step.losses["content"], "style": step.losses["style"],
                                               "img/s": step.images_per_second})

    try:
        run = run_train(style, dataset, output, TrainSettings(**options), device=device, checkpoint_dir=checkpoint_dir,
                        resume=resume, report=report, callback=on_step, warn=_warn, download_progress=not quiet,
                        info=None if quiet else _echo)
    finally:
        bar.close()
    result = run.result
    if run.rank != 0:
        return
    if result.stop_reason == "non-finite":
        kept = (f"the last checkpoint is {run.last_checkpoint}" if run.last_checkpoint.is_file() else
                "no checkpoint was written yet")
        raise NeuralStyleError(f"the loss became non-finite at step {result.steps}: lower --lr or --style-weight; "
                               f"{kept}")
    if result.stop_reason == "interrupted":
        wrote = f"wrote {output}" if run.model_written else "no step finished: wrote no model"
        resume = (f"resume with --resume {run.last_checkpoint}" if run.last_checkpoint.is_file() else
                  "no checkpoint was written yet")
        _echo(f"{signals.stop_word()} at step {result.steps}: {wrote}; {resume}")
        sys.exit(signals.exit_code())
    if not quiet:
        names = ", ".join(Path(p).name for p in result.skipped[:3]) + (", ..." if result.skipped_files > 3 else "")
        where = f"; all listed in {report}" if report else ""
        skipped = f", {result.skipped_files} unreadable files skipped: {names}{where}" if result.skipped_files else ""
        speed = (f"{result.images_per_second:.2f} images/s on {run.device}" if result.steps > run.start_step else
                 "no step trained")
        _echo(f"wrote {output} ({result.steps} steps, {speed}{skipped})")


@cli.command()
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=str),
              help="Output file for one input, else a folder (names kept).")
@_setting(TRANSFER, "--size", None, "Long side of the output (>= 16) [input size; inputs of any size, "
          "even 1x1, are taken].")
@click.option("--original-colors", "--preserve-colors", "original_colors", is_flag=True,
              default=TRANSFER.original_colors, help="Keep the input's colours (luminance transfer).")
@_setting(TRANSFER, "--batch-size", None, "Video frames per batch.")
@_device_option
@_report_option
@_quiet_option
def transfer(model_path, inputs, output, quiet, report, **options):
    """Stylise images, folders, GIFs and videos with a model from `neural-style train`."""
    from .fast.runner import transfer as run_transfer
    from .io.progress import ProgressBar

    bar = ProgressBar(0, label="files ", enabled=not quiet)

    def on_frame(index, files, done, total):
        bar.total = files
        bar.update(index + (done == total), {"frame": done}, force=done == total)

    def on_failure(path, message):
        if bar.drawn:
            bar.stream.write("\r\x1b[K")
        _echo(f"error: {message}")

    try:
        batch = run_transfer(model_path, list(inputs), output, TransferSettings(**options), report=report,
                             on_frame=on_frame, on_failure=on_failure)
    finally:
        bar.close()
    total = len(batch.records) + len(batch.failures) + len(batch.unprocessed)
    _batch_outcome(total, len(batch.records), batch.failures, batch.unprocessed, report,
                   interrupted=batch.stop_reason == "interrupted")
    if not quiet:
        count = len(batch.records)
        _echo(f"wrote {output}" if count == 1 and batch.written[0][1] == Path(output)
              else f"wrote {count} file{'' if count == 1 else 's'} to {output}")


@cli.command()
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="OUT.onnx (needs neural-style[export]) or OUT.pt2 (torch.export).")
@click.option("--check-image", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Image (at least 8x8 px: exported models take H, W >= 8) to compare the exported model with "
                   "the original on [a random one].")
@_report_option
@_quiet_option
def export(model_path, output, check_image, quiet, report):
    """Export a model from `neural-style train` to ONNX or torch.export, and check it.

    The exported model takes (B, 3, H, W) images in [0, 1] of any size from 8x8 up."""
    from .fast.runner import export as run_export

    result = run_export(model_path, output, check_image=check_image, report=report)
    if not quiet:
        check = (f"max difference {result['max_abs_diff']:.3g} ({result['checked_with']})"
                 if result["max_abs_diff"] is not None else "not checked: pip install onnxruntime")
        _echo(f"wrote {output}; {check}")


def main(argv=None):
    """Console-script entry point.

    A torchrun worker (``WORLD_SIZE`` > 1, as :mod:`neural_style.fast.runner` reads it) ends with
    ``os._exit`` once its output is flushed: DistributedDataParallel keeps the gloo process group alive
    after ``destroy_process_group`` (torch 2.x), and its threads still running while the interpreter
    and C++ statics are torn down abort the process now and then (SIGABRT, "terminate called without
    an active exception"; pytorch/pytorch#179291), which fails the whole run after its model was written.
    """
    world_size = os.environ.get("WORLD_SIZE", "1")
    if not world_size.isdigit() or int(world_size) <= 1:
        cli.main(args=argv, prog_name="neural-style")
        return
    code = 0
    try:
        cli.main(args=argv, prog_name="neural-style")
    except SystemExit as exc:  # the commands exit with an int (or None: 0)
        code = exc.code or 0
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
