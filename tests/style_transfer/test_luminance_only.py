"""stylize's ``colors="luminance-only"`` (Gatys et al. 2017, Sec. 5.1): the luminance of the content stylised
with the luminance of the styles, then given the content's chrominance; random VGG16 weights, tiny images."""

import numpy as np
import pytest
import torch

from neural_style.core.color import rgb_to_yuv
from neural_style.core.tensors import resize_to
from neural_style.errors import InputError
from neural_style.io.decode import to_tensor
from neural_style.rules import validate
from neural_style.settings import StylizeSettings
from neural_style.style_transfer.gatys import evaluate_losses, run_stylize
from neural_style.style_transfer.luminance import grey_rgb, on_luminance

FAST = dict(size=32, iterations=6, precision="fp32", scales="none")


def test_the_result_keeps_the_contents_chrominance_exactly(content_file, style_file, vgg16_file):
    out = run_stylize(content_file, style_file, weights=vgg16_file, colors="luminance-only", style_weight=1e4,
                      **FAST).image
    content = resize_to(to_tensor(content_file, channels=3, reduce_to=32), tuple(out.shape[-2:]))
    inside = ((out > 0) & (out < 1)).all(dim=1)  # pixels the final clamp to [0, 1] left alone
    assert inside.float().mean() > 0.5
    assert (rgb_to_yuv(out)[:, 1:] - rgb_to_yuv(content)[:, 1:]).abs().amax(dim=1)[inside].max() < 1e-5


def test_only_the_luminance_of_the_content_and_styles_counts(content_file, style_file, vgg16_file):
    """A style and its grey (the same luminance, no colour) give the same luminance out; so do a content and
    its grey (each then gets its own chrominance back). A run in colour sees the style's colours."""
    content, style = to_tensor(content_file, channels=3), to_tensor(style_file, channels=3)
    runs = [run_stylize(c, s, weights=vgg16_file, colors="luminance-only", **FAST).image
            for c, s in ((content, style), (content, grey_rgb(style)), (grey_rgb(content), style))]
    y = [rgb_to_yuv(image)[:, 0] for image in runs]
    inside = torch.stack([((image > 0) & (image < 1)).all(dim=1) for image in runs]).all(dim=0)
    assert inside.float().mean() > 0.5
    assert (y[0] - y[1]).abs().max() < 1e-4
    assert (y[0] - y[2])[inside].abs().max() < 1e-4
    assert (runs[0] - runs[2]).abs().max() > 0.05  # the colour content's chrominance, not the grey's
    in_colour = [run_stylize(content, s, weights=vgg16_file, colors="luminance", **FAST).image
                 for s in (style, grey_rgb(style))]
    assert (rgb_to_yuv(in_colour[0])[:, 0] - rgb_to_yuv(in_colour[1])[:, 0]).abs().max() > 1e-3


def test_the_report_judges_the_luminance(content_file, style_file, vgg16_file):
    """final_losses: the delivered image's luminance against the luminance of the content and styles."""
    result = run_stylize(content_file, style_file, weights=vgg16_file, colors="luminance-only", **FAST)
    image = (result.image * 255).round() / 255  # as written
    judged = evaluate_losses(image, content_file, style_file, weights=vgg16_file, colors="luminance-only", **FAST)
    by_hand = evaluate_losses(grey_rgb(image), grey_rgb(to_tensor(content_file, channels=3)),
                              grey_rgb(to_tensor(style_file, channels=3)), weights=vgg16_file, **FAST)
    for term in ("content", "style", "tv", "total"):
        assert judged[term] == pytest.approx(by_hand[term], rel=1e-5)
        assert result.final_losses[term] == pytest.approx(judged[term], rel=1e-2, abs=1e-6)
    assert len(result.final_losses["style_octaves"]) == 1


def test_steps_show_the_image_with_the_contents_colours(content_file, style_file, vgg16_file):
    shown = []
    result = run_stylize(content_file, style_file, weights=vgg16_file, colors="luminance-only",
                         callback=lambda step: shown.append(step.image), **FAST)
    content = resize_to(to_tensor(content_file, channels=3, reduce_to=32), result.content_size)
    assert len(shown) == result.run.iterations
    for image in shown:
        inside = ((image > 0) & (image < 1)).all(dim=1)
        assert (rgb_to_yuv(image)[:, 1:] - rgb_to_yuv(content)[:, 1:]).abs().amax(dim=1)[inside].max() < 1e-5


@pytest.mark.parametrize("tiled", [False, True])
def test_on_luminance_gives_the_gradient_of_the_luminance(tiled):
    """x.grad is the gradient of loss(grey_rgb(x)), also for a loss that accumulates its gradient itself
    (a tiled evaluation, which returns terms without a graph)."""
    weights = torch.rand(1, 3, 5, 6, dtype=torch.float64)

    def loss(x):
        total = (weights * x.square()).sum() + x[:, :, 1:].mul(x[:, :, :-1]).sum()
        if tiled and x.requires_grad:
            total.backward()
            total = total.detach()
        return {"total": total}

    x = torch.rand(1, 3, 5, 6, dtype=torch.float64, requires_grad=True)
    terms = on_luminance(loss)(x)
    reference = x.detach().clone().requires_grad_(True)
    y = grey_rgb(reference)
    value = (weights * y.square()).sum() + y[:, :, 1:].mul(y[:, :, :-1]).sum()
    value.backward()
    assert not terms["total"].requires_grad
    assert terms["total"].item() == pytest.approx(value.item(), rel=1e-12)
    torch.testing.assert_close(x.grad, reference.grad, rtol=1e-12, atol=1e-12)
    with torch.no_grad():
        assert on_luminance(loss)(x)["total"].item() == pytest.approx(value.item(), rel=1e-12)


def test_tiled_equals_whole(content_file, style_file, vgg16_file):
    options = dict(FAST, weights=vgg16_file, colors="luminance-only", iterations=2)
    whole = run_stylize(content_file, style_file, tile_size=0, **options)
    tiled = run_stylize(content_file, style_file, tile_size=16, **options)
    assert tiled.scales[-1].tiles > 1
    for term in ("content", "style", "total"):
        assert tiled.run.history[0][term] == pytest.approx(whole.run.history[0][term], rel=1e-4)
    assert (tiled.image - whole.image).abs().max() < 1e-2


def test_original_colors_with_luminance_only_is_one_input_error():
    with pytest.raises(InputError) as caught:
        validate(StylizeSettings(original_colors=True, colors="luminance-only"))
    assert str(caught.value) == ("original_colors is colors luminance and cannot be combined with colors "
                                 "luminance-only: choose one")


def test_a_clip_keeps_each_frames_chrominance(tmp_path, style_file, vgg16_file):
    """With the temporal loss (which compares the image with the previous frame's output, in colour): each
    frame written has its own frame's chrominance (to the rounding of 8-bit files)."""
    pytest.importorskip("cv2")
    from PIL import Image

    from neural_style.settings import VideoSettings
    from neural_style.video.stylize import frame_path, stylize_clip
    rng = np.random.default_rng(0)
    big = (rng.random((36, 52, 3)) * 255).astype(np.uint8)
    frames = [Image.fromarray(np.ascontiguousarray(big[2:34, 2 * i: 2 * i + 40])) for i in range(3)]
    clip = tmp_path / "pan.gif"
    frames[0].save(clip, save_all=True, append_images=frames[1:], duration=[100] * 3, loop=0)
    out = tmp_path / "frames"
    stylize_clip(clip, [style_file], str(out) + "/",
                 StylizeSettings(size=None, iterations=3, weights=str(vgg16_file), precision="fp32",
                                 colors="luminance-only"), VideoSettings(temporal_weight=1e3))
    for index in range(3):
        written = to_tensor(np.asarray(Image.open(frame_path(out, index))), channels=3)
        source = to_tensor(np.asarray(_frame(clip, index)), channels=3)
        inside = ((written > 2 / 255) & (written < 253 / 255)).all(dim=1)
        chroma = (rgb_to_yuv(written)[:, 1:] - rgb_to_yuv(source)[:, 1:]).abs().amax(dim=1)
        assert inside.float().mean() > 0.5 and chroma[inside].max() < 3 / 255


def _frame(path, index):
    from PIL import Image
    with Image.open(path) as clip:
        clip.seek(index)
        return clip.convert("RGB")
