"""The studio's actions without a browser (issue 28): the page's fields go through the command line's
rules, uploads are checked from their headers, a job can be watched and stopped and keeps the best
result, errors are one line, and a client can only name the server's own model files."""

import json
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from neural_style.errors import InputError
from neural_style.settings import DenoiseSettings, StylizeSettings, TrainSettings, TransferSettings
from neural_style.studio import handlers
from neural_style.studio.jobs import Job
from neural_style.studio.server import StudioOptions, check_options


def test_the_page_s_fields_are_read_and_checked_as_the_command_line_reads_them():
    s = handlers.settings_from(StylizeSettings(), {"size": 128.0, "iterations": "20", "style_blend_weights": "1,2",
                                                   "scales": "", "tile_size": "auto", "style_weight": 7})
    assert (s.size, s.iterations, s.style_blend_weights, s.scales, s.tile_size, s.style_weight) == (
        128, 20, [1.0, 2.0], None, "auto", 7)
    with pytest.raises(InputError, match=r"tv_beta must be a finite number > 0 and <= .*, got -1"):
        handlers.settings_from(StylizeSettings(), {"tv_beta": -1})
    with pytest.raises(InputError, match="iterations must be"):
        handlers.settings_from(StylizeSettings(), {"iterations": "many"})


def test_uploads_are_checked_from_their_header(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(InputError, match="the content image is not an image Pillow can read"):
        handlers.check_upload(bad, "content image")
    big = tmp_path / "big.png"
    Image.new("RGB", (400, 300)).save(big)
    with pytest.raises(InputError, match="content image") as info:
        handlers.check_upload(big, "content image", max_pixels=100_000)
    assert "\n" not in str(info.value)
    with pytest.raises(InputError, match="no content image: upload one"):
        handlers.check_upload(None, "content image")


def _finished(job: Job, finish, terms=()):
    views = list(handlers.views(job, finish, terms, every=0.05))
    assert views[-1].done and all(not v.done for v in views[:-1])
    return views


def test_a_stylize_job_shows_its_image_as_it_goes_and_ends_with_the_full_size_png_and_report(
        tmp_path, content_file, style_file, vgg16_file):
    base = StylizeSettings(weights=str(vgg16_file), device="cpu")
    job = handlers.stylize_job(content_file, [style_file], {"size": 64, "iterations": "12", "scales": "none"}, base,
                               tmp_path)
    views = _finished(job, handlers.stylize_finish(tmp_path), handlers.STYLIZE_TERMS)
    running = [v for v in views[:-1] if v.preview is not None]
    assert running and all(max(v.preview.shape[:2]) <= handlers.PREVIEW_SIDE for v in running)
    assert "iteration" in running[-1].status and "ETA" in running[-1].status
    last = views[-1]
    assert last.error is None and last.status.startswith("done in")
    assert "the content image is 48x40 px: it is enlarged to 64x53 px" in last.status  # its warning, as a note
    assert "Size" in last.status  # the setting named as the page names it
    assert sorted(Path(f).name for f in last.files) == ["report.json", "stylized.png"]
    assert Image.open(tmp_path / "stylized.png").size == (64, 53)
    assert json.loads((tmp_path / "report.json").read_text())["stop_reason"] == "completed"
    assert {row["term"] for row in last.plot} == {"content", "style", "tv"}


def test_stop_keeps_the_best_image_so_far(tmp_path, content_file, style_file, vgg16_file):
    base = StylizeSettings(weights=str(vgg16_file), device="cpu")
    job = handlers.stylize_job(content_file, [style_file], {"size": 64, "iterations": "100000", "scales": "none"},
                               base, tmp_path)
    views = handlers.views(job, handlers.stylize_finish(tmp_path), handlers.STYLIZE_TERMS, every=0.05)
    first = next(v for v in views if v.preview is not None)
    assert not first.done
    job.stop()
    last = list(views)[-1]
    assert last.status.startswith("stopped after") and "kept the best image so far" in last.status
    assert (tmp_path / "stylized.png").is_file()
    assert json.loads((tmp_path / "report.json").read_text())["stop_reason"] == "interrupted"


def test_an_error_in_a_job_is_one_line_with_the_page_s_names(tmp_path, content_file, style_file):
    job = handlers.stylize_job(content_file, [style_file], {"size": 64, "iterations": "3"},
                               StylizeSettings(weights=str(tmp_path / "missing.pth")), tmp_path)
    last = _finished(job, handlers.stylize_finish(tmp_path))[-1]
    assert last.error and "\n" not in last.error and "missing.pth" in last.error
    with pytest.raises(InputError, match="has 3 weights for 1 style images"):
        handlers.stylize_job(content_file, [style_file], {"style_blend_weights": "1,2,3"}, StylizeSettings(), tmp_path)
    with pytest.raises(InputError, match="no style image"):
        handlers.stylize_job(content_file, [], {}, StylizeSettings(), tmp_path)


def test_a_job_s_bug_is_one_line_and_its_warnings_are_notes():
    def work(callback):
        raise RuntimeError("boom\nsecond line")
    job = Job(work).start()
    last = list(job.watch(0.05))[-1]
    assert last.done and last.error.startswith("internal error: ") and "boom" in last.error
    assert "\n" not in last.error

    def noisy(callback):
        warnings.warn("a library's resource note", ResourceWarning, stacklevel=1)
        warnings.warn("a library's user warning", stacklevel=1)  # not neural-style's: raised outside it
    assert list(Job(noisy).start().watch(0.05))[-1].notes == []


def test_watching_yields_at_most_every_interval():
    def work(callback):
        for i in range(40):
            callback(i)
            time.sleep(0.01)
        return "made"
    job = Job(work, losses=lambda step: {"iteration": step}).start()
    started = time.perf_counter()
    snaps = list(job.watch(0.1))
    assert snaps[-1].done and snaps[-1].result == "made" and len(snaps[-1].history) == 40
    assert len(snaps) - 1 <= (time.perf_counter() - started) / 0.1 + 1


def test_a_denoise_job_scores_against_the_reference(tmp_path):
    rng = np.random.default_rng(0)
    clean = np.clip(np.kron(rng.random((8, 8)), np.ones((8, 8))) * 255, 0, 255).astype(np.uint8)
    noisy = np.clip(clean + rng.normal(0, 25, clean.shape), 0, 255).astype(np.uint8)
    Image.fromarray(clean).save(tmp_path / "clean.png")
    Image.fromarray(noisy).save(tmp_path / "noisy.png")
    work = tmp_path / "job"
    work.mkdir()
    job = handlers.denoise_job(tmp_path / "noisy.png", tmp_path / "clean.png", {"sigma": "25"},
                               DenoiseSettings(device="cpu"), work)
    last = _finished(job, handlers.denoise_finish(work, tmp_path / "noisy.png"))[-1]
    assert last.error is None and "PSNR" in last.status and "sigma 25/255" in last.status
    assert last.before is not None and last.preview is not None
    assert sorted(Path(f).name for f in last.files) == ["denoised.png", "report.json"]
    for sigma in ("loud", "-5", "300"):  # said on the page's 0..255 scale
        with pytest.raises(InputError, match=f"sigma must be auto or a number from 0 to 255, got {sigma}$"):
            handlers.denoise_job(tmp_path / "noisy.png", None, {"sigma": sigma}, DenoiseSettings(), work)


def test_a_client_names_only_the_server_s_model_files(tmp_path):
    from tests.fast.test_training import _tiny_model

    models = tmp_path / "models"
    models.mkdir()
    _tiny_model(tmp_path).rename(models / "tiny.pth")
    (models / "notes.txt").write_text("not a model")
    assert handlers.model_names(models) == ["tiny.pth"]
    photo = tmp_path / "p.png"
    Image.new("RGB", (24, 20), (10, 200, 90)).save(photo)
    for name in ("../tiny.pth", str(models / "tiny.pth"), "notes.txt", None):
        with pytest.raises(InputError, match="choose a model from the list"):
            handlers.transfer_job(name, models, photo, {}, TransferSettings(), tmp_path)
    work = tmp_path / "job"
    work.mkdir()
    job = handlers.transfer_job("tiny.pth", models, photo, {"size": ""}, TransferSettings(device="cpu"), work)
    last = _finished(job, handlers.transfer_finish(work))[-1]
    assert last.error is None and "1 frame(s)" in last.status and last.preview.shape[:2] == (20, 24)


def test_training_needs_the_server_s_dataset_and_a_plain_name(tmp_path, style_file):
    for dataset, name, message in ((None, "ok", "needs the studio started with --dataset"),
                                   (tmp_path, "../up", "must be 1 to 100 letters, digits, - and _"),
                                   (tmp_path, "x" * 300, "must be 1 to 100 letters")):
        with pytest.raises(InputError, match=message):
            handlers.train_job(style_file, name, tmp_path, dataset, {}, TrainSettings(), False, tmp_path)
    with pytest.raises(InputError, match="there is no checkpoint of 'fresh' to resume from"):
        handlers.train_job(style_file, "fresh", tmp_path, tmp_path, {}, TrainSettings(), True, tmp_path)
    (tmp_path / "old-checkpoints").mkdir()
    (tmp_path / "old-checkpoints" / "last.ckpt").write_bytes(b"a run's")
    with pytest.raises(InputError, match="a network named 'old' has been trained here: press Resume"):
        handlers.train_job(style_file, "old", tmp_path, tmp_path, {}, TrainSettings(), False, tmp_path)


def test_messages_name_settings_as_each_tab_labels_them():
    from neural_style.errors import setting, spelled
    for labels, name, shown in ((handlers.STYLIZE_LABELS, "tv_weight", "TV weight"),
                                (handlers.DENOISE_LABELS, "tv_weight", "Lambda"),
                                (handlers.TRAIN_LABELS, "image_size", "Size"),
                                (handlers.STYLIZE_LABELS, "style_weight", "Style weight")):
        assert spelled(InputError(f"use a smaller {setting(name)}"), handlers.labeller(labels)) == \
            f"use a smaller {shown}"
    assert handlers.settings_from(StylizeSettings(), {"style_weight": None}).style_weight == 5  # an emptied field


def test_serving_beyond_this_machine_needs_a_password_or_a_choice_not_to():
    check_options(StudioOptions())
    with pytest.raises(InputError, match="lets other machines reach the page: give auth USER:PASSWORD"):
        check_options(StudioOptions(host="0.0.0.0"))
    with pytest.warns(UserWarning, match="reachable from other machines at 0.0.0.0:7860, without a password"):
        check_options(StudioOptions(host="0.0.0.0", no_auth=True))
    with pytest.warns(UserWarning, match="reachable from other machines"):
        check_options(StudioOptions(host="0.0.0.0", auth=("u", "p")))
    with pytest.raises(InputError, match="contradict"):
        check_options(StudioOptions(auth=("u", "p"), no_auth=True))
    for auth in (("u", ""), ("", "p")):
        with pytest.raises(InputError, match="needs a user and a password"):
            check_options(StudioOptions(host="0.0.0.0", auth=auth))


def test_a_port_in_use_is_one_line():
    import socket

    from neural_style.studio.server import check_port
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        with pytest.raises(InputError, match=r"cannot listen on 127.0.0.1:\d+ .*: choose another port"):
            check_port("127.0.0.1", held.getsockname()[1])


def test_the_command_without_gradio_says_what_to_install(monkeypatch):
    import importlib.util

    from tests.clitools import assert_error, invoke
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gradio" else real(name, *a))
    assert_error(invoke("studio"), 2, "the studio needs Gradio: pip install 'neural-style[studio]'",
                 prefix="neural-style studio: error:")


def test_the_preview_is_small_and_the_plot_rows_are_per_term():
    image = torch.rand(1, 3, 600, 1200)
    assert handlers.preview(image).shape == (256, 512, 3)
    grey = torch.full((1, 1, 20, 30), 0.5)  # denoise's steps on a grey image
    assert handlers.preview(grey).shape == (20, 30, 3) and handlers.preview(grey).max() == 128
    assert handlers.preview(torch.rand(1, 3, 8, 8, dtype=torch.bfloat16)).dtype == np.uint8
    rows = handlers.plot_rows([{"iteration": 1, "content": 2.0, "style": 3.0}], ("content", "style", "tv"))
    assert rows == [{"iteration": 1, "term": "content", "loss": 2.0}, {"iteration": 1, "term": "style", "loss": 3.0}]


def test_a_short_clip_goes_through_a_fast_network(tmp_path):
    pytest.importorskip("av")
    from neural_style.io.video import probe_video, write_video
    from tests.fast.test_training import _tiny_model

    models = tmp_path / "models"
    models.mkdir()
    _tiny_model(tmp_path).rename(models / "tiny.pth")
    clip = write_video(tmp_path / "clip.mp4", [np.full((32, 48, 3), 40 * i, np.uint8) for i in range(5)], fps=10)
    work = tmp_path / "job"
    work.mkdir()
    job = handlers.transfer_job("tiny.pth", models, clip, {}, TransferSettings(device="cpu"), work)
    last = _finished(job, handlers.transfer_finish(work))[-1]
    assert last.error is None and "5 frame(s)" in last.status
    assert len(probe_video(work / "stylized.mp4").timestamps) == 5


def test_training_is_stopped_and_resumed(tmp_path, style_file, vgg16_file):
    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray(rng.integers(0, 256, (40, 40, 3), np.uint8)).save(photos / f"p{i}.png")
    models, work = tmp_path / "models", tmp_path / "job"
    models.mkdir(), work.mkdir()
    base = TrainSettings(weights=str(vgg16_file))
    values = {"image_size": 32, "iterations": "100000", "width": 0.25, "checkpoint_every": 1, "batch_size": 2}
    job = handlers.train_job(style_file, "net", models, photos, values, base, False, work, "cpu")
    views = handlers.views(job, handlers.train_finish(models / "net-checkpoints", models / "net.pth", work),
                           handlers.TRAIN_TERMS, every=0.05, unit="step")
    assert "step" in next(v for v in views if v.status.startswith("step")).status
    job.stop()
    last = list(views)[-1]
    assert last.error is None and last.status.startswith("stopped after") and "wrote net.pth" in last.status
    steps = json.loads((work / "report.json").read_text())["steps"]
    again = handlers.train_job(style_file, "net", models, photos, {**values, "iterations": str(steps + 2)}, base,
                               True, work, "cpu")
    done = _finished(again, handlers.train_finish(models / "net-checkpoints", models / "net.pth", work))[-1]
    assert done.error is None and f"{steps + 2} steps" in done.status
    assert handlers.model_names(models) == ["net.pth"]
