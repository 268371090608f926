"""``neural-style restore`` through click's CliRunner: every option once on tiny images, what a file keeps,
and the one-line errors (usage: exit 2; a file that fails in a batch: exit 1)."""

import dataclasses
import json
import os

import numpy as np
import pytest
import torch
from PIL import Image

from neural_style.denoising import files as files_module
from neural_style.denoising.kernels import kernel_from_spec
from neural_style.io.decode import read_image
from neural_style.io.encode import write_image
from neural_style.settings import RESTORE_AUTO_BEST

from ..clitools import assert_error, assert_ok, invoke, snapshot

SIZE = 16
#: The mask's hole: away from the disc's edge, so that its TV filling is near the truth.
HOLE = (slice(1, 4), slice(10, 14))


def scene(h=SIZE, w=SIZE, channels=3):
    """A smooth image with a disc: (H, W, C) float64 in [0.1, 0.9]."""
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    base = 0.3 + 0.15 * np.sin(5 * xx + 1) * np.cos(4 * yy) + 0.3 * (((xx - 0.5) ** 2 + (yy - 0.45) ** 2) < 0.06)
    return np.stack([base * f for f in np.linspace(1.0, 0.8, channels)], -1)


@pytest.fixture
def files(tmp_path):
    """An 8-bit RGB input, a mask (a 3x4 hole in smooth shading), a kernel image and a kernel array."""
    write_image(tmp_path / "a.png", scene())
    mask = np.full((SIZE, SIZE), 255, np.uint8)
    mask[HOLE] = 0
    Image.fromarray(mask).save(tmp_path / "mask.png")
    Image.fromarray((np.eye(5) * 255).astype(np.uint8)).save(tmp_path / "kernel.png")
    kernel = np.zeros((5, 5))
    kernel[2] = [1, 2, 3, 2, 1]
    np.save(tmp_path / "kernel.npy", kernel)
    return tmp_path


@pytest.fixture
def spy(monkeypatch):
    """The settings and degradation each file's run_restore gets (one process)."""
    calls = []
    original = files_module.run_restore

    def spying(degraded, degradation, settings, **kwargs):
        calls.append((degraded, degradation, dataclasses.asdict(settings)))
        return original(degraded, degradation, settings, **kwargs)

    monkeypatch.setattr(files_module, "run_restore", spying)
    return calls


def restore(*args):
    return invoke("restore", *args)


def report_of(path):
    data = json.loads(path.read_text())
    assert data["command"] == "restore"
    return data


# --- every option once ----------------------------------------------------------------------------


@pytest.mark.parametrize("blur", ["gaussian:1", "motion:5,30", "box:3", "box:4", "kernel.png", "kernel.npy"])
def test_each_blur_kind(blur, files, spy):
    spec = str(files / blur) if blur.startswith("kernel") else blur
    out = files / "out.png"
    result = restore(files / "a.png", "-o", out, "--blur", spec, "--sigma", "1", "--iterations", "20")
    assert_ok(result)
    assert read_image(out).pixels.shape == (SIZE, SIZE, 3)
    kernel = spy[0][1].kernel
    if blur == "kernel.png":
        expected = torch.eye(5, dtype=torch.float64) / 5
    elif blur == "kernel.npy":
        expected = torch.tensor([[1.0, 2, 3, 2, 1]], dtype=torch.float64) / 9  # empty rows trimmed
    else:
        expected = kernel_from_spec(blur)
    torch.testing.assert_close(kernel, expected)
    line = f"{files / 'a.png'}: {RESTORE_AUTO_BEST['blur']} by primal-dual, sigma 1.00"  # the automatic prior
    assert line in result.stderr


def test_mask_fills_the_hole_and_keeps_the_rest(files, spy):
    noisy = np.asarray(Image.open(files / "a.png")).copy()
    noisy[HOLE] = (0, 255, 0)  # garbage in the hole
    Image.fromarray(noisy).save(files / "holed.png")
    out = files / "out.png"
    assert_ok(restore(files / "holed.png", "-o", out, "--mask", files / "mask.png", "--sigma", "0"))
    known = spy[0][1].known.numpy()
    assert known.shape == (SIZE, SIZE) and not known[HOLE].any() and known.sum() == SIZE * SIZE - 12
    result = np.asarray(Image.open(out)).astype(int)
    truth = np.asarray(Image.open(files / "a.png")).astype(int)
    assert np.abs(result - truth)[known].max() <= 1
    assert np.abs(result - truth)[~known].max() <= 16 and np.abs(result - truth)[~known].mean() <= 10


def test_mask_color_fills_a_red_scribble(files, spy):
    truth = np.asarray(Image.open(files / "a.png"))
    scribbled = truth.copy()
    scribbled[13, 2:14] = (255, 0, 0)  # below the disc: smooth shading
    scribbled[3, 3] = (255, 1, 0)  # near but not exactly the colour: kept
    Image.fromarray(scribbled).save(files / "scribbled.png")
    out = files / "out.png"
    assert_ok(restore(files / "scribbled.png", "-o", out, "--mask-color", "255,0,0", "--sigma", "0"))
    red = np.all(scribbled == (255, 0, 0), axis=2)
    np.testing.assert_array_equal(spy[0][1].known.numpy(), ~red)
    result = np.asarray(Image.open(out)).astype(int)
    assert np.abs(result - scribbled)[~red].max() <= 1
    assert np.abs(result - truth)[red].max() <= 8


@pytest.mark.parametrize("factor, size", [("2", (32, 32)), ("1.5", (24, 24))])
def test_upscale_sets_the_output_size(factor, size, files):
    out = files / "out.png"
    result = restore(files / "a.png", "-o", out, "--upscale", factor, "--sigma", "0")
    assert_ok(result)
    assert read_image(out).pixels.shape == (*size, 3)
    assert f"-> {size[1]}x{size[0]} px" in result.stderr


@pytest.mark.parametrize("regularizer", ["tgv", "nltv"])
def test_regularizers(regularizer, files, spy):
    out, report = files / "out.png", files / "r.json"
    assert_ok(restore(files / "a.png", "-o", out, "--blur", "gaussian:0.8", "--regularizer", regularizer,
                      "--sigma", "2", "--tv-weight", "0.002", "--iterations", "30", "--report", report))
    assert spy[0][2]["regularizer"] == regularizer
    record = report_of(report)["images"][0]
    assert record["regularizer"] == regularizer and record["optimizer"] == "primal-dual"
    assert read_image(out).pixels.shape == (SIZE, SIZE, 3)


@pytest.mark.parametrize("weight, method, word", [("0.01", "given", None), ("rule", "rule", "(rule)"),
                                                  ("auto", "discrepancy", "(discrepancy")])
def test_tv_weight(weight, method, word, files):
    report = files / "r.json"
    result = restore(files / "a.png", "-o", files / "out.png", "--blur", "box:3", "--sigma", "3", "--tv-weight", weight,
                     "--iterations", "40", "--report", report)
    assert_ok(result)
    record = report_of(report)["images"][0]
    assert record["tv_weight_method"] == method
    if method == "given":
        assert record["tv_weight"] == 0.01 and "lambda 0.01," in result.stderr
    else:
        assert word in result.stderr
    if method == "discrepancy":
        assert record["lambda_evaluations"] and all(e["tv_weight"] > 0 for e in record["lambda_evaluations"])


def test_a_lambda_at_the_search_floor_is_said(files):
    """Sigma given far below the noise: no lambda brings the residual down to it."""
    report = files / "r.json"
    noisy = np.clip(np.random.default_rng(0).normal(0.5, 0.2, (SIZE, SIZE)), 0, 1)
    write_image(files / "noisy.png", noisy)
    result = restore(files / "noisy.png", "-o", files / "out.png", "--blur", "box:3", "--sigma", "0.05",
                     "--iterations", "40", "--report", report)
    assert_ok(result)
    record = report_of(report)["images"][0]
    assert record["tv_weight"] == pytest.approx(1e-4) and "at its floor" in result.stderr
    exact = restore(files / "noisy.png", "-o", files / "out0.png", "--blur", "box:3", "--sigma", "0",
                    "--iterations", "40")  # no noise: the floor is the choice, not a failure to reach the target
    assert_ok(exact)
    assert "lambda 0.0001 (discrepancy)" in exact.stderr


def test_sigma_is_given_on_the_0_255_scale(files):
    report = files / "r.json"
    result = restore(files / "a.png", "-o", files / "out.png", "--blur", "box:3", "--sigma", "5", "--iterations", "10",
                     "--report", report)
    assert_ok(result)
    record = report_of(report)["images"][0]
    assert record["sigma_255"] == pytest.approx(5) and record["sigma_estimated"] is False
    assert "sigma 5.00," in result.stderr and "(estimated)" not in result.stderr
    assert f"a.png: {record['regularizer']} by {record['optimizer']}, sigma" in result.stderr  # the solver named


@pytest.mark.parametrize("option", [("--fidelity", "l1"), ("--tv-beta", "1.5")])
def test_lbfgs_paths(option, files):
    report = files / "r.json"
    assert_ok(restore(files / "a.png", "-o", files / "out.png", "--blur", "box:3", *option, "--sigma", "2",
                      "--iterations", "5", "--report", report))
    record = report_of(report)["images"][0]
    assert record["optimizer"] == "lbfgs" and record["tv_weight_method"] == "rule"
    assert record["tv_beta"] == (1.5 if option[0] == "--tv-beta" else 1.0)
    assert read_image(files / "out.png").pixels.shape == (SIZE, SIZE, 3)


def test_options_reach_the_solver(files, spy):
    assert_ok(restore(files / "a.png", "-o", files / "out.png", "--blur", "gaussian:1", "--upscale", "2",
                      "--tv-weight", "0.05", "--sigma", "20", "--coupling", "channel", "--optimizer", "primal-dual",
                      "--iterations", "7", "--tolerance", "0", "--device", "cpu", "-q"))
    settings = spy[0][2]
    assert settings["blur"] == "gaussian:1" and settings["upscale"] == 2.0
    assert settings["tv_weight"] == 0.05 and settings["sigma"] == pytest.approx(20 / 255)
    assert (settings["coupling"], settings["optimizer"], settings["device"]) == ("channel", "primal-dual", "cpu")
    assert (settings["iterations"], settings["tolerance"]) == (7, 0.0)


def test_iterations_and_tolerance_stop_the_solver(files):
    report = files / "r.json"
    assert_ok(restore(files / "a.png", "-o", files / "out.png", "--blur", "box:3", "--sigma", "3", "--tv-weight",
                      "0.001", "--iterations", "7", "--tolerance", "0", "--report", report))
    record = report_of(report)["images"][0]
    assert record["iterations"] == 7 and record["stop_reason"] == "completed"
    assert_ok(restore(files / "a.png", "-o", files / "out2.png", "--blur", "box:3", "--sigma", "3", "--tv-weight",
                      "0.001", "--iterations", "2000", "--tolerance", "0.01", "--report", report))
    record = report_of(report)["images"][0]
    assert record["iterations"] < 2000 and record["stop_reason"] == "converged"


def test_reference_prints_psnr(files):
    clean = scene()
    blurred = np.asarray(Image.open(files / "a.png"))  # the clean image, "restored" from a light blur
    Image.fromarray(blurred).save(files / "clean.png")
    write_image(files / "clean-big.png", np.repeat(np.repeat(clean, 2, 0), 2, 1))
    result = restore(files / "a.png", "-o", files / "out.png", "--blur", "gaussian:0.5", "--sigma", "1",
                     "--iterations", "30", "--reference", files / "clean.png")
    assert_ok(result)
    assert ", PSNR " in result.stderr and "SSIM" in result.stderr
    assert result.stdout.startswith("mean PSNR ") and "over 1 image" in result.stdout
    # an enlarged result is scored against a reference of the output's size
    report = files / "r.json"
    assert_ok(restore(files / "a.png", "-o", files / "big.png", "--upscale", "2", "--sigma", "0",
                      "--reference", files / "clean-big.png", "--report", report))
    record = report_of(report)["images"][0]
    assert record["psnr"] > 25 and "psnr_noisy" not in record


def test_a_reference_of_the_wrong_size_fails_that_file(files):
    """With two inputs the file whose reference does not match fails with one line (exit 1), the other is written."""
    write_image(files / "b.png", scene()[::-1])
    (files / "refs").mkdir()
    write_image(files / "refs" / "a.png", scene())
    write_image(files / "refs" / "b.png", scene(8, 12))
    out = files / "out"
    result = restore(files / "a.png", files / "b.png", "-o", out, "--sigma", "1", "--blur", "box:3", "--iterations",
                     "10", "--reference", files / "refs")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 2, result.stderr
    assert "b.png" in errors[0] and "12x8x3" in errors[0] and "16x16x3" in errors[0]
    assert "1 of 2 files failed" in errors[1]
    assert sorted(p.name for p in out.iterdir()) == ["a.png"]


def test_a_reference_of_the_wrong_size_for_one_input_is_one_line(files):
    """One input: its error is the run's (an InputError: exit 2), one line naming both sizes."""
    write_image(files / "small.png", scene(8, 8))
    assert_error(restore(files / "a.png", "-o", files / "out.png", "--upscale", "2", "--sigma", "0",
                         "--reference", files / "small.png"), 2, "small.png", "8x8x3", "32x32x3")
    assert not (files / "out.png").exists()


def test_report_records_the_restoration(files):
    report = files / "run.json"
    assert_ok(restore(files / "a.png", "-o", files / "out.png", "--upscale", "1.5", "--mask-color", "255,0,0",
                      "--sigma", "1", "--iterations", "20", "--report", report, "-q"))
    data = report_of(report)
    assert data["settings"]["upscale"] == 1.5 and data["settings"]["mask_color"] == "255,0,0"
    record = data["images"][0]
    assert record["size"] == {"width": SIZE, "height": SIZE}
    assert record["output_size"] == {"width": 24, "height": 24}
    assert record["tv_weight_method"] == "discrepancy" and record["residual"] is not None
    assert record["iterations"] > 0 and record["seconds"] > 0


def test_jobs_2_with_two_inputs(files):
    write_image(files / "b.png", scene()[:, ::-1])
    out, report = files / "out", files / "r.json"
    result = restore(files / "a.png", files / "b.png", "-o", out, "--blur", "box:3", "--sigma", "1", "--iterations",
                     "10", "--jobs", "2", "--report", report)
    assert_ok(result)
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png"]
    data = report_of(report)
    assert data["jobs"] == 2 and [r["input"] for r in data["images"]] == [str(files / "a.png"), str(files / "b.png")]
    assert result.stderr.count(", sigma 1.00") == 2


def test_quiet_prints_nothing(files):
    write_image(files / "clean.png", scene())
    result = restore(files / "a.png", "-o", files / "out.png", "--blur", "box:3", "--sigma", "1", "--iterations", "10",
                     "--reference", files / "clean.png", "-q")
    assert_ok(result)
    assert result.stdout == "" and result.stderr == ""
    assert (files / "out.png").exists()


def test_help_lists_the_restore_options():
    result = invoke("restore", "--help")
    assert_ok(result)
    for option in ("--blur", "--mask", "--mask-color", "--upscale", "--regularizer", "--tv-weight", "--sigma",
                   "--reference", "--report", "--jobs", "--device"):
        assert option in result.stdout


def test_help_prints_the_automatic_prior_and_its_size_limit():
    from neural_style.settings import AUTO_MAX_PIXELS, RESTORE_AUTO_BEST

    text = " ".join(invoke("restore", "--help").stdout.split())
    priors = set(RESTORE_AUTO_BEST.values())
    if len(priors) == 1:
        assert f"auto: {priors.pop()} (the best measured for every degradation)" in text
    else:
        assert all(f"{kind}: {prior}" in text for kind, prior in RESTORE_AUTO_BEST.items())
    assert f"up to {AUTO_MAX_PIXELS / 1e6:g} megapixels of output, tv above it" in text


# --- what a file keeps ----------------------------------------------------------------------------


def test_16_bit_stays_16_bit(files):
    path = files / "deep.png"
    write_image(path, scene(), bit_depth=16)
    out = files / "deep-out.png"
    assert_ok(restore(path, "-o", out, "--upscale", "2", "--sigma", "0", "-q"))
    data = read_image(out)
    assert data.bit_depth == 16 and data.pixels.shape == (32, 32, 3)
    assert len(np.unique(data.pixels)) > 256


def test_grey_stays_grey(files):
    path = files / "grey.png"
    write_image(path, scene(channels=1))
    out = files / "grey-out.png"
    assert_ok(restore(path, "-o", out, "--blur", "gaussian:1", "--sigma", "1", "--iterations", "20", "-q"))
    with Image.open(out) as image:
        assert image.mode == "L" and image.size == (SIZE, SIZE)


@pytest.mark.parametrize("upscale", [None, "2"])
def test_rgba_keeps_its_alpha(upscale, files):
    rgb = np.round(scene() * 255).astype(np.uint8)
    alpha = np.tile((np.arange(SIZE) * 16).astype(np.uint8), (SIZE, 1))
    path = files / "rgba.png"
    Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save(path)
    out = files / "rgba-out.png"
    extra = ["--upscale", upscale] if upscale else ["--blur", "box:3"]
    assert_ok(restore(path, "-o", out, *extra, "--sigma", "1", "--iterations", "20", "-q"))
    with Image.open(out) as image:
        assert image.mode == "RGBA"
        kept = np.asarray(image)[..., 3].astype(int)
    if upscale is None:
        np.testing.assert_array_equal(kept, alpha)
    else:
        assert kept.shape == (32, 32)
        expected = torch.nn.functional.interpolate(torch.from_numpy(alpha / 255).float()[None, None], size=(32, 32),
                                                   mode="bicubic", align_corners=False).clamp(0, 1)[0, 0].numpy()
        assert np.abs(kept - np.round(expected * 255)).max() <= 1


def test_an_enlarged_image_keeps_its_print_size(files):
    path = files / "dpi.png"
    Image.fromarray(np.round(scene() * 255).astype(np.uint8)).save(path, dpi=(72, 72))
    out = files / "dpi-out.png"
    assert_ok(restore(path, "-o", out, "--upscale", "2", "--sigma", "0", "-q"))
    with Image.open(out) as image:
        assert image.size == (32, 32)
        assert tuple(round(float(d)) for d in image.info["dpi"]) == (144, 144)


def test_a_1x1_image_enlarged(files):
    path = files / "one.png"
    Image.fromarray(np.full((1, 1), 128, np.uint8)).save(path)
    out = files / "one-out.png"
    assert_error(restore(path, "-o", out, "--upscale", "3"), 2, "1x1", "--sigma")
    assert_ok(restore(path, "-o", out, "--upscale", "3", "--sigma", "0", "-q"))
    data = read_image(out)
    assert data.pixels.shape == (3, 3, 1)
    assert np.abs(data.pixels * 255 - 128).max() <= 1


def test_a_mask_whose_known_pixels_are_one_colour_warns(files):
    """A fresh user's finding: a mask with scikit-image's polarity (white = holes) over black text keeps only
    the black strokes as known, and the result was a black image without a word."""
    image = np.asarray(Image.open(files / "a.png")).copy()
    text = np.zeros((SIZE, SIZE), bool)
    text[3:6, 2:14] = True
    image[text] = 0
    Image.fromarray(image).save(files / "texted.png")
    Image.fromarray(np.where(text, 255, 0).astype(np.uint8)).save(files / "inverted.png")
    result = restore(files / "texted.png", "-o", files / "out.png", "--mask", files / "inverted.png", "--iterations",
                     "5")
    assert_ok(result)
    assert "warning: the known pixels (the mask's white) are all about one colour" in result.stderr
    assert "is the mask inverted?" in result.stderr
    Image.fromarray(np.where(text, 0, 255).astype(np.uint8)).save(files / "right-mask.png")
    right = restore(files / "texted.png", "-o", files / "right.png", "--mask", files / "right-mask.png", "--iterations",
                    "5")
    assert_ok(right)
    assert "all about one colour" not in right.stderr


def test_a_one_pixel_blur_warns_and_denoises(files):
    result = restore(files / "a.png", "-o", files / "out.png", "--blur", "motion:1,0")
    assert_ok(result)
    assert "warning: the blur kernel is a single pixel: it blurs nothing and is left out" in result.stderr
    assert (files / "out.png").exists()


# --- masks that say nothing, or too much ---------------------------------------------------------


def test_an_all_white_mask_warns(files):
    Image.fromarray(np.full((SIZE, SIZE), 255, np.uint8)).save(files / "white.png")
    result = restore(files / "a.png", "-o", files / "out.png", "--mask", files / "white.png", "--sigma", "0")
    assert_ok(result)
    assert "warning: the mask marks no pixel to fill" in result.stderr
    assert "with --mask-color, the colour must match exactly" in result.stderr
    assert "a.png: nothing to restore: the image given back as it was" in result.stderr
    scored = restore(files / "a.png", "-o", files / "scored.png", "--mask", files / "white.png", "--reference",
                     files / "a.png")
    assert_ok(scored)
    assert "a.png: nothing to restore: the image given back as it was, PSNR inf dB" in scored.stderr


def test_an_all_white_mask_gives_the_input_back(files):
    Image.fromarray(np.full((SIZE, SIZE), 255, np.uint8)).save(files / "white.png")
    out = files / "out.png"
    assert_ok(restore(files / "a.png", "-o", out, "--mask", files / "white.png", "--report", files / "r.json"))
    np.testing.assert_array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(files / "a.png")))
    record = json.loads((files / "r.json").read_text())["images"][0]  # it says nothing was done, not how
    assert (record["optimizer"], record["regularizer"], record["tv_weight_method"]) == ("none", "none", "none")
    assert (record["iterations"], record["stop_reason"]) == (0, "completed")


def test_an_image_given_back_keeps_its_bytes_in_its_own_format_and_is_encoded_in_another(files):
    Image.fromarray(np.full((SIZE, SIZE), 255, np.uint8)).save(files / "white.png")
    Image.open(files / "a.png").convert("RGB").save(files / "photo.jpg", quality=80)
    same, other = files / "same.JPEG", files / "other.png"
    assert_ok(restore(files / "photo.jpg", "-o", same, "--mask", files / "white.png"))
    assert same.read_bytes() == (files / "photo.jpg").read_bytes()  # not re-encoded: no generation lost
    assert_ok(restore(files / "photo.jpg", "-o", other, "--mask", files / "white.png"))
    assert Image.open(other).format == "PNG"
    np.testing.assert_array_equal(np.asarray(Image.open(other)), np.asarray(Image.open(files / "photo.jpg")))


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["over input", "over mask", "over kernel", "bad blur", "bad blur numbers",
                                  "missing kernel", "negative kernel", "missing mask", "upscale 1", "upscale 0.5",
                                  "upscale 17", "mask and colour", "bad colour", "colour on grey", "mask size",
                                  "black mask"])
def test_bad_input(case, files):
    Image.fromarray(np.zeros((SIZE, SIZE), np.uint8)).save(files / "black.png")
    Image.fromarray(np.full((SIZE, SIZE + 1), 255, np.uint8)).save(files / "wide.png")
    np.save(files / "negative.npy", -np.ones((3, 3)))
    write_image(files / "grey.png", scene(channels=1))
    a, out = files / "a.png", files / "out.png"
    usage = "neural-style restore: error: "
    args, fragments, prefix = {
        "over input": ([a, "-o", a, "--blur", "box:3"], ["refusing to overwrite", "a.png"], "error: "),
        "over mask": ([a, "-o", files / "mask.png", "--mask", files / "mask.png"], ["refusing to overwrite",
                                                                                    "mask.png"], "error: "),
        "over kernel": ([a, "-o", files / "kernel.png", "--blur", files / "kernel.png"], ["refusing to overwrite",
                                                                                          "kernel.png"], "error: "),
        "bad blur": ([a, "-o", out, "--blur", "gauss:1"], ["gauss:1", "gaussian:SIGMA"], "error: "),
        "bad blur numbers": ([a, "-o", out, "--blur", "motion:5"], ["motion:5", "2 finite"], "error: "),
        "missing kernel": ([a, "-o", out, "--blur", files / "none.npy"], ["none.npy", "does not exist"], "error: "),
        "negative kernel": ([a, "-o", out, "--blur", files / "negative.npy"], ["negative"], "error: "),
        "missing mask": ([a, "-o", out, "--mask", files / "none.png"], ["none.png", "does not exist"], "error: "),
        "upscale 1": ([a, "-o", out, "--upscale", "1"], ["--upscale"], usage),
        "upscale 0.5": ([a, "-o", out, "--upscale", "0.5"], ["--upscale", "0.5"], usage),
        "upscale 17": ([a, "-o", out, "--upscale", "17"], ["--upscale", "17"], usage),
        "mask and colour": ([a, "-o", out, "--mask", files / "mask.png", "--mask-color", "255,0,0"],
                            ["--mask", "--mask-color"], "error: "),
        "bad colour": ([a, "-o", out, "--mask-color", "red"], ["--mask-color", "red"], "error: "),
        "colour on grey": ([files / "grey.png", "-o", out, "--mask-color", "255,0,0"], ["grey"], "error: "),
        "mask size": ([a, "-o", out, "--mask", files / "wide.png"], ["17x16", "16x16"], "error: "),
        "black mask": ([a, "-o", out, "--mask", files / "black.png"], ["every pixel"], "error: "),
    }[case]
    before = snapshot(files)
    assert_error(restore(*args), 2, *fragments, prefix=prefix)
    assert snapshot(files) == before


def _restore_in_a_process(files, name, *extra, **pipes):
    """``python -m neural_style restore a.png`` (TV under a small blur, sigma given) writing ``name``.png and
    ``name``.json, with ``pipes`` for :class:`subprocess.Popen`; the process, the image and the report."""
    import subprocess
    import sys

    out, report = files / f"{name}.png", files / f"{name}.json"
    command = [sys.executable, "-m", "neural_style", "restore", str(files / "a.png"), "-o", str(out), "--blur",
               "gaussian:1.0", "--regularizer", "tv", "--sigma", "5", "--report", str(report), *map(str, extra)]
    return subprocess.Popen(command, **pipes), out, report


def test_a_reader_that_goes_away_loses_nothing(files):
    """``neural-style restore ... 2>&1 | head -1``: the pipe breaks at the second line; the image and the report
    are still written and the run ends 0 (it died with exit 1 and neither before)."""
    read, write = os.pipe()
    process, out, report = _restore_in_a_process(files, "piped", "--log-every", "10", stderr=write)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        pipe.readline()  # one line, then the reader goes away
    assert process.wait(timeout=120) == 0
    assert read_image(out).pixels.shape == (SIZE, SIZE, 3) and json.loads(report.read_text())["images"]


def test_a_summary_reader_that_goes_away_loses_nothing(files):
    """``neural-style restore ... --reference ref | true``: stdout's reader is gone before the summary; the run
    still ends 0 with its image and report (click turned the broken pipe into a silent exit 1 before)."""
    import subprocess

    read, write = os.pipe()
    os.close(read)  # no reader at all: the first write to stdout breaks
    process, out, report = _restore_in_a_process(files, "summary", "--reference", files / "a.png", stdout=write,
                                                 stderr=subprocess.PIPE)
    os.close(write)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr.decode()
    assert b"Traceback" not in stderr and b"Exception ignored" not in stderr
    assert read_image(out).pixels.shape == (SIZE, SIZE, 3) and json.loads(report.read_text())["images"]


def test_the_psnr_printed_is_that_of_the_file_written(files):
    """A fresh user's finding: the PSNR was the float result's (43.93 dB printed, 43.86 from the PNG)."""
    report = files / "r.json"
    result = restore(files / "a.png", "-o", files / "out.png", "--blur", "gaussian:0.3", "--sigma", "0.5",
                     "--tv-weight", "0.0001", "--reference", files / "a.png", "--report", report)  # near the input
    assert_ok(result)
    written = read_image(files / "out.png").pixels.astype(np.float64)
    clean = read_image(files / "a.png").pixels.astype(np.float64)
    expected = 10 * np.log10(1 / np.mean((written - clean) ** 2))
    assert report_of(report)["images"][0]["psnr"] == pytest.approx(expected, abs=1e-4)
