"""Style transfer with real ImageNet VGG16 features (../shared/weights/vgg16-hed.pth).

Skipped when the shared folder is absent, as on a user's machine.
"""

import pytest
import torch
import torch.nn.functional as F

from neural_style.core.color import rgb_to_yuv
from neural_style.io.images import resize_long_side, to_tensor
from neural_style.style_transfer.gatys import run_stylize

from ..conftest import shared_dir

SHARED = shared_dir()
WEIGHTS = SHARED / "weights" / "vgg16-hed.pth"
CONTENT = SHARED / "images" / "content" / "tubingen.jpg"
STYLE = SHARED / "images" / "style" / "starry_night.jpg"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (WEIGHTS.is_file() and CONTENT.is_file() and STYLE.is_file()),
                       reason="needs ../shared/weights/vgg16-hed.pth and ../shared/images"),
]


def _structure(image: torch.Tensor) -> torch.Tensor:
    """Luminance edges at a coarse scale: what 'the content's structure' looks like."""
    y = F.avg_pool2d(rgb_to_yuv(image)[:, :1], 4)
    return torch.cat([(y[..., 1:, :] - y[..., :-1, :]).flatten(), (y[..., 1:] - y[..., :-1]).flatten()])


def test_128px_run_lowers_style_loss_10x_and_keeps_the_content():
    result = run_stylize(CONTENT, STYLE, weights=WEIGHTS, size=128, iterations=150, seed=0)
    first, last = result.run.history[0], result.run.history[-1]
    assert result.run.stop_reason == "completed"
    assert last["style"] * 10 <= first["style"], (first["style"], last["style"])

    content = resize_long_side(to_tensor(CONTENT), 128)
    a, b = _structure(result.image), _structure(content)
    correlation = torch.corrcoef(torch.stack([a, b]))[0, 1].item()
    assert correlation > 0.5, correlation
    assert not torch.allclose(result.image, content, atol=0.05)  # and it did change
