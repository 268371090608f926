"""``neural-style train``: a fast style network for one style (Johnson et al.), torchrun-ready."""

import sys
from pathlib import Path

import click

from .. import signals
from ..settings import TrainOutputs, TrainSettings
from . import options as opt
from .app import cli, echo, warn
from .output import count, progress_bar

TRAIN = TrainSettings


@cli.command()
@click.argument("style", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dataset", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder (any tree) of training photos.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Model file to write (.pth).")
@opt.setting(TRAIN, "--image-size", "Long side the training photos are cropped to (--image-size, pytorch/examples' "
             "name, works too).", flags=("--size", "--image-size"))
@opt.setting(TRAIN, "--batch-size")
@opt.setting(TRAIN, "--epochs", "Passes over the dataset [1].")
@opt.setting(TRAIN, "--iterations", "Optimisation steps (overrides --epochs).")
@opt.setting(TRAIN, "--lr", "Adam.")
@opt.setting(TRAIN, "--content-weight", "Higher than stylize's 1: a network cannot fit each photo as an optimiser "
             "does.")
@opt.setting(TRAIN, "--style-weight")
@opt.setting(TRAIN, "--tv-weight")
@opt.setting(TRAIN, "--tv-beta")
@opt.setting(TRAIN, "--style-size", "Long side of the style image in pixels, as pytorch/examples' [--style-scale "
             "times --size].")
@opt.setting(TRAIN, "--style-scale", "Long side of the style image relative to --size, as stylize's --style-scale.")
@opt.setting(TRAIN, "--width", "Channel multiplier of the network (0.5: 4x smaller).")
@opt.setting(TRAIN, "--antialias", "Anti-aliased network: blur before its stride-2 convolutions, bilinear "
             "upsampling (less flicker on video: docs/fast.md).", is_flag=True)
@opt.layers(TRAIN, "--content-layers", "Content")
@opt.layers(TRAIN, "--style-layers", "Style")
@opt.setting(TRAIN, "--model")
@opt.setting(TRAIN, "--weights", "As for stylize.", metavar="torchvision|PATH")
@opt.setting(TRAIN, "--weights-format")
@opt.setting(TRAIN, "--seed")
@opt.device
@opt.setting(TRAIN, "--precision", "Network precision, as stylize's (fp32 here by default: training in bf16 is not "
             "measured); fp16 (GPU) is float16 with a gradient scaler, what --amp is.")
@click.option("--amp", is_flag=True, hidden=True, help="The former name of --precision fp16.")
@opt.setting(TRAIN, "--checkpoint-every", metavar="N")
@opt.setting(TRAIN, "--keep-checkpoints", "Keep the newest N step-*.ckpt files (0: all); last.ckpt always stays.",
             metavar="N")
@opt.setting(TRAIN, "--temporal-weight", "Weight of a temporal stability term against flicker in videos: the "
             "output of a randomly moved photo against the moved output (0: none; measured in docs/fast.md: 400 with "
             "--antialias, 250 without; each step runs the network on twice the batch). Not stylize's "
             "--temporal-weight, which ties each frame of a clip to the previous one by optical flow.")
@opt.setting(TRAIN, "--ema-decay", "Write the exponential moving average of the weights, about 1/(1-decay) "
             "steps, instead of the last step's (0: off; at most 0.9999; docs/fast.md: 0.995 measured).", metavar="DECAY")
@click.option("--checkpoint-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="[<output stem>-checkpoints/ beside the output]")
@click.option("--resume", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Checkpoint to resume.")
@opt.report
@opt.quiet
def train(style, dataset, output, device, checkpoint_dir, resume, report, quiet, amp, **options):
    """Train a fast style network for STYLE on the photos in --dataset (Johnson et al.)."""
    if amp:  # the former name of --precision fp16
        given = click.get_current_context().get_parameter_source("precision") == click.core.ParameterSource.COMMANDLINE
        if given and options["precision"] != "fp16":
            raise click.UsageError(f"--amp is --precision fp16, not {options['precision']}: give one of them")
        options["precision"] = "fp16"
    from ..fast.train_run import TrainCallbacks
    from ..fast.train_run import train as run_train

    bar = progress_bar(quiet=quiet, unit="steps")
    first = []

    def on_step(step):
        if not first:  # a resumed run starts past step 0
            first.append(step.iteration - 1)
            bar.total = step.iterations - first[0]
        bar.update(step.iteration - first[0], {"content": step.losses["content"], "style": step.losses["style"],
                                               "img/s": step.images_per_second})

    try:
        run = run_train(style, dataset, output, TrainSettings(**options),
                        TrainOutputs(checkpoint_dir=checkpoint_dir, resume=resume, report=report), device=device,
                        callbacks=TrainCallbacks(on_step=on_step, warn=warn, info=None if quiet else echo),
                        download_progress=not quiet)
    finally:
        bar.close()
    if run.rank == 0:
        _outcome(run, output, report, quiet)


def _outcome(run, output, report, quiet):
    from ..core.stop import StopReason
    from ..errors import NeuralStyleError

    result = run.result
    if result.stop_reason == StopReason.NON_FINITE:
        kept = (f"the last checkpoint is {run.last_checkpoint}" if run.last_checkpoint.is_file() else
                "no checkpoint was written yet")
        raise NeuralStyleError(f"the loss became non-finite at step {result.steps}: lower --lr or --style-weight; "
                               f"{kept}")
    if result.stop_reason == StopReason.INTERRUPTED:
        wrote = f"wrote {output}" if run.model_written else "no step finished: wrote no model"
        resume = (f"resume with --resume {run.last_checkpoint}" if run.last_checkpoint.is_file() else
                  "no checkpoint was written yet")
        echo(f"{signals.stop_word()} at step {result.steps}: {wrote}; {resume}")
        sys.exit(signals.exit_code())
    if not quiet:
        names = ", ".join(Path(p).name for p in result.skipped[:3]) + (", ..." if result.skipped_files > 3 else "")
        where = f"; all listed in {report}" if report else ""
        skipped = (f", {count(result.skipped_files, 'unreadable file')} skipped: {names}{where}"
                   if result.skipped_files else "")
        speed = (f"{result.images_per_second:.2f} images/s on {run.device}" if result.steps > run.start_step else
                 "no step trained")
        echo(f"wrote {output} ({count(result.steps, 'step')}, {speed}{skipped})")
