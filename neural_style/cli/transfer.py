"""``neural-style transfer``: apply a trained network to images, folders, GIFs and videos."""

from pathlib import Path

import click

from ..settings import TransferSettings
from . import options as opt
from .app import cli, echo, error
from .output import batch_outcome, clear_bar, progress_bar

TRANSFER = TransferSettings


@cli.command()
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=str),
              help="Output file for one input, else a folder (names kept).")
@opt.setting(TRANSFER, "--size", "Long side of the output (>= 16) [input size; inputs of any size, even 1x1, are "
             "taken].")
@click.option("--original-colors", "--preserve-colors", "original_colors", is_flag=True,
              default=TRANSFER.original_colors, help="Keep the input's colours (luminance transfer).")
@opt.setting(TRANSFER, "--batch-size", "Video frames per batch.")
@opt.setting(TRANSFER, "--start", "A video's part: from this time on (seconds, MM:SS or HH:MM:SS).", metavar="TIME")
@opt.setting(TRANSFER, "--duration", "A video's part: this long (seconds, MM:SS or HH:MM:SS) [to the end].",
             metavar="TIME")
@opt.setting(TRANSFER, "--frames", "A video's part: at most N frames [all].", metavar="N")
@opt.setting(TRANSFER, "--precision", "Network precision, as stylize's; auto: bf16 on CPUs that have it natively, "
             "else fp32.")
@opt.device
@opt.report
@opt.quiet
def transfer(model_path, inputs, output, quiet, report, **options):
    """Stylise images, folders, GIFs and videos with a model from `neural-style train`."""
    from ..fast.transfer_run import transfer as run_transfer

    bar = progress_bar(label="files: ", quiet=quiet, unit="files")
    clip = [None]

    def on_frame(index, files, done, total):
        if total > 1:  # a clip: its frames done, frames per second and ETA
            if clip[0] != index:
                clip[0] = index
                bar.restart(total, f"file {index + 1}/{files}, frames: " if files > 1 else "frames: ", "frames")
            bar.update(done)
            return
        if clip[0] is not None or bar.total != files:
            clip[0] = None
            bar.restart(files, "files: ", "files")
        bar.update(index + 1, force=True)

    def on_failure(index, failure):
        clear_bar(bar)
        error(failure["error"])

    try:
        batch = run_transfer(model_path, list(inputs), output, TransferSettings(**options), report=report,
                             on_frame=on_frame, on_failure=on_failure)
    finally:
        bar.close()
    batch_outcome(batch, report)
    if not quiet:
        count = len(batch.records)
        echo(f"wrote {output}" if count == 1 and batch.written[0][1] == Path(output)
             else f"wrote {count} file{'' if count == 1 else 's'} to {output}")
