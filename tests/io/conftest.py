"""Fixtures of the image tests: a seeded generator, an sRGB profile, a small RGB PNG."""

import numpy as np
import pytest
from PIL import Image, ImageCms


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def icc_profile():
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@pytest.fixture
def rgb_png(tmp_path, rng):
    path = tmp_path / "rgb.png"
    Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)).save(path)
    return path
