"""``neural-style export``: a trained network to ONNX or torch.export, checked against the original."""

from pathlib import Path

import click

from . import options as opt
from .app import cli, echo


@cli.command()
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="OUT.onnx (needs neural-style[export]) or OUT.pt2 (torch.export).")
@click.option("--check-image", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Image (at least 8x8 px: exported models take H, W >= 8) to compare the exported model with "
                   "the original on [a random one].")
@opt.report
@opt.quiet
def export(model_path, output, check_image, quiet, report):
    """Export a model from `neural-style train` to ONNX or torch.export, and check it.

    The exported model takes (B, 3, H, W) images in [0, 1] of any size from 8x8 up."""
    from ..fast.export_run import export as run_export

    result = run_export(model_path, output, check_image=check_image, report=report)
    if not quiet:
        check = (f"max difference {result['max_abs_diff']:.3g} ({result['checked_with']})"
                 if result["max_abs_diff"] is not None else "not checked: pip install onnxruntime")
        echo(f"wrote {output}; {check}")
