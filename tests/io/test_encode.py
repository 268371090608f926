"""Tests for neural_style.io.encode: round trips in every format, metadata, alpha, what a format cannot hold."""


import numpy as np
import pytest
import torch
from PIL import Image

from neural_style.io.decode import read_image
from neural_style.io.encode import write_image

from .imagetools import ARTIST, ORIENTATION, as_uint16, save, smooth_image


def test_png8_round_trip_exact(tmp_path, rng):
    for shape in [(5, 6), (5, 6, 3)]:
        values = rng.integers(0, 256, shape, dtype=np.uint8)
        alpha = rng.integers(0, 256, (5, 6), dtype=np.uint8)
        data = read_image(write_image(tmp_path / "a.png", values, alpha=alpha / 255))
        assert data.bit_depth == 8
        np.testing.assert_array_equal(np.round(data.pixels * 255).reshape(shape), values)
        np.testing.assert_array_equal(np.round(data.alpha * 255), alpha)


def test_write_rounds_instead_of_truncating(tmp_path):
    data = read_image(write_image(tmp_path / "a.png", np.full((2, 2), 0.999, np.float32)))
    assert data.pixels.max() == 1.0


@pytest.mark.parametrize("name, tolerance", [("a.jpg", 0.03), ("a.jpeg", 0.03), ("a.webp", 0.03), ("a.tif", 0.5 / 255)])
def test_lossy_and_tiff_round_trip(tmp_path, name, tolerance):
    pixels = smooth_image()
    data = read_image(write_image(tmp_path / name, torch.from_numpy(pixels).permute(2, 0, 1)[None]))
    assert data.pixels.shape == (32, 48, 3) and data.bit_depth == 8
    assert np.abs(data.pixels - pixels).mean() < tolerance


def test_tiff_16_bit_grey_and_colour_exact(tmp_path, rng):
    values = rng.integers(0, 65536, (4, 5), dtype=np.uint16)
    data = read_image(write_image(tmp_path / "g.tif", values / 65535, bit_depth=16))
    assert data.bit_depth == 16
    np.testing.assert_array_equal(as_uint16(data.pixels[..., 0]), values)
    colour = rng.integers(0, 65536, (4, 5, 3), dtype=np.uint16)
    alpha = rng.integers(0, 65536, (4, 5), dtype=np.uint16)
    data = read_image(write_image(tmp_path / "c.tif", colour / 65535, bit_depth=16, alpha=alpha / 65535))
    assert data.bit_depth == 16  # tifffile: Pillow alone would write and read 8 bits
    np.testing.assert_array_equal(as_uint16(data.pixels), colour)
    np.testing.assert_array_equal(as_uint16(data.alpha), alpha)


@pytest.mark.parametrize("name, bit_depth", [("a.png", 8), ("a.png", 16), ("a.jpg", 8), ("a.tif", 8), ("a.webp", 8)])
def test_icc_profile_and_exif_survive(tmp_path, icc_profile, name, bit_depth):
    exif = Image.Exif()
    exif[ARTIST] = "tester"
    path = write_image(tmp_path / name, smooth_image(), bit_depth=bit_depth, icc_profile=icc_profile, exif=exif.tobytes())
    data = read_image(path)
    assert data.icc_profile == icc_profile
    if name.endswith(".tif"):  # Pillow stores TIFF EXIF tags in the image directory itself
        with Image.open(path) as image:
            assert image.getexif()[ARTIST] == "tester"
    else:
        tags = Image.Exif()
        tags.load(data.exif)
        assert tags[ARTIST] == "tester"


def test_metadata_passes_from_read_to_write(tmp_path, icc_profile):
    exif = Image.Exif()
    exif[ORIENTATION] = 8
    source = save(Image.fromarray(np.zeros((4, 6, 3), np.uint8)), tmp_path / "in.jpg", exif=exif.tobytes(),
                  icc_profile=icc_profile)
    data = read_image(source)
    out = write_image(tmp_path / "out.jpg", data.pixels, icc_profile=data.icc_profile, exif=data.exif)
    again = read_image(out)
    assert again.pixels.shape == (6, 4, 3)  # not rotated a second time
    assert again.icc_profile == icc_profile


def test_alpha_passthrough(tmp_path):
    alpha = np.linspace(0, 1, 48, dtype=np.float32).reshape(6, 8)
    pixels = np.full((6, 8, 3), 0.5, np.float32)
    png = read_image(write_image(tmp_path / "a.png", pixels, alpha=torch.from_numpy(alpha)[None, None]))
    np.testing.assert_allclose(png.alpha, alpha, atol=0.5 / 255)
    webp = read_image(write_image(tmp_path / "a.webp", pixels, alpha=alpha))
    np.testing.assert_allclose(webp.alpha, alpha, atol=0.05)
    with pytest.warns(UserWarning, match=r"a\.jpg' cannot hold the alpha channel"):
        assert read_image(write_image(tmp_path / "a.jpg", pixels, alpha=alpha)).alpha is None


def test_write_image_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="bit_depth"):
        write_image(tmp_path / "a.png", smooth_image(), bit_depth=12)
    with pytest.raises(ValueError, match="alpha"):
        write_image(tmp_path / "a.png", smooth_image(), alpha=np.zeros((2, 2)))
    with pytest.raises(ValueError):
        write_image(tmp_path / "a.png", np.zeros((4, 4, 2), np.float32))
    with pytest.raises(TypeError, match="expected"):
        write_image(tmp_path / "a.png", [[0.5]])


def test_exif_in_a_16_bit_tiff_is_said_to_be_dropped(tmp_path):
    exif = Image.Exif()
    exif[0x013B] = "tester"
    with pytest.warns(UserWarning, match=r"a\.tif' cannot hold EXIF data at 16 bits \(dropped\): use \.png"):
        write_image(tmp_path / "a.tif", smooth_image(), bit_depth=16, exif=exif.tobytes())
    assert read_image(tmp_path / "a.tif").bit_depth == 16
