"""``neural-style restore``: deblur, fill missing pixels and enlarge, under denoise's priors and file rules."""

from pathlib import Path

import click

from ..settings import RestoreSettings
from . import options as opt
from .app import cli
from .denoise import run_files, solver_options

RESTORE = RestoreSettings


@cli.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=str),
              help="Output file for one input; a folder for several (created if missing, names kept).")
@opt.setting(RESTORE, "--blur", "The blur to undo: gaussian:SIGMA, motion:LENGTH,ANGLE (px, degrees), box:SIZE, "
             "or a kernel image (.png, normalised to sum 1) or array (.npy).", metavar="SPEC|FILE")
@opt.setting(RESTORE, "--mask", "Mask image of the input's size: white marks known pixels, black those to fill.",
             type=click.Path(path_type=str), metavar="FILE")
@opt.setting(RESTORE, "--mask-color", "Fill the pixels of exactly this colour (0..255), e.g. a red scribble "
             "over scratches: 255,0,0.", metavar="R,G,B")
@opt.setting(RESTORE, "--upscale", "Enlarge S times (any factor > 1): the input is taken as the antialiased "
             "bicubic reduction of the result (docs/restore.md, 'Method').", metavar="S")
@solver_options(RESTORE)
def restore(inputs, output, reference, report, quiet, jobs, **options):
    """Restore INPUT images: undo a blur, fill missing pixels, enlarge (any of the three), and denoise.

    Minimises fidelity(A x, y) + lambda * R(x) with A = mask . downsampling . blur and R a TV-family
    prior; with none of --blur, --mask, --mask-color, --upscale it is denoise.
    """
    from ..denoising.restore_files import restore_files

    run_files(restore_files, RestoreSettings(**options), inputs, output, reference, report, quiet, jobs)
