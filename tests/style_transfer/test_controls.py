"""stylize's scale and space controls through the API and the CLI: --style-octaves, the octave measure,
--style-masks and --style-image-masks (tiny random VGG16, a few iterations)."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

import neural_style
from neural_style.errors import InputError
from neural_style.style_transfer import gatys, stage
from tests.clitools import assert_error, assert_ok, invoke

FAST = dict(size=48, iterations=3, precision="fp32")


def mask_file(path, h, w, left=None, value=255):
    pixels = np.zeros((h, w), np.uint8) if left is not None else np.full((h, w), value, np.uint8)
    if left is not None:
        pixels[:, :left] = 255
    Image.fromarray(pixels).save(path)
    return path


def halves(h=40, w=48):
    left = torch.zeros(1, 1, h, w)
    left[..., : w // 2] = 1
    return left, 1 - left


def test_style_octaves_reach_the_objective_and_the_report(content_file, style_file, vgg16_file, tmp_path):
    report = tmp_path / "r.json"
    assert_ok(invoke("stylize", content_file, style_file, "-o", tmp_path / "o.png", "--weights", vgg16_file,
                     "--size", "64", "--iterations", "3", "--style-octaves", "2", "--report", report, "-q"))
    data = json.loads(report.read_text())
    assert data["settings"]["style_octaves"] == 2 and data["scales"][0]["octaves"] == 2
    assert len(data["final_losses"]["style_octaves"]) == 1  # 64 px: octaves down to 128 px -> the image alone


def test_coarse_to_fine_holds_the_octaves_down_to_its_first_scale(content_file, style_file, vgg16_file,
                                                                   monkeypatch):
    weights, real = [], stage.Stage.perceptual
    monkeypatch.setattr(stage.Stage, "perceptual", lambda self, *a, **k: weights.append(self.octave_weights) or
                        real(self, *a, **k))
    result = gatys.run_stylize(content_file, style_file, weights=vgg16_file, scales=[24, 32], **FAST)
    assert [s.octaves for s in result.scales] == [1, 1, 2]  # 48 px holds 24 px: two octaves
    assert weights[:3] == [[1.0], [1.0], [1.0, stage.HELD_WEIGHT]]  # the held octave weighs less
    asked = gatys.run_stylize(content_file, style_file, weights=vgg16_file, style_octaves=2, **FAST)
    assert [s.octaves for s in asked.scales] == [2]


@pytest.mark.parametrize("asked, shape, first, expected", [(1, (40, 48), None, 1), (3, (256, 300), None, 3),
                                                           (1, (512, 768), 256, 2), (1, (1024, 1024), 256, 3),
                                                           (1, (60, 1024), 256, 2)])
def test_stage_octaves(asked, shape, first, expected):
    assert stage.stage_octaves(asked, shape, first, 16) == expected


def test_too_many_octaves_is_refused_before_any_work(content_file, style_file, vgg16_file):
    with pytest.raises(InputError, match="--style-octaves|style_octaves"):
        gatys.run_stylize(content_file, style_file, weights=vgg16_file, style_octaves=4, **FAST)


def test_the_octave_measure_judges_any_image(style_file, vgg16_file, tmp_path):
    big = tmp_path / "big.png"
    Image.open(style_file).resize((300, 300)).save(big)
    itself = neural_style.style_octave_losses(big, big, weights=str(vgg16_file), size=300, precision="fp32")
    assert len(itself) == 2 and max(itself) < 1e-6  # 300 px: 300 and 150 (75 < 128)
    flat = neural_style.style_octave_losses(torch.full((1, 3, 300, 300), 0.5), big, weights=str(vgg16_file),
                                            size=300, precision="fp32", octaves=3)
    assert len(flat) == 3 and min(flat) > 0.1


def test_masks_through_the_api_at_every_scale(content_file, style_file, style_file2, vgg16_file, monkeypatch):
    seen = []
    real = stage.Stage.perceptual

    def spy(self, blend, octaves=None, **kwargs):
        objective = real(self, blend, octaves, **kwargs)
        seen.append((self.content_shape, [tuple(p.guides["relu1_1"].shape[-2:]) for p in objective.style.parts]))
        return objective
    monkeypatch.setattr(stage.Stage, "perceptual", spy)
    result = gatys.run_stylize(content_file, [style_file, style_file2], weights=vgg16_file, scales=[24],
                               style_masks=list(halves()), style_layers="relu1_1,relu2_1", **FAST)
    assert result.image.shape == (1, 3, 40, 48) and result.final_losses["style"] > 0
    assert seen[0] == ((20, 24), [(20, 24), (20, 24)]) and seen[1][0] == (40, 48)
    assert seen[1][1][:2] == [(40, 48), (40, 48)]  # the masks follow the scale (then the octave held)


@pytest.mark.slow
def test_masked_runs_tiled_and_whole_agree(content_file, style_file, style_file2, vgg16_file):
    options = dict(weights=vgg16_file, style_masks=list(halves()), style_octaves=2, precision="fp32", size=48)
    whole = gatys.evaluate_losses(content_file, content_file, [style_file, style_file2], tile_size=0, **options)
    tiled = gatys.evaluate_losses(content_file, content_file, [style_file, style_file2], tile_size=16, **options)
    for term in ("content", "style", "tv", "total"):
        assert tiled[term] == pytest.approx(whole[term], rel=1e-4), term
    assert tiled["style_octaves"] == pytest.approx(whole["style_octaves"], rel=1e-4)


def test_a_white_mask_is_no_mask(content_file, style_file, vgg16_file):
    plain = gatys.evaluate_losses(content_file, content_file, style_file, weights=vgg16_file, **FAST)
    white = gatys.evaluate_losses(content_file, content_file, style_file, weights=vgg16_file,
                                  style_masks=[torch.ones(1, 1, 20, 24)], **FAST)
    assert white["style"] == pytest.approx(plain["style"], rel=1e-5)


def test_cli_masks_and_image_masks(content_file, style_file, style_file2, vgg16_file, tmp_path):
    left, right = mask_file(tmp_path / "l.png", 40, 48, left=24), mask_file(tmp_path / "r.png", 20, 24, left=0)
    sky = mask_file(tmp_path / "sky.png", 30, 40, left=20)
    report = tmp_path / "r.json"
    assert_ok(invoke("stylize", content_file, style_file, style_file2, "-o", tmp_path / "o.png", "--weights",
                     vgg16_file, "--size", "48", "--iterations", "3", "--style-masks", f"{left},{right}",
                     "--style-image-masks", f",{sky}", "--report", report, "-q"))
    assert json.loads(report.read_text())["settings"]["style_masks"] == [str(left), str(right)]


@pytest.mark.parametrize("masks, image_masks, fragment", [
    ("{l}", None, "--style-masks gives 1 mask for 2 style images"),
    ("{black},{black}", None, "black everywhere"),
    ("{wide},{l}", None, "aspect ratio"),
    ("{l},{missing}", None, "does not exist"),
    ("{l},{bad}", None, "--style-masks"),
    (",{l}", None, "an empty --style-masks entry"),
    ("{l},{l}", "{l},{l}", "its style image"),
    ("{l},{l}", "{black36},", "--style-image-masks mask is black everywhere"),
])
def test_bad_masks_are_one_line_before_any_work(content_file, style_file, style_file2, vgg16_file, tmp_path,
                                                masks, image_masks, fragment):
    paths = dict(l=mask_file(tmp_path / "l.png", 40, 48, left=24), black=mask_file(tmp_path / "b.png", 40, 48, value=0),
                 wide=mask_file(tmp_path / "w.png", 10, 48, left=24), missing=tmp_path / "nothere.png",
                 bad=tmp_path / "bad.png", black36=mask_file(tmp_path / "b36.png", 36, 36, value=0))
    paths["bad"].write_bytes(b"not a png")
    args = ["--style-masks", masks.format(**paths)]
    if image_masks:
        args += ["--style-image-masks", image_masks.format(**paths)]
    out = tmp_path / "o.png"
    assert_error(invoke("stylize", content_file, style_file, style_file2, "-o", out, "--weights", vgg16_file,
                        "--size", "48", *args), 2, fragment)
    assert not out.exists()


def test_a_mask_of_the_wrong_aspect_is_compared_with_the_files_size(content_file, style_file, vgg16_file, tmp_path):
    """The message gives the content's size as the user knows it (the file's), not the working size."""
    wide = mask_file(tmp_path / "w.png", 10, 48, left=24)
    assert_error(invoke("stylize", content_file, style_file, "-o", tmp_path / "o.png", "--weights", vgg16_file,
                        "--size", "24", "--style-masks", wide), 2,
                 f"the --style-masks mask '{wide}' is 48x10 px but the content image is 48x40 px")


def test_a_clip_takes_one_mask_for_every_frame(vgg16_file, style_file, style_file2, tmp_path):
    pytest.importorskip("av")
    frames = [Image.fromarray(np.full((32, 40, 3), 40 * i + 60, np.uint8)) for i in range(3)]
    clip = tmp_path / "clip.gif"
    frames[0].save(clip, save_all=True, append_images=frames[1:], duration=100, loop=0)
    left, right = mask_file(tmp_path / "l.png", 32, 40, left=20), mask_file(tmp_path / "r.png", 16, 20, left=0)
    args = ["stylize", clip, style_file, style_file2, "--weights", vgg16_file, "--size", "40", "--iterations", "2",
            "--precision", "fp32", "-q"]
    assert_ok(invoke(*args, "-o", f"{tmp_path / 'frames'}/", "--style-masks", f"{left},{right}"))
    assert len(list((tmp_path / "frames").glob("*.png"))) == 3
    bad = tmp_path / "bad.gif"
    assert_error(invoke(*args, "-o", bad, "--style-masks", f"{left}"), 2, "--style-masks gives 1 mask")
    assert not bad.exists() and sorted(p.name for p in tmp_path.iterdir() if "bad" in p.name) == []


def test_style_image_masks_alone_restrict_the_style(content_file, style_file, vgg16_file):
    plain = gatys.evaluate_losses(content_file, content_file, style_file, weights=vgg16_file, **FAST)
    top = torch.zeros(1, 1, 36, 36)
    top[..., :18, :] = 1
    sky = gatys.evaluate_losses(content_file, content_file, style_file, weights=vgg16_file,
                                style_image_masks=[top], **FAST)
    assert sky["style"] != pytest.approx(plain["style"], rel=1e-3)


def test_a_coarser_scale_takes_the_octaves_it_can_hold(content_file, style_file, vgg16_file):
    result = gatys.run_stylize(content_file, style_file, weights=vgg16_file, scales=[24], style_octaves=2, **FAST)
    assert [s.octaves for s in result.scales] == [1, 2]  # 20x24 px cannot hold a 10 px octave; the output can


def test_the_octave_measure_agrees_with_the_run(content_file, style_file, vgg16_file):
    result = gatys.run_stylize(content_file, style_file, weights=vgg16_file, **FAST)
    measured = neural_style.style_octave_losses(result.image, style_file, weights=str(vgg16_file), **FAST)
    assert measured == pytest.approx(result.final_losses["style_octaves"], rel=1e-4)
    with pytest.raises(InputError, match="octaves must be a whole number"):
        neural_style.style_octave_losses(result.image, style_file, weights=str(vgg16_file), octaves=0, **FAST)


def test_out_of_reach_keeps_the_free_pixels_far_from_the_others():
    free = torch.zeros(1, 1, 64, 66)
    free[..., 40:] = 1  # 26 free columns
    far = stage.out_of_reach(free, 8, 4)
    assert far.shape == free.shape and torch.equal(far[..., 48:], free[..., 48:])  # 8 px and more away
    assert not far[..., :48].any()  # within two 4 px blocks of the last one holding a 0 (columns 36..39)
    assert not stage.out_of_reach(free, 30, 4).any()
    assert not stage.out_of_reach(torch.zeros(1, 1, 64, 64), 1, 4).any()


SHALLOW = dict(FAST, content_layers="relu2_2", style_layers="relu1_1,relu2_1", iterations=12)


def test_an_unstyled_region_out_of_reach_is_what_a_run_without_style_makes(content_file, style_file, vgg16_file,
                                                                            monkeypatch):
    left, _ = halves()
    steps = []
    result = gatys.run_stylize(content_file, style_file, weights=vgg16_file, style_masks=[left],
                               callback=steps.append, **SHALLOW)
    assert result.run.iterations == 24 and [s.iteration for s in steps] == list(range(1, 25))
    assert all(s.iterations == 24 for s in steps)
    assert [h.get("unstyled", 0) for h in result.run.history] == [0] * 12 + [1] * 12
    assert [s.unstyled for s in steps] == [False] * 12 + [True] * 12
    assert 1 <= result.run.best_iteration <= 12 and 13 <= result.unstyled_best_iteration <= 24
    none = gatys.run_stylize(content_file, style_file, weights=vgg16_file, style_weight=0, **SHALLOW)
    monkeypatch.setattr(stage.Stage, "unstyled", lambda self: None)
    styled_only = gatys.run_stylize(content_file, style_file, weights=vgg16_file, style_masks=[left], **SHALLOW)
    assert styled_only.run.iterations == 12
    near = (slice(None), slice(None), slice(None), slice(0, 30))  # the styled half and the style's reach
    far = (slice(None), slice(None), slice(None), slice(40, None))  # beyond it (shallow layers: 7 px) and the seam
    assert torch.equal(result.image[near], styled_only.image[near])
    assert torch.equal(result.image[far], none.image[far])
    assert not torch.equal(styled_only.image[far], none.image[far])
    judged = gatys.evaluate_losses(result.image, content_file, style_file, weights=vgg16_file, style_masks=[left],
                                   **SHALLOW)
    assert [result.final_losses[k] for k in ("content", "style", "tv")] == pytest.approx(
        [judged[k] for k in ("content", "style", "tv")], rel=1e-4)  # the losses reported are the delivered image's


def test_ctrl_c_before_the_run_without_style_keeps_the_styled_image(content_file, style_file, vgg16_file,
                                                                     monkeypatch):
    left, _ = halves()
    real = gatys.run_stylize

    def interrupted_second(*args, **kwargs):
        if kwargs.get("start", "x") is None and args[2:] and args[2].style_weight == 0:
            raise KeyboardInterrupt
        return real(*args, **kwargs)
    monkeypatch.setattr(gatys, "run_stylize", interrupted_second)
    result = real(content_file, style_file, weights=vgg16_file, style_masks=[left], **SHALLOW)
    assert result.run.stop_reason == "interrupted" and result.run.iterations == 12
    assert result.image.shape[-2:] == (40, 48)


def test_the_summary_counts_the_run_without_style(content_file, style_file, vgg16_file, tmp_path, monkeypatch):
    from neural_style.io.progress import ProgressBar
    drawn = []
    monkeypatch.setattr(ProgressBar, "update", lambda bar, done, values=None, force=False: drawn.append((bar.label, done)))
    mask = mask_file(tmp_path / "left.png", 40, 48, left=24)
    result = invoke("stylize", content_file, style_file, "-o", tmp_path / "o.png", "--weights", vgg16_file,
                    "--size", "48", "--iterations", "3", "--style-masks", mask, "--precision", "fp32",
                    "--content-layers", "relu2_2", "--style-layers", "relu1_1,relu2_1")
    assert_ok(result)
    assert "(6 iterations (3 in a run without style, for where the masks leave no style) in " in result.stderr
    assert drawn == [("", 1), ("", 2), ("", 3), ("without style: ", 4), ("without style: ", 5),
                     ("without style: ", 6)]  # the progress says which run it is showing
