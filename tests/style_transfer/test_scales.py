"""Coarse-to-fine: schedules, the targets at each scale, stops between scales, the CLI."""

import json

import pytest
import torch

from neural_style.core.optimize import OptimizeResult
from neural_style.errors import InputError
from neural_style.style_transfer import gatys, stage
from neural_style.style_transfer.scales import auto_sides, default_iterations, plan_scales

from ..clitools import assert_error, assert_ok, invoke


def test_auto_sides_grow_by_sqrt_2_from_256():
    assert auto_sides(512) == [256, 362, 512]
    assert auto_sides(1024) == [256, 362, 512, 724, 1024]
    assert auto_sides(4096)[:2] == [256, 362] and auto_sides(4096)[-1] == 4096 and len(auto_sides(4096)) == 9
    assert auto_sides(200) == [200]  # --size below 256: one scale


@pytest.mark.parametrize("size, scales, iterations, expected", [
    (512, "none", None, [(512, 500)]),
    (512, "none", 7, [(512, 7)]),
    (512, "auto", None, [(256, 300), (362, 150), (512, 200)]),
    (512, None, None, [(256, 300), (362, 150), (512, 200)]),  # the default: coarse to fine
    (None, None, None, [(None, 500)]),  # the content's own size: one scale
    (512, "auto", 20, [(256, 20), (362, 20), (512, 20)]),
    (512, "auto", [30, 20, 10], [(256, 30), (362, 20), (512, 10)]),
    (512, [128, 256], None, [(128, 300), (256, 150), (512, 200)]),
    (512, [128, 512], [5], [(128, 5), (512, 5)]),
    (None, "none", None, [(None, 500)]),
])
def test_plan_scales(size, scales, iterations, expected):
    assert plan_scales(size, scales, iterations) == expected


def test_default_schedule():
    assert default_iterations(1) == [500] and default_iterations(2) == [300, 200]
    assert default_iterations(5) == [300, 150, 150, 150, 200]


@pytest.mark.parametrize("size, scales, iterations, message", [
    (512, "some", None, "scales must be 'none', 'auto' or long sides"),
    (512, [256, 128], None, "scales must grow"),
    (512, [8, 256], None, "at least 16 px"),
    (512, [], None, "at least 16 px"),
    (512, [1024], None, "scale 1024 is larger than the output size 512"),
    (None, "auto", None, "needs an output size"),
    (None, [64], None, "needs an output size"),
    (512, "auto", [1, 2], "got 2 iteration counts for 3 scales"),
    (512, "none", [0], "at least 1"),
])
def test_bad_schedules_are_one_line(size, scales, iterations, message):
    with pytest.raises(InputError, match=message):
        plan_scales(size, scales, iterations)


FAST = dict(size=48, scales=[24, 32], iterations=[3, 3, 2], init="random", seed=0)


def test_each_scale_recomputes_the_targets_at_its_size(content_file, style_file, vgg16_file):
    steps = []
    result = gatys.run_stylize(content_file, style_file, weights=vgg16_file, callback=steps.append, **FAST)
    assert [s.size for s in result.scales] == [(20, 24), (27, 32), (40, 48)]
    # the style image (36 px) is resized with each scale but never upscaled past its own size
    assert [s.style_sizes for s in result.scales] == [[(24, 24)], [(32, 32)], [(36, 36)]]
    bigger = gatys.run_stylize(content_file, style_file, weights=vgg16_file, style_scale=1.5, **FAST)
    assert [s.style_sizes for s in bigger.scales] == [[(36, 36)], [(48, 48)], [(72, 72)]]  # asked for: upscaled
    assert result.content_size == (40, 48) and result.image.shape == (1, 3, 40, 48)
    assert result.run.iterations == 8 and [s.iteration for s in steps] == list(range(1, 9))
    assert {s.iterations for s in steps} == {8} and [s.scale for s in steps][::3] == [(1, 3, 24), (2, 3, 32),
                                                                                      (3, 3, 48)]
    assert [h["scale"] for h in result.run.history] == [1, 1, 1, 2, 2, 2, 3, 3]
    # each scale starts from the previous best, so the content loss is not reset to the random start
    octaves = result.final_losses.pop("style_octaves")
    assert result.final_losses == {k: v for k, v in result.run.history[result.run.best_iteration - 1].items()
                                   if k not in ("iteration", "scale")}
    assert len(octaves) == 1 and octaves[0] > 0  # 48 px: one octave down to 128 px (at least one)


def test_ctrl_c_at_a_later_scale_keeps_that_scales_best_upsampled(content_file, style_file, vgg16_file):
    def interrupt(step):
        if step.iteration == 5:
            raise KeyboardInterrupt

    result = gatys.run_stylize(content_file, style_file, weights=vgg16_file, callback=interrupt, **FAST)
    assert result.run.stop_reason == "interrupted" and len(result.scales) == 2
    assert result.image.shape == (1, 3, 40, 48) and result.final_losses is None
    assert result.run.best_iteration in (4, 5)  # scale 2's best (its first evaluation is always finite)


def test_ctrl_c_while_a_scale_computes_its_targets_keeps_the_previous_best(content_file, style_file, vgg16_file,
                                                                          monkeypatch):
    real, calls = stage.Stage.objective, []

    def interrupted(stage, blend):
        calls.append(stage.side)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(stage, blend)

    monkeypatch.setattr(stage.Stage, "objective", interrupted)
    result = gatys.run_stylize(content_file, style_file, weights=vgg16_file, **FAST)
    assert calls == [24, 32, 48] and result.run.stop_reason == "interrupted" and len(result.scales) == 2
    assert result.run.iterations == 6 and result.image.shape == (1, 3, 40, 48) and result.final_losses is None


def test_non_finite_at_a_later_scale_keeps_the_previous_best(content_file, style_file, vgg16_file, monkeypatch):
    real, calls = gatys.optimize_image, []

    def diverging(init, loss_fn, **kwargs):
        calls.append(init.shape)
        if len(calls) == 2:
            nan = {"iteration": 1, "content": float("nan"), "style": 1.0, "tv": 1.0, "total": float("nan")}
            return OptimizeResult(image=init.clone(), history=[nan], iterations=1, stop_reason="non-finite")
        return real(init, loss_fn, **kwargs)

    monkeypatch.setattr(gatys, "optimize_image", diverging)
    result = gatys.run_stylize(content_file, style_file, weights=vgg16_file, **FAST)
    assert result.run.stop_reason == "non-finite" and len(calls) == 2
    first = [h["total"] for h in result.run.history if h["scale"] == 1]
    assert result.run.best_iteration == 1 + first.index(min(first))  # scale 1's best, upsampled
    assert result.image.shape == (1, 3, 40, 48) and torch.isfinite(result.image).all()
    assert result.final_losses is None


def test_cli_coarse_to_fine_with_report_animation_and_intermediates(content_file, style_file, vgg16_file, tmp_path):
    out, report = tmp_path / "out.png", tmp_path / "r.json"
    result = invoke("stylize", content_file, style_file, "-o", out, "--weights", vgg16_file, "--size", "48",
                    "--scales", "24,32", "--iterations", "2", "--report", report, "--animation", tmp_path / "a.gif",
                    "--save-every", "4", "-q")
    assert_ok(result)
    data = json.loads(report.read_text())
    assert [s["long_side"] for s in data["scales"]] == [24, 32, 48] and data["iterations"] == 6
    assert set(data["final_losses"]) == {"content", "style", "tv", "total", "style_octaves"}
    assert data["peak_memory_bytes"] > 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("out")) == ["out-0004.png", "out.png"]
    assert_error(invoke("stylize", content_file, style_file, "-o", tmp_path / "x.png", "--weights", vgg16_file,
                        "--size", "48", "--scales", "64"), 2, "scale 64 is larger than the output size 48")
    assert not (tmp_path / "x.png").exists()


def test_a_first_scale_below_the_network_minimum_names_the_scale(content_file, style_file, vgg16_file):
    with pytest.raises(InputError, match=r"scale 16 px makes the content 16x13 px.* start scales at a larger long"):
        gatys.run_stylize(content_file, style_file, weights=vgg16_file, size=48, scales=[16], iterations=1,
                          precision="fp32")


def test_automatic_scales_too_thin_for_the_network_are_left_out():
    from neural_style.style_transfer.scales import fit_schedule
    schedule = plan_scales(512, None)  # 256, 362, 512
    assert fit_schedule(schedule, (20, 600), 16, None, None) == [(512, 500)]  # 256 and 362 px: under 16 px high
    assert fit_schedule(schedule, (30, 600), 16, "auto", None) == [(362, 300), (512, 200)]
    assert fit_schedule(plan_scales(512, "auto", 7), (30, 600), 16, "auto", 7) == [(362, 7), (512, 7)]
    assert fit_schedule(schedule, (300, 600), 16, None, None) == schedule
    listed = plan_scales(512, [256])
    assert fit_schedule(listed, (20, 600), 16, [256], None) == listed  # listed scales: refused by their stage
