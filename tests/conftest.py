"""Shared fixtures: tiny images and VGG weight files with random values.

Tests never download weights. Tests that need real ImageNet features use
``../shared/weights/vgg16-hed.pth`` (see ``shared_dir``) and skip when it is absent.
"""

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from neural_style.core.weights import features_keys

ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """``$NEURAL_STYLE_SHARED`` or the ``shared/`` folder beside the repository."""
    return Path(os.environ.get("NEURAL_STYLE_SHARED", ROOT.parent / "shared"))


def random_vgg_state(model: str, seed: int = 0, prefix: str = "features.") -> dict:
    """A state dict with VGG ``features`` shapes and He-initialised random values."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in features_keys(model).items():
        if key.endswith("weight"):
            fan_in = shape[1] * 9
            state[prefix + key] = torch.randn(shape, generator=g) * (2.0 / fan_in) ** 0.5
        else:
            state[prefix + key] = torch.zeros(shape)
    return state


@pytest.fixture(scope="session")
def vgg16_file(tmp_path_factory) -> Path:
    """Random VGG16 weights saved as ``features.*`` keys (the layout of ../shared/weights)."""
    path = tmp_path_factory.mktemp("weights") / "vgg16-random.pth"
    torch.save(random_vgg_state("vgg16"), path)
    return path


@pytest.fixture(scope="session")
def vgg19_file(tmp_path_factory) -> Path:
    """Random VGG19 weights as a torchvision-style full state dict (with a classifier key)."""
    path = tmp_path_factory.mktemp("weights") / "vgg19-random.pth"
    state = random_vgg_state("vgg19", seed=1)
    state["classifier.0.weight"] = torch.zeros(4, 4)  # classifier keys are ignored, whatever their shape
    torch.save(state, path)
    return path


def _pattern(h: int, w: int, seed: int, colour: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.stack([np.sin(6 * xx + seed), np.cos(5 * yy - seed), np.sin(4 * (xx + yy))], -1)
    img = 0.5 + 0.35 * base + 0.1 * rng.standard_normal((h, w, 3))
    if not colour:
        img = img.mean(-1, keepdims=True).repeat(3, -1)
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


@pytest.fixture
def content_file(tmp_path) -> Path:
    path = tmp_path / "content.png"
    Image.fromarray(_pattern(40, 48, 1, True)).save(path)
    return path


@pytest.fixture
def grey_content_file(tmp_path) -> Path:
    path = tmp_path / "grey.png"
    Image.fromarray(_pattern(40, 48, 1, False)[..., 0], mode="L").save(path)
    return path


@pytest.fixture
def style_file(tmp_path) -> Path:
    path = tmp_path / "style.png"
    img = _pattern(36, 36, 7, True)
    img[..., 0] = 255 - img[..., 0] // 3  # strongly coloured
    Image.fromarray(img).save(path)
    return path


@pytest.fixture
def style_file2(tmp_path) -> Path:
    path = tmp_path / "style2.jpg"
    Image.fromarray(_pattern(30, 40, 3, True)).save(path)
    return path
