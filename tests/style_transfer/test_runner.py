"""stylize_file: the stylize command from Python, with its files."""

import json

import pytest
from PIL import Image

import neural_style
from neural_style.errors import InputError
from neural_style.settings import StylizeOutputs, StylizeSettings


def image_attr(path, name):
    with Image.open(path) as image:
        return getattr(image, name)


def test_stylize_file_writes_the_image_intermediates_animation_and_report(content_file, style_file, vgg16_file,
                                                                           tmp_path):
    out = tmp_path / "out.png"
    outputs = StylizeOutputs(bit_depth=16, save_every=2, animation=tmp_path / "a.gif", report=tmp_path / "r.json")
    steps = []
    result = neural_style.stylize_file(content_file, [style_file], out, StylizeSettings(size=32, iterations=5),
                                       outputs, weights=str(vgg16_file), callback=steps.append)
    assert result.run.iterations == 5 and [s.iteration for s in steps] == [1, 2, 3, 4, 5]
    assert image_attr(out, 'size') == (32, 27)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("out")) == [
        "out-0002.png", "out-0004.png", "out.png"]
    # every iteration and the result; Pillow merges the result into the last frame when they are equal
    assert image_attr(tmp_path / "a.gif", 'n_frames') in (5, 6)
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["settings"]["size"] == 32 and report["settings"]["weights"] == str(vgg16_file)
    assert report["settings"]["bit_depth"] == 16 and len(report["history"]) == 5


def test_stylize_file_checks_every_path_before_any_work(content_file, style_file, tmp_path):
    with pytest.raises(InputError, match="16 needs a .png or .tif output"):
        neural_style.stylize_file(content_file, [style_file], tmp_path / "o.jpg", outputs=StylizeOutputs(bit_depth=16))
    with pytest.raises(InputError):
        neural_style.stylize_file(content_file, [style_file], content_file)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["content.png", "style.png"]


@pytest.mark.parametrize("options", [{}, {"original_colors": True}, {"bounds": "clamp-result"},
                                     {"colors": "histogram"}],
                         ids=["project", "original colors", "clamp-result", "histogram"])
def test_the_reported_final_losses_are_those_of_the_written_output(content_file, style_file, vgg16_file, tmp_path,
                                                                    options):
    """The report describes the image a user gets: final_losses equal a fresh evaluation of the file written
    (16-bit, so that quantisation stays below the tolerance)."""
    from neural_style.style_transfer.gatys import evaluate_losses

    out, report = tmp_path / "out.png", tmp_path / "r.json"
    settings = StylizeSettings(size=32, iterations=12, weights=str(vgg16_file), precision="fp32", lr=2.0, **options)
    neural_style.stylize_file(content_file, [style_file], out, settings, StylizeOutputs(bit_depth=16, report=report))
    reported = json.loads(report.read_text())["final_losses"]
    fresh = evaluate_losses(out, content_file, [style_file], settings)
    for term in ("content", "style", "tv", "total"):
        assert reported[term] == pytest.approx(fresh[term], rel=1e-3, abs=1e-7), term
    assert reported["style_octaves"] == pytest.approx(fresh["style_octaves"], rel=1e-3, abs=1e-7)


def test_inputs_moved_or_deleted_mid_run_do_not_lose_the_result(content_file, style_file, vgg16_file, tmp_path):
    """Every input is read once, at the start: the result, its alpha, profile and bit depth do not need
    the paths at the end (issue 27: renaming the content mid-run lost the result)."""
    rgba = Image.open(content_file).convert("RGBA")
    rgba.putalpha(128)
    content = tmp_path / "photo.png"
    rgba.save(content)
    moved = []

    def move_inputs(step):
        if step.iteration == 1:
            content.rename(tmp_path / "renamed.png")
            style_file.unlink()
            moved.append(step.iteration)

    out = tmp_path / "out.png"
    result = neural_style.stylize_file(content, [style_file], out, StylizeSettings(size=32, iterations=3),
                                       StylizeOutputs(report=tmp_path / "r.json"), weights=str(vgg16_file),
                                       callback=move_inputs)
    assert moved == [1] and result.run.iterations == 3
    assert image_attr(out, "mode") == "RGBA" and image_attr(out, "size") == (32, 27)
    assert json.loads((tmp_path / "r.json").read_text())["stop_reason"] == "completed"


def test_an_enlarged_content_is_said_in_one_line(content_file, style_file, vgg16_file, tmp_path):
    """transfer keeps an image's size; stylize works at --size (512 by default): enlarging says so."""
    with pytest.warns(UserWarning, match=r"^the content image is 48x40 px: it is enlarged to 64x53 px \(size 64\); "
                                         r"size 48 keeps its size$"):
        neural_style.stylize_file(content_file, [style_file], tmp_path / "o.png", size=64, iterations=1,
                                  weights=str(vgg16_file))
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # at its own size or smaller: nothing to say
        neural_style.stylize_file(content_file, [style_file], tmp_path / "p.png", size=48, iterations=1,
                                  weights=str(vgg16_file))


def test_the_command_line_says_it_with_its_option(content_file, style_file, vgg16_file, tmp_path):
    from tests.clitools import assert_ok, invoke
    result = invoke("stylize", content_file, style_file, "-o", tmp_path / "o.png", "--weights", vgg16_file,
                    "--size", "64", "--iterations", "1", "-q")
    assert_ok(result)
    assert "warning: the content image is 48x40 px: it is enlarged to 64x53 px (--size 64); --size 48 keeps its " \
           "size" in result.stderr


def test_a_style_folder_works_from_python_as_on_the_command_line(content_file, style_file, style_file2, vgg16_file,
                                                                 tmp_path):
    import shutil
    folder = tmp_path / "styles"
    folder.mkdir()
    shutil.copy(style_file, folder / "a.png")
    shutil.copy(style_file2, folder / "b.jpg")
    result = neural_style.run_stylize(content_file, str(folder), size=32, iterations=1, weights=str(vgg16_file))
    assert len(result.style_sizes) == 2  # each image in the folder a style image of its own


def test_a_run_whose_loss_never_moves_says_so(content_file, style_file, vgg16_file, tmp_path):
    """Every weight 0: nothing to optimise, the result is the starting image; a warning says it instead of a
    normal result (issue 27, kind 1)."""
    with pytest.warns(UserWarning, match=r"the loss never fell below its first value \(0\) in 3 evaluations: the "
                                         r"result is the image the run started from; check content_weight"):
        neural_style.stylize_file(content_file, [style_file], tmp_path / "o.png", size=32, iterations=3,
                                  scales="none", content_weight=0, style_weight=0, tv_weight=0,
                                  weights=str(vgg16_file))
