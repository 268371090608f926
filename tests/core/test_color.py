import pytest
import torch

from neural_style.core.color import (
    COLOR_MATCH_METHODS,
    color_distance,
    color_statistics,
    match_color,
    rgb_to_yuv,
    transfer_luminance,
    yuv_to_rgb,
)


def test_yuv_round_trip_and_grey_has_no_chroma():
    x = torch.rand(2, 3, 5, 7, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(yuv_to_rgb(rgb_to_yuv(x)), x, atol=1e-5)
    grey = torch.full((1, 3, 2, 2), 0.4)
    yuv = rgb_to_yuv(grey)
    assert torch.allclose(yuv[:, 0], torch.full((1, 2, 2), 0.4), atol=1e-6)
    assert yuv[:, 1:].abs().max() < 1e-6


def test_transfer_luminance_keeps_content_chroma_and_generated_luma():
    g = torch.Generator().manual_seed(1)
    generated = torch.rand(1, 3, 4, 4, generator=g) * 0.5 + 0.25
    content = torch.rand(1, 3, 4, 4, generator=g) * 0.5 + 0.25
    out = transfer_luminance(generated, content)
    assert torch.allclose(rgb_to_yuv(out)[:, 0], rgb_to_yuv(generated)[:, 0], atol=1e-3)
    assert torch.allclose(rgb_to_yuv(out)[:, 1:], rgb_to_yuv(content)[:, 1:], atol=1e-3)


def test_transfer_luminance_of_grey_content_is_grey():
    out = transfer_luminance(torch.rand(1, 3, 4, 4), torch.full((1, 3, 4, 4), 0.5))
    assert (out[:, 0] - out[:, 1]).abs().max() < 1e-5 and (out[:, 1] - out[:, 2]).abs().max() < 1e-5


def test_shapes_must_match():
    with pytest.raises(ValueError, match="expected"):
        transfer_luminance(torch.rand(1, 3, 4, 4), torch.rand(1, 3, 4, 5))


# --- match_color: the colour map of --colors histogram -----------------------------------------

@pytest.mark.parametrize("method", COLOR_MATCH_METHODS)
def test_match_color_gives_the_target_mean_and_covariance_exactly(method):
    """Unclamped, each mapped image has its target's RGB mean and covariance (float64, atol 1e-6)."""
    g = torch.Generator().manual_seed(2)
    source = torch.rand(2, 3, 9, 11, generator=g, dtype=torch.float64) ** 2  # skewed, correlated below
    source[:, 2] = 0.5 * source[:, 0] + 0.5 * source[:, 2]
    target = torch.rand(2, 3, 6, 5, generator=g, dtype=torch.float64)
    target[:, 1] = 0.8 * target[:, 0] + 0.2 * target[:, 1]
    mapped = match_color(source, target, method=method)
    assert mapped.shape == source.shape and mapped.dtype == torch.float64
    mean, cov = color_statistics(mapped)
    target_mean, target_cov = color_statistics(target)
    torch.testing.assert_close(mean, target_mean, atol=1e-6, rtol=0)
    torch.testing.assert_close(cov, target_cov, atol=1e-6, rtol=0)
    assert color_distance(mapped, target).max() < 1e-6
    one = match_color(source, target[:1], method=method)  # one target for every source image
    torch.testing.assert_close(color_statistics(one)[1], color_statistics(target[:1])[1].expand(2, 3, 3),
                               atol=1e-6, rtol=0)


def test_the_pca_map_does_not_depend_on_the_channel_order_and_cholesky_does():
    g = torch.Generator().manual_seed(3)
    source, target = torch.rand(1, 3, 8, 8, generator=g, dtype=torch.float64), torch.rand(1, 3, 8, 8, generator=g,
                                                                                        dtype=torch.float64)
    source[:, 0] = 0.7 * source[:, 1] + 0.3 * source[:, 0]
    bgr = [2, 1, 0]
    pca = match_color(source[:, bgr], target[:, bgr], method="pca")[:, bgr]
    torch.testing.assert_close(pca, match_color(source, target, method="pca"), atol=1e-9, rtol=0)
    cholesky = match_color(source[:, bgr], target[:, bgr], method="cholesky")[:, bgr]
    assert (cholesky - match_color(source, target, method="cholesky")).abs().max() > 1e-3


@pytest.mark.parametrize("method", COLOR_MATCH_METHODS)
def test_a_flat_or_grey_image_does_not_break_the_map(method):
    """A flat style (zero covariance) becomes the target's mean colour; a grey target (a covariance of
    rank 1) gives finite colours: eps * I keeps both invertible."""
    target = torch.rand(1, 3, 5, 5, generator=torch.Generator().manual_seed(4))
    flat = torch.full((1, 3, 4, 6), 0.3)
    mapped = match_color(flat, target, method=method)
    torch.testing.assert_close(mapped, color_statistics(target)[0].float()[..., None, None].expand(1, 3, 4, 6),
                               atol=1e-6, rtol=0)
    grey = target[:, :1].expand(1, 3, 5, 5)
    assert torch.isfinite(match_color(target, grey, method=method)).all()
    assert torch.isfinite(match_color(grey, target, method=method)).all()


def test_match_color_errors_say_what_was_expected():
    with pytest.raises(ValueError, match=r"expected \(B, 3, H, W\) images as source, got \(3, 4, 4\)"):
        match_color(torch.rand(3, 4, 4), torch.rand(1, 3, 4, 4))
    with pytest.raises(ValueError, match="expected .* as target, got"):
        match_color(torch.rand(1, 3, 4, 4), torch.rand(1, 1, 4, 4))
    with pytest.raises(ValueError, match="expected a target batch of 1 or 2"):
        match_color(torch.rand(2, 3, 4, 4), torch.rand(3, 3, 4, 4))
    with pytest.raises(ValueError, match="expected a method in"):
        match_color(torch.rand(1, 3, 4, 4), torch.rand(1, 3, 4, 4), method="lab")
    with pytest.raises(ValueError, match="expected eps >= 0"):
        match_color(torch.rand(1, 3, 4, 4), torch.rand(1, 3, 4, 4), eps=-1)
