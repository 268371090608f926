"""The page's actions as plain generators, without Gradio: each checks what the page sent with the
rules the command line uses, starts a :class:`~neural_style.studio.jobs.Job` on a runner, and yields a
:class:`View` of it at most every half second, then the finished one with its downloads."""

import math
import time
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence

import numpy as np
import torch
from PIL import Image

from ..errors import InputError, setting
from ..io.imagedata import check_size, open_image
from ..io.progress import format_duration
from ..rules import from_text, rule_of, validate
from .jobs import Job, Snapshot

#: The long side of the preview the page shows while a run goes on (the result is written full size).
PREVIEW_SIDE = 512
#: The pixels an uploaded image may have (its header is read before anything is decoded).
MAX_UPLOAD_PIXELS = 50_000_000


@dataclass
class View:
    """What the page shows of a job.

    Attributes:
        preview: the current image, (h, w, 3) uint8, its long side at most :data:`PREVIEW_SIDE`; None: none yet.
        plot: the loss history, one row per step and term: ``{"iteration", "term", "loss"}``.
        status: one line: where the run is (scale, iteration, losses, ETA), or how it ended.
        files: the downloads once the run has ended (full-size result, JSON report).
        error: the one-line message of an error that ended the run (None: none).
        done: whether the run has ended.
        before: what the result is compared with (denoise: the noisy image), as ``preview``; None: nothing.
    """

    preview: Optional[np.ndarray] = None
    plot: List[Dict[str, Any]] = field(default_factory=list)
    status: str = ""
    files: List[str] = field(default_factory=list)
    error: Optional[str] = None
    done: bool = False
    before: Optional[np.ndarray] = None


#: How each tab labels the settings it shows where the label is not the name (``style_weight``: Style weight).
STYLIZE_LABELS = {"tv_weight": "TV weight", "tv_beta": "TV beta", "style_blend_weights": "Blend weights",
                  "style_masks": "Region masks"}
DENOISE_LABELS = {"tv_weight": "Lambda", "tv_beta": "TV beta"}
TRAIN_LABELS = {"image_size": "Size", "checkpoint_every": "Sample every", "tv_weight": "TV weight"}


def labeller(labels: Mapping[str, str]) -> Callable[[str], str]:
    """How a tab names a setting in a message: its label there (a message reads "use a smaller Size")."""
    return lambda name: labels.get(name, name.replace("_", " ").capitalize())



def settings_from(base, values: Mapping[str, Any]):
    """``base`` (a settings dataclass) with the page's ``values``: text is read as the command line reads
    it (:func:`~neural_style.rules.from_text`: ``1,2`` a list, ``auto`` a word), an empty field is the
    default; then every rule is checked.

    Raises:
        InputError: a value a rule refuses, in the words the command line uses.
    """
    known = {f.name for f in fields(base)}
    changes = {}
    for name, value in values.items():
        if name not in known:
            raise TypeError(f"{type(base).__name__} has no field {name!r}")
        if value is None:  # an emptied field of the page: the default
            continue
        check = rule_of(type(base), name)
        if isinstance(value, str):
            value = value.strip()
            if not value:
                continue
            value = from_text(check, value) if check is not None and value not in check.choices else value
        elif isinstance(value, float) and value.is_integer() and check is not None and check.kind == "count":
            value = int(value)  # a number field of the page gives floats; a count (size: 128.0) is an int
        changes[name] = value
    return validate(replace(base, **changes))


def check_upload(path, what: str, max_pixels: int = MAX_UPLOAD_PIXELS) -> Path:
    """An uploaded image's path, once its header says it is an image of at most ``max_pixels`` pixels
    (nothing is decoded).

    Raises:
        InputError: no file, not an image, or too many pixels: one line naming ``what``.
    """
    if not path:
        raise InputError(f"no {what}: upload one")
    try:
        with open_image(path) as image:
            check_size(image.size, what, max_pixels)
    except InputError:
        raise
    except Exception as exc:  # Pillow's errors for what is not an image
        raise InputError(f"the {what} is not an image Pillow can read ({type(exc).__name__}): upload a PNG, JPEG, "
                         "TIFF or WebP") from exc
    return Path(path)


def preview(image: Optional[torch.Tensor]) -> Optional[np.ndarray]:
    """A (1, C, H, W) image in [0, 1] (C 3, or 1 for grey) as (h, w, 3) uint8 for the page, its long side
    at most :data:`PREVIEW_SIDE`.

    Made with NumPy and Pillow, not torch: this runs in the page's thread while the run computes, and a
    torch operation there starts a second team of OpenMP threads that spin between operations, taking
    the run's cores (a stylize run took 1.23x as long with torch previews: benchmarks/studio_overhead.py)."""
    if image is None:
        return None
    frame = image.detach()[0, :3].cpu()
    values = frame.numpy() if frame.dtype == torch.float32 else frame.float().numpy()
    pixels = np.round(np.clip(values, 0, 1) * 255).astype(np.uint8).transpose(1, 2, 0)
    picture = Image.fromarray(pixels[..., 0] if pixels.shape[2] < 3 else pixels).convert("RGB")  # grey: one channel
    if max(picture.size) > PREVIEW_SIDE:
        picture.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE), Image.Resampling.LANCZOS)
    return np.asarray(picture)


def preview_file(path) -> Optional[np.ndarray]:
    """An image file (any bit depth, grey or colour) as :func:`preview` shows it; None when it is not there."""
    from ..io.decode import read_image, to_tensor

    if path is None or not Path(path).is_file():
        return None
    return preview(to_tensor(read_image(path, what="image"), channels=3))


def losses_of(step) -> Dict[str, float]:
    """A step's loss terms for the plot (the total and the terms that are not zero)."""
    return {"iteration": step.iteration,
            **{k: float(v) for k, v in step.losses.items() if isinstance(v, (int, float)) and math.isfinite(v)}}


def progress_line(snap: Snapshot, unit: str = "iteration") -> str:
    """Where a run is: ``scale 2/3, 256 px: iteration 40/100 · content 1.2 · style 3.4 · ETA 0:12``."""
    step = snap.step
    if step is None:
        return "starting (loading the network and the inputs)"
    where = f"scale {step.scale[0]}/{step.scale[1]}, {step.scale[2]} px: " if step.scale else ""
    losses = "".join(f" · {k} {v:.4g}" for k, v in step.losses.items() if k != "total")
    eta = step.elapsed / step.iteration * (step.iterations - step.iteration) if step.iteration else 0
    return f"{where}{unit} {step.iteration}/{step.iterations}{losses} · ETA {format_duration(eta)}"


def plot_rows(history: Sequence[Dict[str, float]], terms: Sequence[str]) -> List[Dict[str, Any]]:
    """The loss history as the rows a line plot takes, one per step and term."""
    return [{"iteration": h["iteration"], "term": term, "loss": h[term]} for h in history for term in terms
            if term in h]


def views(job: Job, finish: Callable[[Snapshot], View], terms: Sequence[str], every: float = 0.5, *,
          unit: str = "iteration", picture: Optional[Callable[[Snapshot], Optional[np.ndarray]]] = None
          ) -> Iterator[View]:
    """A job's views while it runs, then ``finish(snapshot)`` once it has ended. The preview is the step's
    image, or ``picture(snapshot)`` (training: its latest sample image)."""
    for snap in job.watch(every):
        if snap.done:
            yield finish(snap)
            return
        shown = picture(snap) if picture is not None else preview(getattr(snap.step, "image", None))
        yield View(shown, plot_rows(snap.history, terms), progress_line(snap, unit))


def ended(snap: Snapshot, what: str) -> str:
    """How a run ended, in one line: stopped (and kept), finished, with its warnings."""
    seconds = format_duration(snap.seconds)
    line = f"stopped after {seconds}: kept the best {what} so far" if snap.stopped else f"done in {seconds}"
    return " · ".join([line, *snap.notes])


def stylize_job(content, styles: Sequence, values: Mapping[str, Any], base, workdir: Path, *, run_on=None) -> Job:
    """Check the page's stylize inputs and start the run (``stylize_file``, as the command line does).

    Args:
        content, styles: uploaded image paths.
        values: the page's fields by :class:`~neural_style.settings.StylizeSettings` field name.
        base: the settings the server was started with (device, weights).
        workdir: where the result (``stylized.png``) and report (``report.json``) are written.
        run_on: where the run goes (:meth:`~neural_style.studio.jobs.MainThread.submit`; None: a new thread).

    Raises:
        InputError: a bad upload or setting, in one line, before anything runs.
    """
    from ..settings import StylizeOutputs
    from ..style_transfer.runner import stylize_file  # torch-heavy: when a job starts

    content = check_upload(content, "content image")
    styles = [check_upload(s, "style image") for s in (styles or [])]
    if not styles:
        raise InputError("no style image: upload one or more")
    settings = settings_from(base, values)
    if settings.style_blend_weights is not None and len(settings.style_blend_weights) != len(styles):
        raise InputError(f"{setting('style_blend_weights')} has {len(settings.style_blend_weights)} weights for "
                         f"{len(styles)} style images: give one per style image")
    output, report = workdir / "stylized.png", workdir / "report.json"
    return Job(lambda callback: stylize_file(content, styles, output, settings, StylizeOutputs(report=report),
                                             callback=callback, download_progress=False),
               losses=losses_of, spell=labeller(STYLIZE_LABELS)).start(run_on)


def stylize_finish(workdir: Path) -> Callable[[Snapshot], View]:
    """The last view of a stylize job: the written image (full size) and the report as downloads."""
    def finish(snap: Snapshot) -> View:
        output, report = workdir / "stylized.png", workdir / "report.json"
        files = [str(p) for p in (output, report) if p.is_file()]
        small = preview_file(output)
        if snap.error:
            return View(small, plot_rows(snap.history, STYLIZE_TERMS), "", files, snap.error, True)
        return View(small, plot_rows(snap.history, STYLIZE_TERMS), ended(snap, "image"), files, None, True)
    return finish


#: The loss terms stylize's plot draws.
STYLIZE_TERMS = ("content", "style", "tv")


#: The terms denoise's plot draws (the energy's).
DENOISE_TERMS = ("total",)


def denoise_job(noisy, reference, values: Mapping[str, Any], base, workdir: Path, *, run_on=None) -> Job:
    """Check the page's denoise inputs and start the run (``denoise_files``, as the command line does):
    the output keeps the input's format, bit depth, alpha and metadata.

    Args:
        noisy: the uploaded image (a file, as uploaded: nothing re-encoded).
        reference: the clean image to score against (PSNR, SSIM), or None.
        values: the page's fields by :class:`~neural_style.settings.DenoiseSettings` field name
            (``sigma`` on the 0..255 scale, as the command line's).
        base: the settings the server was started with (device).
        workdir: where the result and ``report.json`` are written.
    """
    from ..denoising.runner import denoise_files  # torch-heavy: when a job starts

    noisy = check_upload(noisy, "noisy image")
    reference = check_upload(reference, "reference image") if reference else None
    values = dict(values)
    sigma = values.get("sigma")
    if isinstance(sigma, (int, float)) or (isinstance(sigma, str) and sigma.strip() not in ("", "auto")):
        try:
            number = float(sigma)
        except ValueError:
            number = math.nan
        if not 0 <= number <= 255:  # said on the page's scale, not the 0..1 of the setting
            raise InputError(f"{setting('sigma')} must be auto or a number from 0 to 255, got {sigma}")
        values["sigma"] = number / 255
    settings = settings_from(base, values)
    output = workdir / f"denoised{noisy.suffix.lower()}"
    return Job(lambda callback: denoise_files([(noisy, output)], settings, reference=reference,
                                              report=workdir / "report.json", callback=callback),
               losses=losses_of, spell=labeller(DENOISE_LABELS)).start(run_on)


def denoise_finish(workdir: Path, noisy) -> Callable[[Snapshot], View]:
    """The last view of a denoise job: the scores, the result and the report as downloads."""
    def finish(snap: Snapshot) -> View:
        files = sorted((str(p) for p in workdir.iterdir() if p.is_file()), key=lambda f: f.endswith(".json"))
        batch = snap.result
        record = batch.records[0] if batch is not None and batch.records else {}
        scores = (f"PSNR {record['psnr']:.2f} dB (noisy {record['psnr_noisy']:.2f}), SSIM {record['ssim']:.4f}"
                  if "psnr" in record else "")
        how = (f"sigma {record['sigma_255']:.3g}/255, lambda {record['tv_weight']:.4g} ({record['tv_weight_method']})"
               if record else "")
        status = " · ".join(x for x in (ended(snap, "image"), scores, how) if x)
        error = snap.error or (batch.failures[0]["error"] if batch is not None and batch.failures else None)
        result = record.get("output")
        return View(preview_file(result), plot_rows(snap.history, DENOISE_TERMS), status, files, error, True,
                    before=preview_file(noisy))
    return finish


def model_names(folder: Optional[Path]) -> List[str]:
    """The model files (``*.pth``, ``*.pt``) directly in ``folder``, by name: what the page offers (a
    client names one of them, never a path)."""
    if folder is None or not Path(folder).is_dir():
        return []
    return sorted(p.name for p in Path(folder).iterdir() if p.suffix.lower() in (".pth", ".pt") and p.is_file())


def transfer_job(name: str, folder: Optional[Path], source, values: Mapping[str, Any], base, workdir: Path, *,
                 run_on=None) -> Job:
    """Check the page's fast-network inputs and start ``transfer`` on one uploaded image or clip.

    Args:
        name: a model file's name from :func:`model_names` of ``folder``.
        source: the uploaded image, GIF or video.
        values: the page's fields by :class:`~neural_style.settings.TransferSettings` field name.
        base: the settings the server was started with (device).
        workdir: where the result (``stylized.<input's extension>``) and ``report.json`` are written.
    """
    from ..core.optimize import Step
    from ..fast.transfer_run import transfer
    from ..io.video import VIDEO_EXTENSIONS

    if name not in model_names(folder):
        raise InputError("choose a model from the list (the files of the studio's --models folder)")
    if not source:
        raise InputError("no image or clip: upload one")
    source = Path(source)
    if source.suffix.lower() not in VIDEO_EXTENSIONS:
        check_upload(source, "image")
    settings = settings_from(base, values)
    output = workdir / f"stylized{source.suffix.lower()}"
    started = time.perf_counter()

    def work(callback):
        def on_frame(_file, _files, done, total):  # a frame done is a step of the run
            callback(Step(done, total, {}, None, time.perf_counter() - started))
        return transfer(Path(folder) / name, [source], output, settings, report=workdir / "report.json",
                        on_frame=on_frame)
    return Job(work, spell=labeller({})).start(run_on)


def transfer_finish(workdir: Path) -> Callable[[Snapshot], View]:
    """The last view of a transfer job: the result (an image's preview) and the downloads."""
    def finish(snap: Snapshot) -> View:
        files = sorted((str(p) for p in workdir.iterdir() if p.is_file()), key=lambda f: f.endswith(".json"))
        batch = snap.result
        error = snap.error or (batch.failures[0]["error"] if batch is not None and batch.failures else None)
        written = [r["output"] for r in batch.records] if batch is not None else []
        still = [w for w in written if Path(w).suffix.lower() in (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff")]
        frames = sum(r["frames"] for r in batch.records) if batch is not None else 0
        status = " · ".join([ended(snap, "frames"), f"{frames} frame(s)"])
        return View(preview_file(still[0]) if still else None, [], status, files, error, True)
    return finish


def train_job(style, name: str, folder: Path, dataset: Optional[Path], values: Mapping[str, Any], base,
              resume: bool, workdir: Path, device: str = "auto", run_on=None) -> Job:
    """Check the page's training inputs and start ``train`` on the server's dataset folder; the model is
    written to ``folder/<name>.pth`` (offered by the apply part once written) and its checkpoints and
    sample images to ``folder/<name>-checkpoints/`` (``resume`` continues from its ``last.ckpt``).
    """
    from ..fast.checkpoints import LAST
    from ..fast.train_run import TrainCallbacks, train
    from ..settings import TrainOutputs

    if dataset is None:
        raise InputError("training needs the studio started with --dataset FOLDER (the training photos)")
    style = check_upload(style, "style image")
    if not name or len(name) > 100 or not all(c.isalnum() or c in "-_" for c in name):
        raise InputError(f"model name {name[:40]!r} must be 1 to 100 letters, digits, - and _: e.g. starry-night")
    settings = settings_from(base, values)
    output, checkpoints = Path(folder) / f"{name}.pth", Path(folder) / f"{name}-checkpoints"
    last = checkpoints / LAST
    if resume and not last.is_file():
        raise InputError(f"there is no checkpoint of {name!r} to resume from (one is written every Sample every "
                         f"steps): train it again, or start another")
    if not resume and last.is_file():
        raise InputError(f"a network named {name!r} has been trained here: press Resume to continue its training, "
                         "or choose another name")
    outputs = TrainOutputs(checkpoint_dir=checkpoints, resume=last if resume else None, report=workdir / "report.json")
    return Job(lambda callback: train(style, dataset, output, settings, outputs, device=device,
                                      callbacks=TrainCallbacks(on_step=callback), download_progress=False),
               losses=losses_of, spell=labeller(TRAIN_LABELS)).start(run_on)


def latest_sample(folder: Path) -> Callable[[Snapshot], Optional[np.ndarray]]:
    """A training's latest sample image (``step-NNNNNN.jpg`` in its checkpoint folder) as a preview."""
    def picture(_snap: Snapshot) -> Optional[np.ndarray]:
        samples = sorted(Path(folder).glob("step-*.jpg")) if Path(folder).is_dir() else []
        return preview_file(samples[-1]) if samples else None
    return picture


#: The loss terms the training plot draws.
TRAIN_TERMS = ("content", "style", "tv")


def train_finish(checkpoints: Path, output: Path, workdir: Path) -> Callable[[Snapshot], View]:
    """The last view of a training job: the latest sample, the model and the report as downloads."""
    def finish(snap: Snapshot) -> View:
        files = [str(p) for p in (output, workdir / "report.json") if p.is_file()]
        run = snap.result
        steps = f"{run.result.steps} steps" if run is not None else ""
        status = " · ".join(x for x in (ended(snap, "network"), steps, f"wrote {output.name}" if output.is_file()
                                        else "") if x)
        return View(latest_sample(checkpoints)(snap), plot_rows(snap.history, TRAIN_TERMS), status, files,
                    snap.error, True)
    return finish
