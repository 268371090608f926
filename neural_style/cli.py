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
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=None, help="Seed of --init random.")
@click.option("--device", default="auto", show_default=True, metavar="auto|cpu|cuda|cuda:N|mps")
@click.option("--precision", type=click.Choice(["auto", "fp32", "bf16", "fp16"]), default="auto",
              show_default=True, help="Network precision; auto: bf16 on CPUs that have it natively, else fp32.")
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

    from .io.animation import check_animation_path, write_animation
    from .errors import InputError, NeuralStyleError
    from .io.images import check_output_path, write_image
    from .io.progress import ProgressBar
    from .io.report import write_report
    from .style_transfer.gatys import run_stylize

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

    def intermediate(iteration):
        return output.with_name(f"{output.stem}-{iteration:04d}{output.suffix}")

    if save_every:  # every OUT-NNNN.ext the run will write, before any work
        for iteration in range(save_every, opts["iterations"], save_every):
            check_output_path(intermediate(iteration), inputs=inputs, what="intermediate output")
    frame_every = max(1, math.ceil(opts["iterations"] / 100))
    frames = []
    bar = ProgressBar(opts["iterations"], enabled=not quiet)

    def callback(step):
        bar.update(step.iteration, {k: step.losses[k] for k in ("content", "style", "tv", "total")})
        if save_every and step.iteration % save_every == 0 and step.iteration < step.iterations:
            write_image(intermediate(step.iteration), step.image, bit_depth=bit_depth)
        if animation and (step.iteration % frame_every == 0 or step.iteration == 1):
            frames.append((step.image.clamp(0, 1) * 255).round().to(torch.uint8).cpu())

    options = dict(opts, init=init, style_blend_weights=blend)
    try:
        result = run_stylize(content, styles, callback=callback, download_progress=not quiet, **options)
    except torch.cuda.OutOfMemoryError:
        raise NeuralStyleError(f"out of GPU memory at --size {opts['size']}: "
                               "use a smaller --size or --device cpu") from None
    except RuntimeError as exc:  # the CPU allocator's (and other backends') out-of-memory errors
        text = str(exc).lower()
        if "out of memory" in text or "can't allocate memory" in text:
            raise NeuralStyleError(f"out of memory at --size {opts['size']}: use a smaller --size") from None
        raise
    finally:
        bar.close()

    best = result.best_iteration  # 0: no evaluation finished with a finite loss, nothing worth writing
    if best:
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
            "iterations": result.iterations, "stop_reason": result.stop_reason, "best_iteration": best,
            "seconds": result.seconds,
            "seconds_per_iteration": result.seconds / max(result.iterations, 1),
            "history": result.history,
        })
    if result.stop_reason == "interrupted":
        click.echo(f"interrupted at iteration {result.iterations}: wrote the best image so far "
                   f"(iteration {best}) to {output}" if best else
                   "interrupted before the first iteration finished: wrote no image", err=True)
        sys.exit(EXIT_INTERRUPTED)
    if result.stop_reason == "non-finite":
        if not best:
            raise NeuralStyleError("the loss was non-finite from the first iteration: "
                                   "lower --style-weight/--content-weight")
        raise NeuralStyleError(f"the loss became non-finite at iteration {result.iterations} "
                               f"(try a lower --lr or --style-weight): wrote the best finite image "
                               f"(iteration {best}) to {output}")
    if not quiet:
        last = result.history[-1]
        click.echo(f"wrote {output} ({result.iterations} iterations in {result.seconds:.1f} s on "
                   f"{result.device}, {result.precision}; style {last['style']:.3g}, "
                   f"content {last['content']:.3g})", err=True)


def _auto_or_float(ctx, param, value):
    """Click callback: 'auto' or a finite number >= 0."""
    if value is None or value == "auto":
        return value
    try:
        number = float(value)
    except ValueError:
        raise click.BadParameter(f"expected 'auto' or a number, got {value!r}") from None
    if not (number >= 0 and math.isfinite(number)):
        raise click.BadParameter(f"expected 'auto' or a finite number >= 0, got {value!r}")
    return number


@cli.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="Output file for one input; a folder for several (created if missing, names kept).")
@click.option("--tv-beta", type=float, default=None,
              help="Order of the total variation (1: ROF). Below 1 is non-convex. [default: 1]")
@click.option("--tv-weight", default="auto", show_default=True, callback=_auto_or_float,
              metavar="auto|FLOAT", help="Lambda; auto: from sigma and beta (README, 'The lambda rule').")
@click.option("--sigma", default="auto", show_default=True, callback=_auto_or_float,
              metavar="auto|FLOAT", help="Noise standard deviation on the 0..255 scale; auto: estimated.")
@click.option("--fidelity", type=click.Choice(["l2", "l1", "charbonnier"]), default="l2", show_default=True,
              help="Data term; l1 for impulse (salt-and-pepper) noise.")
@click.option("--coupling", type=click.Choice(["vectorial", "channel"]), default="vectorial", show_default=True,
              help="Colour TV: all channels under one root, or per channel.")
@click.option("--optimizer", type=click.Choice(["auto", "primal-dual", "lbfgs", "adam"]), default="auto",
              show_default=True, help="auto: primal-dual (Chambolle-Pock) for beta 1 with l2, else L-BFGS.")
@click.option("--iterations", type=click.IntRange(min=1), default=None,
              help="Iteration limit [primal-dual 300, L-BFGS/Adam 500].")
@click.option("--tolerance", type=click.FloatRange(min=0), default=1e-4, show_default=True,
              help="Stop when the relative change per iteration falls below this.")
@click.option("--device", default="auto", show_default=True, metavar="auto|cpu|cuda|cuda:N|mps")
@click.option("--reference", type=click.Path(path_type=Path), default=None,
              help="Clean image (or folder of them, matched by name): print PSNR and SSIM.")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write per-image sigma, lambda, beta, iterations, seconds (and PSNR/SSIM) as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress or summary.")
def denoise(inputs, output, **opts):
    """Remove noise from INPUT images by minimising fidelity + lambda * beta-order TV."""
    from .errors import NeuralStyleError

    try:
        _denoise(list(inputs), output, opts)
    except NeuralStyleError as exc:
        _fail(exc)


def _denoise(inputs, output, opts):
    import warnings

    from .denoising.files import denoise_files, plan_outputs
    from .io.progress import ProgressBar

    quiet, report, reference = opts.pop("quiet"), opts.pop("report"), opts.pop("reference")
    beta = opts.pop("tv_beta")
    pairs = plan_outputs(inputs, output)
    if beta is not None and beta < 1:
        click.echo(f"warning: --tv-beta {beta} < 1 is non-convex and gives spike artefacts", err=True)
    sigma = opts.pop("sigma")
    opts["solver"] = opts.pop("optimizer")
    bar = ProgressBar(len(pairs), label="files ", enabled=not quiet)
    done = [0]

    def on_step(step):
        bar.update(done[0], {"iteration": step.iteration})

    def on_file(index, record):
        done[0] = index
        bar.update(index, force=True)
        if not quiet:
            line = (f"{record['input']}: sigma {record['sigma'] * 255:.2f}"
                    f"{' (estimated)' if record['sigma_estimated'] else ''}, lambda {record['tv_weight']:.4g}, "
                    f"{record['iterations']} iterations, {record['seconds']:.2f} s")
            if "psnr" in record:
                line += f", PSNR {record['psnr']:.2f} dB, SSIM {record['ssim']:.4f}"
            if bar.drawn:  # the summary line replaces the bar; the bar redraws below it
                bar.stream.write("\r\x1b[K")
            click.echo(line, err=True)

    records = denoise_files(pairs, reference=reference, report=report, on_file=on_file, callback=on_step,
                            sigma=sigma if sigma == "auto" else sigma / 255,
                            **({} if beta is None else {"tv_beta": beta}), **opts)
    bar.close()
    if reference is not None:
        scored = [r for r in records if "psnr" in r]
        click.echo(f"mean PSNR {sum(r['psnr'] for r in scored) / len(scored):.2f} dB, "
                   f"mean SSIM {sum(r['ssim'] for r in scored) / len(scored):.4f} over {len(scored)} images")


@cli.command()
@click.argument("style", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dataset", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder (any tree) of training photos.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Model file to write (.pth).")
@click.option("--image-size", type=click.IntRange(min=16), default=256, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Passes over the dataset [1].")
@click.option("--iterations", type=click.IntRange(min=1), default=None, help="Optimisation steps (overrides --epochs).")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=1e-3, show_default=True, help="Adam.")
@click.option("--content-weight", type=click.FloatRange(min=0), default=4.0, show_default=True,
              help="Higher than stylize's 1: a network cannot fit each photo as an optimiser does.")
@click.option("--style-weight", type=click.FloatRange(min=0), default=5.0, show_default=True)
@click.option("--tv-weight", type=click.FloatRange(min=0), default=2.0, show_default=True)
@click.option("--tv-beta", type=click.FloatRange(min=0, min_open=True), default=2.0, show_default=True)
@click.option("--style-size", type=click.IntRange(min=16), default=None, help="Long side of the style image [image size].")
@click.option("--width", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Channel multiplier of the network (0.5: 4x smaller).")
@_layer_option("--content-layers", "relu2_2", "Content")
@_layer_option("--style-layers", "relu1_2,relu2_2,relu3_3,relu4_3", "Style")
@click.option("--model", type=click.Choice(["vgg16", "vgg19"]), default="vgg16", show_default=True)
@click.option("--weights", default=None, metavar="torchvision|PATH", help="As for stylize.")
@click.option("--weights-format", type=click.Choice(["torchvision", "caffe"]), default="torchvision", show_default=True)
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True)
@click.option("--device", default="auto", show_default=True, metavar="auto|cpu|cuda|cuda:N|mps")
@click.option("--amp", is_flag=True, help="Mixed precision (GPU only).")
@click.option("--checkpoint-every", type=click.IntRange(min=1), default=1000, show_default=True, metavar="N")
@click.option("--checkpoint-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="[<output stem>-checkpoints/ beside the output]")
@click.option("--resume", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Checkpoint to resume.")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write settings, per-logged-step losses and images per second as JSON.")
@click.option("-q", "--quiet", is_flag=True)
def train(style, dataset, output, **opts):
    """Train a fast style network for STYLE on the photos in --dataset (Johnson et al.)."""
    from .errors import NeuralStyleError

    try:
        _train(style, dataset, output, opts)
    except NeuralStyleError as exc:
        _fail(exc)


SHORT_TRAINING = 2000  # steps; README: 400 steps left a style ratio of 0.31, 2400 gave 0.21 (128 px, batch 4)


def _train(style, dataset, output, opts):
    import os

    import torch

    from .core.device import resolve_device
    from .errors import InputError, NeuralStyleError
    from .fast.transfer import apply_model
    from .io.images import check_output_path, write_image
    from .fast.model_file import save_model
    from .io.progress import ProgressBar
    from .io.report import write_report
    from .fast.training import Trainer, TrainConfig, load_sample, train as run_training

    quiet, report, resume = opts.pop("quiet"), opts.pop("report"), opts.pop("resume")
    checkpoint_dir = opts.pop("checkpoint_dir") or output.with_name(output.stem + "-checkpoints")
    check_output_path(output, inputs=[style], extensions=(".pth", ".pt"), what="model")
    if report:
        check_output_path(report, inputs=[style, output], extensions=(".json",), what="report")
    if resume is not None and not resume.is_file():
        raise InputError(f"checkpoint '{resume}' does not exist: pass a .ckpt from the checkpoint folder")
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    device = resolve_device(opts.pop("device"))
    if world_size > 1:
        import torch.distributed as dist

        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    config = TrainConfig(**opts)
    trainer = Trainer(style, dataset, config, device=device, rank=rank, world_size=world_size,
                      download_progress=not quiet)
    if resume is not None:
        changed = trainer.load_checkpoint(resume)
        if changed and rank == 0:
            click.echo(f"warning: resuming with settings that differ from the checkpoint's ({'; '.join(changed)}): "
                       "the run will not match an uninterrupted one", err=True)
    if trainer.total_steps() < SHORT_TRAINING and rank == 0:
        click.echo(f"warning: {trainer.total_steps()} training steps ({len(trainer.files)} files, batch "
                   f"{config.batch_size}) give a weakly stylised network: ask for --iterations "
                   f"{SHORT_TRAINING} or more (or more --epochs)", err=True)
    # The checkpoint samples come from the first readable photo (a fixed one for the whole run).
    sample = next((s for s in (load_sample(f, config.image_size) for f in trainer.files) if s is not None), None)
    bar = ProgressBar(trainer.total_steps() - trainer.step, enabled=not quiet and rank == 0)
    first = trainer.step

    def callback(info):
        bar.update(info.step - first, {"content": info.losses["content"], "style": info.losses["style"],
                                       "img/s": info.images_per_second})
        if rank == 0 and sample is not None and info.step % config.checkpoint_every == 0:
            write_image(checkpoint_dir / f"step-{info.step:06d}.jpg", apply_model(trainer.net.eval(), sample[None]))

    try:
        result = run_training(trainer, checkpoint_dir=checkpoint_dir, callback=callback)
    finally:
        bar.close()
        if world_size > 1:
            import torch.distributed as dist

            dist.destroy_process_group()
    if rank != 0:
        return
    if result.stop_reason == "non-finite":
        raise NeuralStyleError(f"the loss became non-finite at step {result.steps}: lower --lr or --style-weight; "
                               f"the last checkpoint is in {checkpoint_dir}")
    save_model(output, trainer.net, trainer.metadata())
    if report:
        write_report(report, {"command": "train", "settings": {**opts, "style": style, "dataset": dataset},
                              "device": str(device), "world_size": world_size, "steps": result.steps,
                              "images_per_second": result.images_per_second,
                              "skipped_files": result.skipped_files, "history": result.history,
                              "stop_reason": result.stop_reason})
    if result.stop_reason == "interrupted":
        click.echo(f"interrupted at step {result.steps}: wrote {output}; resume with --resume "
                   f"{checkpoint_dir / 'last.ckpt'}", err=True)
        sys.exit(EXIT_INTERRUPTED)
    if not quiet:
        click.echo(f"wrote {output} ({result.steps} steps, {result.images_per_second:.2f} images/s on {device}"
                   f"{f', {result.skipped_files} unreadable files skipped' if result.skipped_files else ''})", err=True)


@cli.command()
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="Output file for one input, else a folder (names kept).")
@click.option("--size", type=click.IntRange(min=16), default=None, help="Long side of the output [input size].")
@click.option("--preserve-colors", is_flag=True, help="Keep the input's colours (luminance transfer).")
@click.option("--batch-size", type=click.IntRange(min=1), default=4, show_default=True, help="Video frames per batch.")
@click.option("--device", default="auto", show_default=True, metavar="auto|cpu|cuda|cuda:N|mps")
@click.option("-q", "--quiet", is_flag=True)
def transfer(model_path, inputs, output, size, preserve_colors, batch_size, device, quiet):
    """Stylise images, folders, GIFs and videos with a model from `neural-style train`."""
    from .errors import NeuralStyleError

    try:
        from .core.device import resolve_device
        from .fast.transfer import plan_transfer, transfer_file
        from .fast.model_file import load_model
        from .io.progress import ProgressBar

        pairs = plan_transfer(list(inputs), output)
        model, _ = load_model(model_path, device=resolve_device(device))
        bar = ProgressBar(len(pairs), label="files ", enabled=not quiet)
        for index, (src, dst) in enumerate(pairs):
            frames = transfer_file(model, src, dst, size=size, preserve_colors=preserve_colors, batch_size=batch_size,
                                   on_frame=lambda done, total: bar.update(index, {"frame": done}))
            bar.update(index + 1, force=True)
        bar.close()
        if not quiet:
            click.echo(f"wrote {len(pairs)} file(s) to {output}", err=True)
    except NeuralStyleError as exc:
        _fail(exc)


@cli.command()
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="OUT.onnx (needs neural-style[export]) or OUT.pt2 (torch.export).")
@click.option("--check-image", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Image to compare the exported model with the original on [a random one].")
@click.option("-q", "--quiet", is_flag=True)
def export(model_path, output, check_image, quiet):
    """Export a model from `neural-style train` to ONNX or torch.export, and check it.

    The exported model takes (B, 3, H, W) images in [0, 1] of any size from 8x8 up."""
    from .errors import NeuralStyleError

    try:
        from .fast.export import export_model
        from .io.images import check_output_path, to_tensor
        from .fast.model_file import load_model

        check_output_path(output, inputs=[model_path] + ([check_image] if check_image else []),
                          extensions=(".onnx", ".pt2"), what="export")
        net, _ = load_model(model_path)
        sample = to_tensor(check_image, what="check image") if check_image else None
        result = export_model(net, output, sample=sample)
        if not quiet:
            check = (f"max difference {result['max_abs_diff']:.3g} ({result['checked_with']})"
                     if result["max_abs_diff"] is not None else "not checked: pip install onnxruntime")
            click.echo(f"wrote {output}; {check}", err=True)
    except NeuralStyleError as exc:
        _fail(exc)


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
