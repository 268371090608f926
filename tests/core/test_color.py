import pytest
import torch

from neural_style.core.color import rgb_to_yuv, transfer_luminance, yuv_to_rgb


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
