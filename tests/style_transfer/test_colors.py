"""stylize's colour modes (``colors``): style, luminance (= ``original_colors``) and histogram, with random
VGG16 weights on tiny images."""

import pytest
import torch

import neural_style
from neural_style.core.color import color_statistics, match_color, rgb_to_yuv
from neural_style.core.tensors import resize_to
from neural_style.errors import InputError
from neural_style.io.decode import to_tensor
from neural_style.rules import validate
from neural_style.settings import StylizeSettings
from neural_style.style_transfer.gatys import evaluate_losses, run_stylize

FAST = dict(size=32, iterations=6, precision="fp32")


def content_at_output(content_file, shape=(27, 32)):
    """The content as run_stylize holds it at the output size (the fixture is 48 x 40: 32 x 27)."""
    return resize_to(to_tensor(content_file, channels=3, reduce_to=32), shape)


def test_luminance_keeps_the_contents_chrominance_exactly(content_file, style_file, vgg16_file):
    out = run_stylize(content_file, style_file, weights=vgg16_file, colors="luminance", style_weight=1e4,
                      **FAST).image
    inside = ((out > 0) & (out < 1)).all(dim=1)  # pixels the final clamp to [0, 1] left alone
    assert inside.float().mean() > 0.5
    uv, content_uv = rgb_to_yuv(out)[:, 1:], rgb_to_yuv(content_at_output(content_file))[:, 1:]
    assert (uv - content_uv).abs().amax(dim=1)[inside].max() < 1e-5


def test_original_colors_is_colors_luminance(content_file, style_file, vgg16_file):
    alias = run_stylize(content_file, style_file, weights=vgg16_file, original_colors=True, **FAST)
    named = run_stylize(content_file, style_file, weights=vgg16_file, colors="luminance", **FAST)
    assert torch.equal(alias.image, named.image) and alias.final_losses == named.final_losses
    assert StylizeSettings(original_colors=True).color_mode() == "luminance"
    assert StylizeSettings(original_colors=True, colors="luminance").color_mode() == "luminance"


def test_histogram_maps_the_styles_to_the_content_before_the_targets(content_file, style_file, vgg16_file):
    """colors="histogram" is the same run as colors="style" with the style recoloured (at its working size,
    to the content at the output size, clamped) beforehand; its losses are those of the recoloured style."""
    histogram = run_stylize(content_file, style_file, weights=vgg16_file, colors="histogram", **FAST)
    style = resize_to(to_tensor(style_file, channels=3, reduce_to=32), tuple(histogram.style_sizes[0]))
    mapped = match_color(style, content_at_output(content_file)).clamp(0, 1)
    by_hand = run_stylize(content_file, mapped, weights=vgg16_file, **FAST)
    assert torch.equal(histogram.image, by_hand.image)
    assert histogram.final_losses == by_hand.final_losses
    plain = run_stylize(content_file, style_file, weights=vgg16_file, **FAST)
    assert not torch.equal(plain.image, histogram.image)
    judged = evaluate_losses(histogram.image, content_file, style_file, weights=vgg16_file, colors="histogram",
                             **FAST)
    assert judged["style"] == pytest.approx(histogram.final_losses["style"], rel=1e-4)


def test_the_api_takes_colors(content_file, style_file, vgg16_file):
    for colors in ("style", "luminance", "luminance-only", "histogram"):
        image = neural_style.stylize(content_file, style_file, weights=vgg16_file, colors=colors, **FAST)
        assert image.shape == (1, 3, 27, 32) and 0 <= image.min() and image.max() <= 1


def test_a_flat_style_with_histogram_does_not_crash(content_file, tmp_path, vgg16_file):
    flat = torch.full((1, 3, 32, 32), 0.5)
    image = neural_style.stylize(content_file, flat, weights=vgg16_file, colors="histogram", **FAST)
    assert torch.isfinite(image).all()
    mean, _ = color_statistics(image)
    assert (mean - color_statistics(content_at_output(content_file))[0]).abs().max() < 0.2


def test_original_colors_with_histogram_is_one_input_error_before_any_work(content_file, style_file, tmp_path):
    message = "original_colors is colors luminance and cannot be combined with colors histogram: choose one"
    with pytest.raises(InputError) as caught:
        validate(StylizeSettings(original_colors=True, colors="histogram"))
    assert str(caught.value) == message
    with pytest.raises(InputError, match="cannot be combined"):  # no weights file: refused before loading
        run_stylize(content_file, style_file, weights=str(tmp_path / "missing.pth"), original_colors=True,
                    colors="histogram", **FAST)
    with pytest.raises(InputError, match="cannot be combined"):
        neural_style.stylize_file(content_file, [style_file], tmp_path / "o.png", original_colors=True,
                                  colors="histogram")
    assert not (tmp_path / "o.png").exists()
    with pytest.raises(InputError, match="must be one of style, luminance, luminance-only, histogram, got 'lab'"):
        run_stylize(content_file, style_file, colors="lab")
