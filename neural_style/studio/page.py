"""The studio's page, laid out with Gradio: one tab per job (stylize, denoise, fast networks).

Each Run button is one event of the shared ``"job"`` queue (one job at a time: the GPU's memory;
the others wait and the page shows their place), each Stop button stops its tab's job outside the
queue. The handlers (:mod:`.handlers`) know nothing of Gradio; what is here maps their views to
components and their errors to the page's one-line error notices.
"""

import contextlib
import functools
import html
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterator, Optional

import gradio as gr
import numpy as np
import pandas as pd

from ..errors import NeuralStyleError, one_line, spelled
from ..settings import (
    COLORS,
    FIDELITIES,
    OPTIMIZERS,
    REGULARIZERS,
    DenoiseSettings,
    StylizeSettings,
    TrainSettings,
    TransferSettings,
)
from . import handlers
from .jobs import Job


@dataclass
class Sessions:
    """Each browser session's running job, and the folder jobs write their results in (everything in it
    is removed when the server stops)."""

    root: Path
    run_on: Optional[Callable] = None  # where jobs run (the server's main thread; None: a thread each)
    jobs: Dict[str, Job] = field(default_factory=dict)

    @contextlib.contextmanager
    def job_folder(self, session: str) -> Iterator[Path]:
        """A new folder for one job's results, removed when the job's action ends: the page has its own
        copies of the results to download by then (Gradio copies what an action gives it). A job still
        running then (its page was closed) is stopped first."""
        folder = Path(tempfile.mkdtemp(prefix="job-", dir=self.root))
        try:
            yield folder
        finally:  # the action ended, or the page went away mid-run: a run nobody watches is stopped
            job = self.jobs.pop(session, None)
            if job is not None:
                job.stop()
                job.join(60)
            shutil.rmtree(folder, ignore_errors=True)

    def stop(self, session: str) -> None:
        job = self.jobs.get(session)
        if job is not None:
            job.stop()

    def stop_all(self, wait: float = 30.0) -> None:
        """Stop every running job and wait (at most ``wait`` seconds) until they have kept their results."""
        for job in list(self.jobs.values()):
            job.stop()
        for job in list(self.jobs.values()):
            job.join(wait)


#: Every term's colour, the same in every plot.
TERM_COLOURS = {"content": "#1f77b4", "style": "#ff7f0e", "tv": "#2ca02c"}


def _plot(rows) -> Optional[pd.DataFrame]:
    """The loss history as the plot takes it: log10 of each term (they differ by orders of magnitude); None
    before the first step (an empty frame leaves the plot without lines for the rest of the run)."""
    if not rows:
        return None
    frame = pd.DataFrame(rows, columns=["iteration", "term", "loss"])
    losses = frame["loss"].astype(float)
    positive = losses[losses > 0]
    floor = positive.min() / 10 if len(positive) else 1e-3  # a term at 0 (content at the first step): drawn a
    frame = frame.assign(loss=np.log10(losses.clip(lower=floor)))  # decade under the lowest, not at -inf
    return frame.astype({"iteration": int})


def _stylize_tab(sessions: Sessions, base: StylizeSettings) -> None:
    with gr.Row():
        with gr.Column(scale=1):
            content = gr.File(label="Content image", file_types=["image"], elem_id="stylize-content")
            styles = gr.File(file_count="multiple", file_types=["image"], label="Style images",
                             elem_id="stylize-styles")
            blend = gr.Textbox(label="Blend weights (one per style image, e.g. 1,2)", elem_id="stylize-blend")
            with gr.Row():
                size = gr.Number(value=base.size, precision=0, label="Size (long side, px)", elem_id="stylize-size")
                iterations = gr.Textbox(label="Iterations", placeholder="auto: 300/150/200 by scale",
                                        elem_id="stylize-iterations")
                optimizer = gr.Dropdown(list(OPTIMIZERS), value=base.optimizer, label="Optimizer")
            with gr.Row():
                content_weight = gr.Number(value=base.content_weight, label="Content weight")
                style_weight = gr.Number(value=base.style_weight, label="Style weight")
                tv_weight = gr.Number(value=base.tv_weight, label="TV weight")
                tv_beta = gr.Number(value=base.tv_beta, label="TV beta")
            with gr.Accordion("More", open=False):
                content_layers = gr.Textbox(value=str(base.content_layers), label="Content layers")
                style_layers = gr.Textbox(value=str(base.style_layers), label="Style layers")
                scales = gr.Textbox(label="Scales (long sides, e.g. 256,512; none: one scale)", placeholder="auto")
                tile_size = gr.Textbox(value=str(base.tile_size), label="Tile size")
                colors = gr.Dropdown(list(COLORS), value=base.colors, label="Colors")
                masks = gr.File(file_count="multiple", file_types=["image"], label="Region masks (one per style)")
            with gr.Row():
                run = gr.Button("Run", variant="primary", elem_id="stylize-run")
                stop = gr.Button("Stop", variant="stop", elem_id="stylize-stop")
        with gr.Column(scale=1):
            image = gr.Image(label="Image", interactive=False, format="png", elem_id="stylize-preview", height=360,
                             buttons=["download", "fullscreen"])
            status = gr.Markdown(elem_id="stylize-status")
            plot = gr.LinePlot(None, x="iteration", y="loss", color="term", label="Losses (log10)",
                               y_title="log10 loss", color_map=TERM_COLOURS)
            files = gr.File(label="Downloads (full-size PNG, JSON report)", file_count="multiple", interactive=False,
                            elem_id="stylize-files")

    @_one_line
    def start(content, styles, blend, size, iterations, optimizer, content_weight, style_weight, tv_weight, tv_beta,
              content_layers, style_layers, scales, tile_size, colors, masks, request: gr.Request):
        values = dict(style_blend_weights=blend, size=size, iterations=iterations, optimizer=optimizer,
                      content_weight=content_weight, style_weight=style_weight, tv_weight=tv_weight, tv_beta=tv_beta,
                      content_layers=content_layers, style_layers=style_layers, scales=scales, tile_size=tile_size,
                      colors=colors, style_masks=list(masks) if masks else None)
        with sessions.job_folder(_key(request, "stylize")) as workdir:  # removed when the job has ended
            job = _started(lambda: handlers.stylize_job(content, styles, values, base, workdir, run_on=sessions.run_on),
                           handlers.STYLIZE_LABELS)
            sessions.jobs[_key(request, "stylize")] = job
            for view in handlers.views(job, handlers.stylize_finish(workdir), handlers.STYLIZE_TERMS):
                _raise(view)
                yield view.preview, f"**{view.status}**", _plot(view.plot), view.files or None

    run.click(start, [content, styles, blend, size, iterations, optimizer, content_weight, style_weight, tv_weight,
                      tv_beta, content_layers, style_layers, scales, tile_size, colors, masks],
              [image, status, plot, files], concurrency_id="job", concurrency_limit=1, show_progress="full")
    stop.click(_halt(sessions, "stylize"), None, None, queue=False)


def _denoise_tab(sessions: Sessions, base: DenoiseSettings) -> None:
    with gr.Row():
        with gr.Column(scale=1):
            noisy = gr.File(label="Noisy image (kept as it is: bit depth, alpha, metadata)", file_types=["image"],
                            elem_id="denoise-input")
            reference = gr.File(label="Clean reference (optional: PSNR and SSIM)", file_types=["image"],
                                elem_id="denoise-reference")
            with gr.Row():
                regularizer = gr.Dropdown(list(REGULARIZERS), value=base.regularizer, label="Regularizer")
                tv_beta = gr.Number(value=base.tv_beta, label="TV beta")
                fidelity = gr.Dropdown(list(FIDELITIES), value=base.fidelity, label="Fidelity")
            with gr.Row():
                sigma = gr.Textbox(value="auto", label="Sigma (0..255, auto: estimated)", elem_id="denoise-sigma")
                tv_weight = gr.Textbox(value=str(base.tv_weight), label="Lambda (auto: SURE; rule; a number)")
                iterations = gr.Textbox(label="Iterations", placeholder="auto")
            with gr.Row():
                run = gr.Button("Run", variant="primary", elem_id="denoise-run")
                stop = gr.Button("Stop", variant="stop", elem_id="denoise-stop")
        with gr.Column(scale=1):
            compare = gr.ImageSlider(label="Before / after", interactive=False, format="png", elem_id="denoise-compare")
            status = gr.Markdown(elem_id="denoise-status")
            files = gr.File(label="Downloads (result, JSON report)", file_count="multiple", interactive=False,
                            elem_id="denoise-files")

    @_one_line
    def start(noisy, reference, regularizer, tv_beta, fidelity, sigma, tv_weight, iterations, request: gr.Request):
        values = dict(regularizer=regularizer, tv_beta=tv_beta, fidelity=fidelity, sigma=sigma, tv_weight=tv_weight,
                      iterations=iterations)
        with sessions.job_folder(_key(request, "denoise")) as workdir:  # removed when the job has ended
            job = _started(lambda: handlers.denoise_job(noisy, reference, values, base, workdir,
                                                        run_on=sessions.run_on), handlers.DENOISE_LABELS)
            sessions.jobs[_key(request, "denoise")] = job
            before = handlers.preview_file(noisy)
            for view in handlers.views(job, handlers.denoise_finish(workdir, noisy), handlers.DENOISE_TERMS):
                _raise(view)  # the image as it is being denoised, against the input, from the first step on
                pair = (before, view.preview) if before is not None and view.preview is not None else None
                yield pair, f"**{view.status}**", view.files or None

    run.click(start, [noisy, reference, regularizer, tv_beta, fidelity, sigma, tv_weight, iterations],
              [compare, status, files], concurrency_id="job", concurrency_limit=1, show_progress="full")
    stop.click(_halt(sessions, "denoise"), None, None, queue=False)


def _fast_tab(sessions: Sessions, base: TransferSettings, train_base: TrainSettings, models: Optional[Path],
              dataset: Optional[Path], device: str):
    """The fast-network tab; its model list and the folder it lists."""
    folder = models or sessions.root / "models"  # without --models, trained networks live as long as the server
    with gr.Row():
        with gr.Column(scale=1):
            gr.Markdown("**Apply a network** (the model files of the studio's `--models` folder)"
                        + ("" if models else ": not given, so only the networks trained here are offered"))
            model = gr.Dropdown(handlers.model_names(folder), label="Model", elem_id="fast-model")
            source = gr.File(label="Image, GIF or short clip", elem_id="fast-input")
            with gr.Row():
                size = gr.Textbox(label="Size (long side, px; empty: the input's)", elem_id="fast-size")
                original_colors = gr.Checkbox(label="Keep the input's colours")
            with gr.Row():
                apply = gr.Button("Apply", variant="primary", elem_id="fast-apply")
            gr.Markdown("**Train a network** on the studio's `--dataset` folder"
                        + ("" if dataset else " (not given: start the studio with `--dataset FOLDER`)"))
            style = gr.File(label="Style image", file_types=["image"], elem_id="train-style")
            with gr.Row():
                name = gr.Textbox(label="Model name", placeholder="e.g. starry-night", elem_id="train-name")
                image_size = gr.Number(value=train_base.image_size, precision=0, label="Size (crops, px)",
                                       elem_id="train-size")
                iterations = gr.Textbox(label="Iterations", value="1000", elem_id="train-iterations")
                width = gr.Number(value=train_base.width, label="Width")
                checkpoint_every = gr.Number(value=100, precision=0, label="Sample every (steps)",
                                             elem_id="train-every")
            with gr.Row():
                train = gr.Button("Train", variant="primary", elem_id="train-run")
                resume = gr.Button("Resume", elem_id="train-resume")
                stop = gr.Button("Stop", variant="stop", elem_id="fast-stop")
        with gr.Column(scale=1):
            image = gr.Image(label="Result / latest sample", interactive=False, format="png", elem_id="fast-preview",
                             buttons=["download", "fullscreen"],
                             height=360)
            status = gr.Markdown(elem_id="fast-status")
            plot = gr.LinePlot(None, x="iteration", y="loss", color="term", label="Training losses (log10)",
                               y_title="log10 loss", color_map=TERM_COLOURS)
            files = gr.File(label="Downloads", file_count="multiple", interactive=False, elem_id="fast-files")

    @_one_line
    def start_apply(model, source, size, original_colors, request: gr.Request):
        with sessions.job_folder(_key(request, "fast")) as workdir:  # removed when the job has ended
            job = _started(lambda: handlers.transfer_job(model, folder, source, dict(size=size,
                                                         original_colors=original_colors), base, workdir,
                                                         run_on=sessions.run_on), handlers.STYLIZE_LABELS)
            sessions.jobs[_key(request, "fast")] = job
            for view in handlers.views(job, handlers.transfer_finish(workdir), (), unit="frame"):
                _raise(view)
                yield view.preview, f"**{view.status}**", _plot([]), view.files or None, gr.update()

    @_one_line
    def start_train(style, name, image_size, iterations, width, every, again, request: gr.Request):
        with sessions.job_folder(_key(request, "fast")) as workdir:  # removed when the job has ended
            values = dict(image_size=image_size, iterations=iterations, width=width, checkpoint_every=every)
            job = _started(lambda: handlers.train_job(style, name, folder, dataset, values, train_base, again, workdir,
                                                      device, run_on=sessions.run_on), handlers.TRAIN_LABELS)
            sessions.jobs[_key(request, "fast")] = job
            checkpoints, output = folder / f"{name}-checkpoints", folder / f"{name}.pth"
            for view in handlers.views(job, handlers.train_finish(checkpoints, output, workdir), handlers.TRAIN_TERMS,
                                       unit="step", picture=handlers.latest_sample(checkpoints)):
                _raise(view)
                yield (view.preview, f"**{view.status}**", _plot(view.plot), view.files or None,
                       gr.update(choices=handlers.model_names(folder)) if view.done else gr.update())

    outputs = [image, status, plot, files, model]
    apply.click(start_apply, [model, source, size, original_colors], outputs, concurrency_id="job",
                concurrency_limit=1, show_progress="full")
    for button, again in ((train, False), (resume, True)):
        button.click(_training(start_train, again), [style, name, image_size, iterations, width, checkpoint_every],
                     outputs, concurrency_id="job", concurrency_limit=1, show_progress="full")
    stop.click(_halt(sessions, "fast"), None, None, queue=False)
    return model, folder


def _training(start: Callable, again: bool) -> Callable:
    """The Train (``again`` False) or Resume (True) button's action."""
    def run(style, name, image_size, iterations, width, every, request: gr.Request):
        yield from start(style, name, image_size, iterations, width, every, again, request)
    return run


def _one_line(handler: Callable) -> Callable:
    """A page action whose unexpected errors (bugs) are one line on the page, as the command line says them,
    never a traceback in the page or the terminal."""
    @functools.wraps(handler)
    def run(*args, **kwargs):
        try:
            yield from handler(*args, **kwargs)
        except gr.Error:
            raise
        except Exception as exc:
            raise _error(f"internal error: {one_line(exc, 200)}") from None
    return run


def _started(make: Callable[[], Job], labels: Dict[str, str]) -> Job:
    """The job ``make`` starts, or its one-line refusal as the page's error notice (settings named by the
    tab's ``labels``)."""
    try:
        return make()
    except NeuralStyleError as exc:
        raise _error(spelled(exc, handlers.labeller(labels))) from None


def _raise(view: handlers.View) -> None:
    """A view's error as the page's one-line error notice."""
    if view.error:
        raise _error(view.error)


def _error(message: str) -> gr.Error:
    """The page's error notice: stays until closed, shown as text (a message may hold ``<...>``), the
    server's temporary folders left out of the paths it names (the user knows the file by its name)."""
    shown = re.sub(r"(?:/[^/\s':]+)*/neural-style-studio-[^/\s':]+/(?:[^\s':]+/)*", "", message)
    return gr.Error(html.escape(shown), duration=None, print_exception=False)


def _halt(sessions: Sessions, tab: str) -> Callable:
    """A tab's Stop button: stop this browser's job of that tab (it keeps the best result so far)."""
    def halt(request: gr.Request):
        sessions.stop(_key(request, tab))
    return halt


def _key(request: gr.Request, tab: str) -> str:
    """A tab's job in one browser session."""
    return f"{request.session_hash}/{tab}"


def build(sessions: Sessions, *, device: str = "auto", weights: Optional[str] = None,
          models: Optional[Path] = None, dataset: Optional[Path] = None) -> gr.Blocks:
    """The page: its tabs over ``sessions``; every run on ``device`` with the loss network's ``weights``;
    the fast-network tab's model files in ``models``, its training photos in ``dataset``."""
    with gr.Blocks(title="neural-style studio", analytics_enabled=False, delete_cache=(600, 3600)) as page:
        gr.Markdown("## neural-style studio")
        with gr.Tab("Stylize", id="stylize"):
            _stylize_tab(sessions, StylizeSettings(device=device, weights=weights))
        with gr.Tab("Denoise", id="denoise"):
            _denoise_tab(sessions, DenoiseSettings(device=device))
        with gr.Tab("Fast networks", id="fast"):
            model, folder = _fast_tab(sessions, TransferSettings(device=device), TrainSettings(weights=weights),
                                      models, dataset, device)
        # the model files as they are now (written by the command line, or trained in another tab)
        page.load(lambda: gr.update(choices=handlers.model_names(folder)), None, model, queue=False)
    return page
