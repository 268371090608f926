"""``neural-style denoise``: fidelity + lambda * a TV-family prior, file by file."""

from pathlib import Path

import click

from ..settings import (
    AUTO_MAX_PIXELS,
    DENOISE_ITERATIONS_BY_REGULARIZER,
    RESTORE_AUTO_BEST,
    RESTORE_ITERATIONS_BY_REGULARIZER,
    DenoiseBatchSettings,
    DenoiseSettings,
    RestoreSettings,
)
from . import options as opt
from .app import cli, echo, error, say, warn
from .output import batch_outcome, clear_bar, count, progress_bar

DENOISE = DenoiseSettings


def solver_options(source):
    """The options denoise and restore share, their defaults from ``source`` (a settings dataclass)."""
    limits = DENOISE_ITERATIONS_BY_REGULARIZER if source is DENOISE else RESTORE_ITERATIONS_BY_REGULARIZER
    decorators = [
        opt.setting(source, "--regularizer", _PRIOR_HELP[source] +
                    "; tv: beta-order total variation; tgv: total generalised variation of order 2 (no staircases on "
                    "smooth shading; slower); nltv: non-local TV (differences to similar patches: keeps texture; "
                    "slower)."),
        opt.setting(source, "--tv-beta", "Order of the total variation (1: ROF). Below 1 is non-convex."),
        opt.setting(source, "--tv-weight", _LAMBDA_HELP[source], metavar="auto|rule|FLOAT"),
        opt.setting(source, "--sigma", "Noise standard deviation on the 0..255 scale; auto: estimated.", scale=255,
                    metavar="auto|FLOAT"),
        opt.setting(source, "--fidelity", "Data term; l1 for impulse (salt-and-pepper) noise."),
        opt.setting(source, "--coupling", "Colour TV: all channels under one root, or per channel."),
        opt.setting(source, "--optimizer", _OPTIMIZER_HELP[source]),
        opt.setting(source, "--iterations", "Iteration limit [" + "; ".join(
            f"{regularizer}: " + ", ".join(f"{solver} {n}" for solver, n in per.items())
            for regularizer, per in limits.items()) + "]."),
        opt.setting(source, "--tolerance", "Stop when the relative change per iteration falls below this."),
        opt.device,
        click.option("--reference", type=click.Path(path_type=Path), default=None,
                     help="Clean image (or folder of them, matched by name) of the output's size: print PSNR "
                          "and SSIM."),
        opt.setting(DenoiseBatchSettings, "--jobs", "Work on files in N processes, one thread each; auto: one per "
                    "core (docs/denoise.md, 'Threads and worker processes').", metavar="N|auto"),
        opt.report,
        opt.quiet,
    ]

    def apply(command):
        for decorator in reversed(decorators):
            command = decorator(command)
        return command

    return apply


def _restore_best() -> str:
    """restore's automatic prior in words (:data:`~neural_style.settings.RESTORE_AUTO_BEST`)."""
    priors = set(RESTORE_AUTO_BEST.values())
    if len(priors) == 1:
        return f"{priors.pop()} (the best measured for every degradation)"
    return "per degradation, the best measured prior (" + ", ".join(
        f"{kind}: {prior}" for kind, prior in RESTORE_AUTO_BEST.items()) + "; the first that applies)"


_PRIOR_HELP = {
    DENOISE: f"auto: nltv (the best measured) up to {AUTO_MAX_PIXELS / 1e6:g} megapixels, tv above it and for "
             "another beta, fidelity or optimizer",
    RestoreSettings: f"auto: {_restore_best()} up to {AUTO_MAX_PIXELS / 1e6:g} megapixels of output, tv above it "
                     "and for another beta, fidelity or optimizer",
}
_OPTIMIZER_HELP = {
    DENOISE: "auto: primal-dual (Chambolle-Pock) for beta 1 with l2, else L-BFGS.",
    RestoreSettings: "auto: for beta 1 with l2, Chambolle-Pock's primal-dual algorithm (ADMM instead for tv under "
                     "--blur without --upscale: the same problem in fewer iterations, docs/restore.md 'Method'); "
                     "for another beta or fidelity, L-BFGS. primal-dual: Chambolle-Pock there too.",
}
_LAMBDA_HELP = {
    DENOISE: "Lambda; auto: per image by SURE (primal-dual solver; docs/denoise.md, 'Lambda per image'), else the "
             "rule; rule: the power law in sigma (docs/denoise.md, 'The lambda rule'); with --fidelity l1 or "
             "charbonnier, 0.85 (docs/denoise.md, 'Impulse noise').",
    RestoreSettings: "Lambda; auto: per image by the discrepancy principle (docs/restore.md, 'Lambda'); rule: its "
                     "start, a power law in sigma. Without --blur, --mask, --mask-color or --upscale: as denoise.",
}


@cli.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=str),
              help="Output file for one input; a folder for several (created if missing, names kept).")
@solver_options(DENOISE)
def denoise(inputs, output, reference, report, quiet, jobs, **options):
    """Remove noise from INPUT images by minimising fidelity + lambda * beta-order TV."""
    from ..denoising.runner import denoise_files

    run_files(denoise_files, DenoiseSettings(**options), inputs, output, reference, report, quiet, jobs)


def run_files(run, settings, inputs, output, reference, report, quiet, jobs) -> None:
    """``run`` (denoise_files or restore_files) over the inputs, with a progress bar per file, a line per
    file written or failed, the mean scores, and the batch's exit status."""
    from ..denoising.runner import plan_outputs

    pairs = plan_outputs(list(inputs), output)
    bar = progress_bar(quiet=quiet, limit=True)  # the file's iterations (a solver stops when it converges)
    done, last, solves = [0], [0], [0]  # files done, the last iteration seen, the file's solves so far

    def on_step(step):
        if step.iteration <= last[0] or bar.total != step.iterations:  # a new solve: its count starts again
            solves[0] += 1  # a lambda search, or NLTV's guide then its own: several solves per file
            bar.restart(step.iterations, f"file {done[0] + 1}/{len(pairs)}, solve {solves[0]}: ")
        last[0] = step.iteration
        bar.update(step.iteration, step.losses)  # primal-dual: the change per iteration its stop is tested on

    def on_file(index, record):
        done[0], solves[0] = index, 0
        if not quiet:
            clear_bar(bar)
            echo(_denoised_line(record))

    def on_failure(index, failure):
        done[0], solves[0] = index, 0
        clear_bar(bar)
        error(failure["error"])

    try:
        batch = run(pairs, settings, reference=reference, report=report, on_file=on_file, on_failure=on_failure,
                    warn=warn, jobs=jobs, callback=on_step)
    finally:
        bar.close()
    if batch.mean_psnr is not None and not quiet:  # --quiet: no summary either
        say(f"mean PSNR {batch.mean_psnr:.2f} dB, mean SSIM {batch.mean_ssim:.4f} "
            f"over {count(len(batch.records), 'image')}")
    batch_outcome(batch, report)


def _denoised_line(record) -> str:
    from ..denoising.discrepancy import at_floor  # here, not at the top: --help must not import torch

    scores = f", PSNR {record['psnr']:.2f} dB, SSIM {record['ssim']:.4f}" if "psnr" in record else ""
    if record["optimizer"] == "none":  # restore: a mask with nothing to fill, and nothing else asked
        return f"{record['input']}: nothing to restore: the image given back as it was{scores}"
    method = ""
    if record["tv_weight_method"] == "rule":
        method = " (rule)"
    elif record["tv_weight_method"] == "sure" and record.get("sure") is not None:
        method = f" (SURE {record['sure']:.3g})"
    elif record["tv_weight_method"] == "discrepancy":
        method = (" (discrepancy; at its floor: the residual stays above the target; sigma too small or too few "
                  "iterations?)") if at_floor(record["tv_weight"], record["sigma"]) else " (discrepancy)"
    size = record.get("output_size")
    enlarged = f" -> {size['width']}x{size['height']} px" if size and size != record["size"] else ""
    line = (f"{record['input']}{enlarged}: {record['regularizer']} by {record['optimizer']}, "
            f"sigma {record['sigma'] * 255:.2f}"
            f"{' (estimated)' if record['sigma_estimated'] else ''}, lambda {record['tv_weight']:.4g}{method}, "
            f"{record['iterations']} iterations{_all_solves(record)}, {record['seconds']:.2f} s")
    return line + scores


def _all_solves(record) -> str:
    """`` (N in all, S solves)`` when the last solve's iterations are not all the file took (restore)."""
    if record.get("solves", 1) <= 1:
        return ""
    return f" ({record['iterations_total']} in all {record['solves']} solves)"
