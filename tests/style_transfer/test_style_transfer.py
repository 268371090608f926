"""End-to-end ``stylize`` on tiny images with random VGG weights (fast, no downloads)."""

import pytest
import torch
from PIL import Image

import neural_style
from neural_style.errors import InputError, ResourceError
from neural_style.io.decode import to_tensor
from neural_style.style_transfer import gatys as style_transfer
from neural_style.style_transfer import memory as memory_module

FAST = dict(size=32, iterations=8)


def test_package_level_stylize_returns_an_image(content_file, style_file, vgg16_file):
    image = neural_style.stylize(content_file, style_file, weights=vgg16_file, **FAST)
    assert image.shape == (1, 3, 27, 32)  # content is 40x48: long side 32, aspect kept
    assert image.dtype == torch.float32 and 0 <= image.min() and image.max() <= 1


def test_run_lowers_the_style_loss_and_records_history(content_file, style_file, vgg16_file):
    result = style_transfer.run_stylize(content_file, [style_file], weights=vgg16_file, size=32, iterations=30)
    assert result.model == "vgg16" and result.weights == str(vgg16_file)
    assert result.run.iterations == 30 and len(result.run.history) == 30
    assert set(result.run.history[0]) == {"iteration", "content", "style", "tv", "total"}
    assert result.run.history[0]["content"] == 0.0  # starts from the content image
    best = min(h["total"] for h in result.run.history)
    assert best < 0.5 * result.run.history[0]["total"]
    assert result.content_size == (27, 32) and result.style_sizes == [(32, 32)]
    assert result.run.seconds > 0 and result.run.stop_reason == "completed"


def test_accepts_pil_images_and_tensors(content_file, style_file, vgg16_file):
    content = Image.open(content_file)
    style = to_tensor(style_file)
    image = neural_style.stylize(content, style, weights=vgg16_file, **FAST)
    assert image.shape == (1, 3, 27, 32)


def test_callback_sees_every_iteration(content_file, style_file, vgg16_file):
    seen = []
    neural_style.stylize(content_file, style_file, weights=vgg16_file, callback=seen.append, **FAST)
    assert [s.iteration for s in seen] == list(range(1, 9))
    assert seen[0].image.shape == (1, 3, 27, 32)


def test_random_init_is_reproducible_with_a_seed(content_file, style_file, vgg16_file):
    def run(seed):
        return neural_style.stylize(content_file, style_file, weights=vgg16_file, init="random",
                                                seed=seed, **FAST)
    a, b, c = run(3), run(3), run(4)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_init_from_an_image_file(content_file, style_file, vgg16_file):
    first = style_transfer.run_stylize(content_file, style_file, weights=vgg16_file, init=style_file,
                                       size=32, iterations=1)
    assert first.run.history[0]["content"] > 0  # does not start at the content


@pytest.mark.parametrize("scale, expected", [(1.0, (36, 36)), (0.5, (24, 24)), (1.25, (60, 60))])
def test_style_scale_without_size(scale, expected, content_file, style_file, vgg16_file):
    """size=None keeps the content's 40x48; the style (36x36) goes to ceil(48 * scale), or stays at scale 1."""
    result = style_transfer.run_stylize(content_file, style_file, weights=vgg16_file, size=None, style_scale=scale,
                                        iterations=1)
    assert result.content_size == (40, 48)
    assert result.style_sizes == [expected]


def test_best_iteration_is_reported(content_file, style_file, vgg16_file):
    result = style_transfer.run_stylize(content_file, style_file, weights=vgg16_file, **FAST)
    totals = [h["total"] for h in result.run.history]
    assert result.run.best_iteration == 1 + totals.index(min(totals)) and result.run.best_iteration > 1


def test_non_finite_from_the_first_evaluation_has_no_best_iteration(content_file, style_file, vgg16_file):
    result = style_transfer.run_stylize(content_file, style_file, weights=vgg16_file, style_weight=1e40, **FAST)
    assert result.run.stop_reason == "non-finite" and result.run.iterations == 1 and result.run.best_iteration == 0


def test_style_scale_and_blend(content_file, style_file, style_file2, vgg16_file):
    result = style_transfer.run_stylize(content_file, [style_file, style_file2], style_blend_weights=[3, 1],
                                        style_scale=0.75, weights=vgg16_file, size=32, iterations=2)
    assert result.style_sizes == [(24, 24), (18, 24)]
    with pytest.raises(InputError, match="blend weights"):
        style_transfer.run_stylize(content_file, [style_file, style_file2], style_blend_weights=[1],
                                   weights=vgg16_file, **FAST)


def test_original_colors_keeps_grey_content_grey(grey_content_file, style_file, vgg16_file):
    kwargs = dict(weights=vgg16_file, size=32, iterations=20, style_weight=1e5)
    kept = neural_style.stylize(grey_content_file, style_file, original_colors=True, **kwargs)
    assert (kept[:, 0] - kept[:, 1]).abs().max() < 2e-3
    styled = neural_style.stylize(grey_content_file, style_file, **kwargs)
    assert (styled[:, 0] - styled[:, 1]).abs().max() > 0.02


@pytest.mark.parametrize("layers, tap", [("conv4_2", "content_layers"), ("conv1_1:0.5,relu2_1:1", "style_layers")])
def test_conv_taps(layers, tap, content_file, style_file, vgg16_file):
    result = style_transfer.run_stylize(content_file, style_file, weights=vgg16_file, size=32, iterations=3,
                                        **{tap: layers})
    assert result.run.iterations == 3
    history = [h["total"] for h in result.run.history]
    assert result.run.history[0]["style"] > 0 and min(history[1:]) < history[0]  # the best image improved


def test_conv_taps_and_layer_weights(content_file, style_file, vgg16_file):
    """A layer's weight scales its term: 0 removes relu1_1, 0 everywhere removes the style loss."""
    def first_style(layers):
        result = style_transfer.run_stylize(content_file, style_file, weights=vgg16_file, size=32, iterations=1,
                                            style_layers=layers)
        return result.run.history[0]["style"]

    both, only_relu2, relu1 = first_style("relu1_1:1,relu2_1:1"), first_style("relu1_1:0,relu2_1:1"), \
        first_style("relu1_1:1")
    assert only_relu2 > 0 and relu1 > 0
    assert both == pytest.approx(relu1 + only_relu2, rel=1e-4)  # the terms add up, weighted
    assert both != pytest.approx(only_relu2, rel=1e-3)
    assert first_style("relu1_1:2,relu2_1:0") == pytest.approx(2 * relu1, rel=1e-4)
    assert first_style("relu1_1:0,relu2_1:0") == 0.0


def test_adam_and_avg_pooling(content_file, style_file, vgg16_file):
    result = style_transfer.run_stylize(content_file, style_file, weights=vgg16_file, optimizer="adam",
                                        pooling="avg", size=32, iterations=10)
    assert result.run.history[-1]["style"] < result.run.history[0]["style"]


@pytest.mark.parametrize("kwargs, message", [
    ({"size": 4}, "size"),
    ({"style_weight": -1.0}, "style_weight must be a finite number >= 0"),
    ({"tv_beta": 0.0}, "beta"),
    ({"tv_beta": float("inf")}, "tv_beta must be a finite number"),
    ({"style_scale": float("inf")}, "style_scale must be a finite number"),
    ({"style_scale": float("nan")}, "style_scale must be a finite number"),
    ({"content_weight": float("nan")}, "content_weight must be a finite number"),
    ({"lr": float("inf")}, "lr must be a finite number"),
    ({"lr": float("nan")}, "lr must be a finite number"),
    ({"style_blend_weights": [float("inf")]}, "style_blend_weights must be a list of finite numbers"),
    ({"iterations": 0}, "iterations"),
    ({"optimizer": "sgd"}, "optimizer"),
    ({"style_layers": "relu9_9"}, "relu9_9"),
    ({"content_layers": "relu5_4"}, "relu5_4"),  # vgg16 has no relu5_4
    ({"init": "nowhere.png"}, "nowhere.png"),
    ({"device": "tpu"}, "device"),
    ({"size": 16}, "needs at least 16 px per side: use size 19 or more"),  # 16x13: relu5_1 is 4 poolings deep
])
def test_bad_options(kwargs, message, content_file, style_file, vgg16_file):
    options = dict(FAST, weights=vgg16_file)
    options.update(kwargs)
    with pytest.raises(InputError, match=message):
        style_transfer.run_stylize(content_file, style_file, **options)


def test_a_size_that_does_not_fit_is_refused_before_work(content_file, style_file, vgg16_file, monkeypatch):
    monkeypatch.setattr(memory_module, "available_memory", lambda device: 10 * 2**20)
    with pytest.raises(ResourceError, match="smaller size"):
        style_transfer.run_stylize(content_file, style_file, weights=vgg16_file, size=1024, iterations=1)


@pytest.mark.parametrize("precision, name", [("fp32", "fp32"), ("bf16", "bf16")])
def test_precision_is_applied_and_reported(precision, name, content_file, style_file, vgg16_file):
    result = style_transfer.run_stylize(content_file, style_file, weights=vgg16_file, precision=precision,
                                        size=32, iterations=10)
    assert result.precision == name
    assert result.image.dtype == torch.float32
    assert result.run.history[-1]["total"] < result.run.history[0]["total"]


def test_bf16_network_gives_nearly_the_fp32_losses(content_file, style_file, vgg16_file):
    def first(p):
        return style_transfer.run_stylize(content_file, style_file, weights=vgg16_file, precision=p,
                                                     init="random", seed=0, size=32, iterations=1).run.history[0]
    a, b = first("fp32"), first("bf16")
    assert b["style"] == pytest.approx(a["style"], rel=0.05)
    assert b["content"] == pytest.approx(a["content"], rel=0.05)


def test_tiled_run_matches_the_whole_image_run(content_file, style_file, vgg16_file):
    """fp32 through run_stylize: the same first evaluations with 16 px tiles (margins crop for real)."""
    options = dict(weights=vgg16_file, size=48, iterations=4, precision="fp32", content_layers="relu2_2",
                   style_layers="relu1_1,relu2_1,relu3_1", init="random", seed=1)
    whole = style_transfer.run_stylize(content_file, style_file, tile_size=0, **options)
    tiled = style_transfer.run_stylize(content_file, style_file, tile_size=16, **options)
    assert (whole.tile_size, tiled.tile_size) == (0, 16) and whole.lbfgs_history == 100
    for a, b in zip(whole.run.history[:3], tiled.run.history[:3]):
        assert b["total"] == pytest.approx(a["total"], rel=1e-5)
    with pytest.raises(InputError, match="tile_size must be 'auto' or an integer >= 0"):
        style_transfer.run_stylize(content_file, style_file, tile_size=-1, **options)
    with pytest.raises(InputError, match="lbfgs_history must be 'auto' or an integer >= 1"):
        style_transfer.run_stylize(content_file, style_file, lbfgs_history=0, **options)


def test_a_start_image_and_an_extra_term_whole_tiled_and_over_scales(content_file, style_file, vgg16_file):
    """run_stylize(start=, extra_loss=) as a video frame uses them: the extra term is reported and weighs on
    the result alike whether the objective is evaluated whole or in tiles (which accumulate their own
    gradient), and over several scales it applies at the last one only."""
    options = dict(weights=vgg16_file, size=48, iterations=4, precision="fp32", content_layers="relu2_2",
                   style_layers="relu1_1,relu2_1,relu3_1")
    start = torch.rand(1, 3, 40, 48, generator=torch.Generator().manual_seed(2))

    def extra(x):
        return 1e5 * (x - start.to(x.device)).square().mean()

    runs = {tile: style_transfer.run_stylize(content_file, style_file, tile_size=tile, start=start,
                                             extra_loss=extra, **options) for tile in (0, 16)}
    for a, b in zip(runs[0].run.history[:3], runs[16].run.history[:3]):
        assert b["total"] == pytest.approx(a["total"], rel=1e-5) and b["extra"] == pytest.approx(a["extra"], rel=1e-5)
    first = runs[0].run.history[0]
    assert first["extra"] == pytest.approx(0, abs=1e-9)  # it starts at ``start`` (resized: the same size here)
    free = style_transfer.run_stylize(content_file, style_file, tile_size=0, start=start, **options)
    assert "extra" not in free.run.history[0]
    assert extra(runs[0].image) < extra(free.image)  # the term held the result near ``start``
    scaled = style_transfer.run_stylize(content_file, style_file, start=start, extra_loss=extra,
                                        **{**options, "scales": [24, 48], "iterations": 3})
    assert ["extra" in h for h in scaled.run.history] == [False] * 3 + [True] * 3
