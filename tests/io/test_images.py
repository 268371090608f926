"""Tests for neural_style.io.images: reading, conversion, resizing and atomic writing."""

import errno
import os
import re
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageCms, ImageOps

from neural_style.errors import InputError, NeuralStyleError
from neural_style.io import images
from neural_style.io.images import (
    ImageData,
    atomic_write,
    check_output_path,
    read_image,
    resize_long_side,
    resize_to,
    tensor_to_array,
    to_pil,
    to_tensor,
    write_image,
)

ORIENTATION = 0x0112
ARTIST = 0x013B


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


def save(image, path, **options):
    image.save(path, **options)
    return path


def as_uint16(array):
    return np.round(array * 65535).astype(np.uint16)


def with_alpha(data):
    return data.pixels if data.alpha is None else np.concatenate([data.pixels, data.alpha[..., None]], axis=2)


def png_chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def encode_png16(samples, filters, interlace=0):
    """A 16-bit PNG whose rows use the given filter types in turn (independent of the package's encoder)."""
    height, width, channels = samples.shape
    rows = samples.astype(">u2").reshape(height, -1).view(np.uint8).astype(np.int16)
    bpp = 2 * channels
    up = np.vstack([np.zeros_like(rows[:1]), rows[:-1]])
    left = np.pad(rows, ((0, 0), (bpp, 0)))[:, :-bpp]
    up_left = np.pad(up, ((0, 0), (bpp, 0)))[:, :-bpp]
    p = left + up - up_left
    pa, pb, pc = np.abs(p - left), np.abs(p - up), np.abs(p - up_left)
    paeth = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, up_left))
    predictions = [np.zeros_like(rows), left, up, (left + up) // 2, paeth]
    raw = b"".join(
        bytes([f]) + ((rows[y] - predictions[f][y]) % 256).astype(np.uint8).tobytes()
        for y, f in ((y, filters[y % len(filters)]) for y in range(height))
    )
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, interlace)
    return (
        b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b"")
    )


def assert_one_line_error(excinfo, error_class, *fragments):
    assert type(excinfo.value) is error_class
    message = str(excinfo.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


# ---------------------------------------------------------------- modes


GREY = np.array([[0, 50, 100], [150, 200, 255]], np.uint8)


def palette_image():
    image = Image.new("P", (3, 2))
    image.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * 759)
    image.putdata([0, 1, 2, 2, 1, 0])
    return image


def test_mode_1(tmp_path):
    image = Image.new("1", (3, 2))
    image.putpixel((2, 1), 1)
    data = read_image(save(image, tmp_path / "a.png"))
    assert data.pixels.shape == (2, 3, 1) and data.alpha is None and data.bit_depth == 8
    assert data.pixels[1, 2, 0] == 1 and data.pixels.sum() == 1


def test_mode_l(tmp_path):
    data = read_image(save(Image.fromarray(GREY), tmp_path / "a.png"))
    assert data.pixels.shape == (2, 3, 1) and data.alpha is None
    np.testing.assert_array_equal(data.pixels[..., 0], GREY / np.float32(255))
    assert data.pixels.dtype == np.float32 and data.path == tmp_path / "a.png"


def test_mode_la(tmp_path):
    image = Image.fromarray(np.stack([GREY, 255 - GREY], axis=2))
    assert image.mode == "LA"
    data = read_image(save(image, tmp_path / "a.png"))
    assert data.pixels.shape == (2, 3, 1)
    np.testing.assert_array_equal(data.alpha, (255 - GREY) / np.float32(255))


def test_mode_p_without_transparency(tmp_path):
    data = read_image(save(palette_image(), tmp_path / "a.png"))
    assert data.pixels.shape == (2, 3, 3) and data.alpha is None
    np.testing.assert_array_equal(data.pixels[0, 0], [1, 0, 0])
    np.testing.assert_array_equal(data.pixels[0, 1], [0, 1, 0])


@pytest.mark.parametrize("extension", [".png", ".gif"])
def test_mode_p_with_transparency(tmp_path, extension):
    data = read_image(save(palette_image(), tmp_path / ("a" + extension), transparency=1))
    assert data.pixels.shape == (2, 3, 3) and data.alpha is not None
    np.testing.assert_array_equal(data.alpha, [[1, 0, 1], [1, 0, 1]])


def test_mode_rgb_and_rgba(tmp_path, rng):
    rgba = rng.integers(0, 256, (4, 5, 4), dtype=np.uint8)
    data = read_image(save(Image.fromarray(rgba), tmp_path / "a.png"))
    np.testing.assert_array_equal(data.pixels, rgba[..., :3] / np.float32(255))
    np.testing.assert_array_equal(data.alpha, rgba[..., 3] / np.float32(255))
    data = read_image(save(Image.fromarray(rgba[..., :3]), tmp_path / "b.png"))
    assert data.pixels.shape == (4, 5, 3) and data.alpha is None


def test_mode_rgbx():
    data = read_image(Image.new("RGBX", (3, 2), (10, 20, 30, 0)))
    assert data.pixels.shape == (2, 3, 3) and data.alpha is None
    np.testing.assert_allclose(data.pixels[0, 0], np.array([10, 20, 30]) / 255)


def test_mode_cmyk_becomes_rgb(tmp_path, icc_profile):
    path = save(Image.new("CMYK", (3, 2), (255, 0, 0, 0)), tmp_path / "a.tif", icc_profile=icc_profile)
    with pytest.warns(UserWarning, match="is CMYK: it is read as RGB"):  # said: the output will be RGB
        data = read_image(path)
    assert data.pixels.shape == (2, 3, 3) and data.alpha is None
    np.testing.assert_array_equal(data.pixels[1, 2], [0, 1, 1])
    assert data.icc_profile is None  # a CMYK profile would be wrong for the RGB pixels


def test_mode_ycbcr():
    data = read_image(Image.new("YCbCr", (3, 2), (255, 128, 128)))
    assert data.pixels.shape == (2, 3, 3)
    np.testing.assert_allclose(data.pixels, 1, atol=0.01)


def test_mode_i16_file(tmp_path, rng):
    values = rng.integers(0, 65536, (3, 4), dtype=np.uint16)
    image = Image.fromarray(values)
    assert image.mode == "I;16"
    for name in ("a.tif", "a.png"):
        data = read_image(save(image, tmp_path / name))
        assert data.bit_depth == 16 and data.pixels.shape == (3, 4, 1)
        np.testing.assert_array_equal(data.pixels[..., 0], values / np.float32(65535))


@pytest.mark.parametrize("mode", ["I;16B", "I;16L"])
def test_mode_i16_variants(rng, mode):
    values = rng.integers(0, 65536, (3, 4), dtype=np.uint16)
    raw = values.astype(">u2" if mode == "I;16B" else "<u2").tobytes()
    data = read_image(Image.frombytes(mode, (4, 3), raw))
    assert data.bit_depth == 16
    np.testing.assert_array_equal(as_uint16(data.pixels[..., 0]), values)


def test_mode_i_and_f(tmp_path):
    ints = np.array([[0, 1000, 65535, 65535]], np.int32)
    data = read_image(save(Image.fromarray(ints), tmp_path / "i.tif"))
    assert data.bit_depth == 16
    np.testing.assert_allclose(data.pixels[0, :, 0], [0, 1000 / 65535, 1, 1])
    ints[0, -1] = 70000  # beyond 16 bits: no standard range (2**31 - 1 would make it black, 65535 white)
    with pytest.raises(InputError, match=r"32-bit integer samples \(0..70000\) beyond 16 bits"):
        read_image(save(Image.fromarray(ints), tmp_path / "i32.tif"))
    floats = np.array([[-0.5, 0.25, 0.75, 2.0]], np.float32)
    with pytest.warns(UserWarning, match=r"32-bit float samples: read as 0..1 at 16-bit precision "
                                          r"\(values -0.5..2 clipped\)"):
        data = read_image(save(Image.fromarray(floats), tmp_path / "f.tif"))
    assert data.bit_depth == 16
    np.testing.assert_allclose(data.pixels[0, :, 0], [0, 0.25, 0.75, 1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_colour_float_tiffs_are_read_as_0_to_1_with_a_warning(tmp_path, dtype):
    import tifffile

    samples = np.linspace(-0.25, 1.25, 4 * 5 * 3).reshape(4, 5, 3).astype(dtype)
    tifffile.imwrite(tmp_path / "f.tif", samples, photometric="rgb")
    with pytest.warns(UserWarning, match=rf"{np.dtype(dtype).itemsize * 8}-bit float samples: read as 0..1"):
        data = read_image(tmp_path / "f.tif")
    assert data.bit_depth == 16 and data.pixels.shape == (4, 5, 3)
    np.testing.assert_allclose(data.pixels, np.clip(samples, 0, 1), atol=1e-7)


# ---------------------------------------------------------------- orientation


@pytest.mark.parametrize("orientation, corner", [(6, (0, -1)), (8, (-1, 0))])
def test_jpeg_exif_orientation(tmp_path, orientation, corner):
    pixels = np.zeros((8, 16, 3), np.uint8)
    pixels[:4, :4] = (255, 0, 0)  # mark the top-left corner red
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[ARTIST] = "tester"
    path = save(Image.fromarray(pixels), tmp_path / "a.jpg", exif=exif.tobytes(), quality=95)
    data = read_image(path)
    assert data.pixels.shape == (16, 8, 3)
    np.testing.assert_allclose(data.pixels[corner], [1, 0, 0], atol=0.1)
    tags = Image.Exif()
    tags.load(data.exif)
    assert tags[ORIENTATION] == 1 and tags[ARTIST] == "tester"


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_matches_pillow(tmp_path, rng, orientation):
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    image = Image.fromarray(rng.integers(0, 256, (3, 5, 3), dtype=np.uint8))
    path = save(image, tmp_path / "a.png", exif=exif.tobytes())
    with Image.open(path) as opened:
        expected = np.asarray(ImageOps.exif_transpose(opened)) / np.float32(255)
    np.testing.assert_array_equal(read_image(path).pixels, expected)


def test_tiff_orientation_tag(tmp_path):
    image = Image.fromarray(np.zeros((2, 5), np.uint8))
    tags = image.getexif()
    tags[ORIENTATION] = 6
    data = read_image(save(image, tmp_path / "a.tif", exif=tags))
    assert data.pixels.shape == (5, 2, 1) and data.exif is None


def test_orientation_on_16_bit_png(tmp_path, rng):
    values = rng.integers(0, 65536, (3, 5, 3), dtype=np.uint16)
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    path = write_image(tmp_path / "a.png", values / 65535, bit_depth=16, exif=exif.tobytes())
    data = read_image(path)
    np.testing.assert_array_equal(as_uint16(data.pixels), np.rot90(values, -1))


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("channels, with_alpha_channel", [(1, False), (1, True), (3, False), (3, True)])
def test_png16_round_trip_exact(tmp_path, rng, channels, with_alpha_channel):
    values = rng.integers(0, 65536, (7, 9, channels), dtype=np.uint16)
    alpha = rng.integers(0, 65536, (7, 9), dtype=np.uint16) if with_alpha_channel else None
    path = write_image(
        tmp_path / "a.png", values / 65535, bit_depth=16,
        alpha=None if alpha is None else alpha / 65535,
    )
    data = read_image(path)
    assert data.bit_depth == 16
    np.testing.assert_array_equal(as_uint16(data.pixels), values)
    if alpha is None:
        assert data.alpha is None
    else:
        np.testing.assert_array_equal(as_uint16(data.alpha), alpha)


@pytest.mark.parametrize("channels", [2, 3, 4])
@pytest.mark.parametrize("filters", [[0], [1], [2], [3], [4], [0, 1, 2, 3, 4]])
def test_png16_decoder_handles_every_filter(tmp_path, rng, channels, filters):
    values = rng.integers(0, 65536, (6, 5, channels), dtype=np.uint16)
    values[2] = 65535  # saturated rows exercise the modulo arithmetic
    path = tmp_path / "a.png"
    path.write_bytes(encode_png16(values, filters))
    with Image.open(path) as image:  # Pillow keeps the high bytes: checks the test encoder
        assert np.asarray(image)[..., : min(channels, 4)].shape[:2] == (6, 5)
        if channels != 2:
            np.testing.assert_array_equal(np.asarray(image), values >> 8)
    np.testing.assert_array_equal(as_uint16(with_alpha(read_image(path))), values)


def test_interlaced_png16_falls_back_to_pillow(tmp_path):
    path = tmp_path / "interlaced.png"  # a 1 x 1 Adam7 image is laid out like a plain one
    path.write_bytes(encode_png16(np.array([[[65535, 32768, 0]]], np.uint16), [0], interlace=1))
    data = read_image(path)
    assert data.bit_depth == 8
    np.testing.assert_array_equal(data.pixels[0, 0] * 255, [255, 128, 0])


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


def smooth_image():
    y, x = np.mgrid[0:32, 0:48] / np.float32(48)
    return np.stack([x, y, (x + y) / 2], axis=2).astype(np.float32)


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


# ---------------------------------------------------------------- read errors


def test_missing_file(tmp_path):
    with pytest.raises(InputError) as excinfo:
        read_image(tmp_path / "cat.jpg", what="content image")
    assert_one_line_error(excinfo, InputError, "content image", "cat.jpg", "does not exist")
    assert excinfo.value.exit_code == 2


def test_directory(tmp_path):
    with pytest.raises(InputError) as excinfo:
        read_image(tmp_path, what="style image")
    assert_one_line_error(excinfo, InputError, "style image", str(tmp_path), "directory")


def test_text_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not an image\n")
    with pytest.raises(InputError) as excinfo:
        read_image(path)
    assert_one_line_error(excinfo, InputError, "notes.txt", "not an image")


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.png"
    path.touch()
    with pytest.raises(InputError) as excinfo:
        read_image(path)
    assert_one_line_error(excinfo, InputError, "empty.png", "0-byte")


@pytest.mark.parametrize("bit_depth", [8, 16])
def test_truncated_png(tmp_path, rng, bit_depth):
    path = write_image(tmp_path / "cut.png", rng.random((64, 64, 3), dtype=np.float32), bit_depth=bit_depth)
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    with pytest.raises(InputError) as excinfo:
        read_image(path)
    assert_one_line_error(excinfo, InputError, "cut.png", "corrupt or truncated")


def test_bad_crc_in_16_bit_png(tmp_path, rng):
    path = write_image(tmp_path / "bad.png", rng.random((8, 8, 3), dtype=np.float32), bit_depth=16)
    content = bytearray(path.read_bytes())
    content[-20] ^= 0xFF  # inside the IDAT data
    path.write_bytes(bytes(content))
    with pytest.raises(InputError, match="bad.png.*corrupt"):
        read_image(path)


def test_permission_denied(tmp_path, rgb_png, monkeypatch):
    def refuse(self):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(InputError) as excinfo:
        read_image(rgb_png)
    assert_one_line_error(excinfo, InputError, "rgb.png", "permission denied")


def test_too_large_checked_before_decoding(tmp_path, rgb_png, monkeypatch):
    monkeypatch.setattr(Image.Image, "load", lambda self: pytest.fail("decoded a too large image"))
    with pytest.raises(InputError) as excinfo:
        read_image(rgb_png, max_pixels=47)
    assert_one_line_error(excinfo, InputError, "rgb.png", "too large", "8 x 6 = 48 pixels, limit 47", "downscale")


def test_pillow_decompression_bomb_is_reported(rgb_png, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)
    with pytest.raises(InputError) as excinfo:
        read_image(rgb_png)
    assert_one_line_error(excinfo, InputError, "rgb.png", "too large", "downscale")


def test_empty_images():
    with pytest.raises(InputError, match="empty"):
        read_image(np.zeros((0, 4, 3), np.uint8))
    with pytest.raises(InputError, match="empty"):
        read_image(Image.new("RGB", (0, 3)))


def test_bad_array_sources():
    with pytest.raises(InputError, match="shape"):
        read_image(np.zeros((4, 4, 5), np.uint8))
    with pytest.raises(InputError, match="NaN"):
        read_image(np.full((2, 2), np.nan, np.float32))
    with pytest.raises(TypeError, match="expected"):
        read_image(np.zeros((2, 2), np.int64))
    with pytest.raises(TypeError, match="expected"):
        read_image(42)


# ---------------------------------------------------------------- output paths and atomic writes


@pytest.mark.parametrize("name", ["out.bmp", "out"])
def test_unsupported_output_extension(tmp_path, name):
    with pytest.raises(InputError) as excinfo:
        write_image(tmp_path / name, smooth_image())
    assert_one_line_error(excinfo, InputError, name, ".png, .jpg")
    assert not (tmp_path / name).exists()


def test_output_extension_is_case_insensitive(tmp_path):
    assert check_output_path(tmp_path / "OUT.PNG") == tmp_path / "OUT.PNG"


def test_refuse_to_overwrite_input(tmp_path, rgb_png, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for output in (rgb_png, "rgb.png", "./sub/../rgb.png"):
        with pytest.raises(InputError) as excinfo:
            check_output_path(output, inputs=[None, str(rgb_png)])
        assert_one_line_error(excinfo, InputError, "refusing to overwrite input", "rgb.png")
    link = tmp_path / "link.png"
    link.symlink_to(rgb_png)
    with pytest.raises(InputError, match="refusing"):
        check_output_path(link, inputs=[rgb_png])
    assert check_output_path("other.png", inputs=[rgb_png, "missing.png"]) == Path("other.png")


@pytest.mark.parametrize("what, make", [
    ("output", lambda blocker: blocker / "out.png"),
    ("output", lambda blocker: blocker / "a" / "b" / "out.png"),
    ("report", lambda blocker: blocker / "r.json"),
])
def test_output_under_a_file_is_refused_before_any_work(tmp_path, what, make):
    blocker = tmp_path / "existing.png"
    blocker.write_bytes(b"x")
    path = make(blocker)
    with pytest.raises(InputError) as excinfo:
        check_output_path(path, extensions=(".json",) if what == "report" else images.OUTPUT_EXTENSIONS, what=what)
    assert_one_line_error(excinfo, InputError, f"cannot write {what} '{path}'",
                          f"'{blocker}' is a file, not a folder", "choose another output folder")
    assert blocker.read_bytes() == b"x" and list(tmp_path.iterdir()) == [blocker]


def test_output_in_an_unwritable_folder_is_refused(tmp_path, monkeypatch):
    calls = []

    def access(path, mode):
        calls.append((Path(path), mode))
        return False

    monkeypatch.setattr(os, "access", access)
    path = tmp_path / "new" / "deeper" / "out.png"  # not there yet: the nearest existing folder counts
    with pytest.raises(InputError) as excinfo:
        check_output_path(path)
    assert_one_line_error(excinfo, InputError, f"cannot write output '{path}'",
                          f"folder '{tmp_path}' is not writable")
    assert calls and calls[0][0] == tmp_path and calls[0][1] & os.W_OK
    monkeypatch.undo()
    assert check_output_path(path) == path  # writable: accepted, nothing created yet
    assert not (tmp_path / "new").exists()


def test_output_path_relative_to_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert check_output_path("out.png") == Path("out.png")
    assert check_output_path(Path("sub") / "out.png") == Path("sub/out.png")


def test_output_is_directory(tmp_path):
    directory = tmp_path / "out.png"
    directory.mkdir()
    with pytest.raises(InputError) as excinfo:
        write_image(directory, smooth_image())
    assert_one_line_error(excinfo, InputError, "out.png", "directory")


def test_unwritable_location(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError) as excinfo:  # checked before encoding, as in check_output_path
        write_image(blocker / "out.png", smooth_image())
    assert_one_line_error(excinfo, InputError, "cannot write output", "out.png", "is a file, not a folder")
    assert excinfo.value.exit_code == 2
    with pytest.raises(NeuralStyleError) as excinfo:  # atomic_write on its own still says why
        atomic_write(blocker / "out.png", lambda temporary: temporary.write_bytes(b""))
    assert_one_line_error(excinfo, NeuralStyleError, "could not write", "out.png", "is not a folder")
    assert excinfo.value.exit_code == 1


def test_permission_denied_while_writing(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(images, "_create_temporary", refuse)
    with pytest.raises(NeuralStyleError) as excinfo:
        write_image(tmp_path / "out.png", smooth_image())
    assert_one_line_error(excinfo, NeuralStyleError, "could not write", "out.png", "Permission denied")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_read_only_directory(tmp_path):
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(NeuralStyleError, match="could not write"):
            write_image(tmp_path / "out.png", smooth_image())
    finally:
        tmp_path.chmod(0o700)


def test_creates_parent_directories_and_leaves_no_temporary_files(tmp_path):
    path = write_image(tmp_path / "a" / "b" / "out.png", smooth_image())
    assert path.is_file() and os.listdir(path.parent) == ["out.png"]
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_failed_write_leaves_existing_output_untouched(tmp_path, monkeypatch):
    out = tmp_path / "out.png"
    out.write_bytes(b"previous result")

    def broken_save(self, fp, *args, **kwargs):
        Path(fp).write_bytes(b"partial")
        raise RuntimeError("encoder crashed")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(RuntimeError, match="encoder crashed"):
        write_image(out, smooth_image())
    assert out.read_bytes() == b"previous result"
    assert os.listdir(tmp_path) == ["out.png"]


def test_os_error_while_writing_becomes_neural_style_error(tmp_path, monkeypatch):
    out = tmp_path / "out.png"
    out.write_bytes(b"previous result")

    def disk_full(source, target):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(NeuralStyleError) as excinfo:
        write_image(out, smooth_image(), bit_depth=16)
    assert_one_line_error(excinfo, NeuralStyleError, "could not write", "out.png", "No space left")
    assert out.read_bytes() == b"previous result"
    assert os.listdir(tmp_path) == ["out.png"]


def test_atomic_write_helper(tmp_path):
    seen = []

    def writer(temporary):
        seen.append(temporary)
        assert temporary.parent == tmp_path and temporary.name.startswith(".report.json.")
        temporary.write_text("{}")

    assert atomic_write(tmp_path / "report.json", writer) == tmp_path / "report.json"
    assert (tmp_path / "report.json").read_text() == "{}" and not seen[0].exists()
    assert os.listdir(tmp_path) == ["report.json"]


# ---------------------------------------------------------------- tensors


def test_to_tensor_from_every_source(tmp_path, rgb_png):
    expected = to_tensor(rgb_png)
    assert expected.shape == (1, 3, 6, 8) and expected.dtype == torch.float32
    with Image.open(rgb_png) as opened:
        rgb = np.asarray(opened)
    sources = [
        str(rgb_png), Image.open(rgb_png), rgb, rgb.astype(np.uint16) * 257,
        rgb / 255.0, expected, expected[0], read_image(rgb_png),
    ]
    for source in sources:
        torch.testing.assert_close(to_tensor(source), expected)
    assert to_tensor(rgb_png, device="cpu").device.type == "cpu"


def test_to_tensor_channel_conversions(rng):
    rgb = rng.random((4, 5, 3), dtype=np.float32)
    grey = to_tensor(rgb, channels=1)
    assert grey.shape == (1, 1, 4, 5)
    torch.testing.assert_close(grey[0, 0], torch.from_numpy(rgb @ np.array([0.299, 0.587, 0.114], np.float32)))
    replicated = to_tensor(rgb[..., 0], channels=3)
    assert replicated.shape == (1, 3, 4, 5)
    assert torch.equal(replicated[0, 0], replicated[0, 2])
    assert to_tensor(rgb[..., 0], channels=None).shape == (1, 1, 4, 5)
    assert to_tensor(np.dstack([rgb, rgb[..., :1]]), channels=None).shape == (1, 3, 4, 5)  # alpha dropped
    with pytest.raises(ValueError, match="channels"):
        to_tensor(rgb, channels=2)


def test_tensor_to_array_and_to_pil():
    tensor = torch.tensor([[[-0.5, 0.5], [1.5, 1.0]]])
    array = tensor_to_array(tensor[None])
    assert array.shape == (2, 2, 1) and array.dtype == np.float32
    np.testing.assert_array_equal(array[..., 0], [[0, 0.5], [1, 1]])
    assert to_pil(tensor).mode == "L"
    assert to_pil(tensor.repeat(3, 1, 1)).mode == "RGB"
    assert np.asarray(to_pil(np.full((2, 3, 3), 0.5))).tolist() == [[[128] * 3] * 3] * 2
    with pytest.raises(TypeError, match="expected"):
        tensor_to_array(np.zeros((2, 2, 3)))
    with pytest.raises(ValueError):
        tensor_to_array(torch.zeros(2, 3, 4, 4))


# ---------------------------------------------------------------- resizing


@pytest.mark.parametrize(
    "shape, long_side, expected",
    [
        ((30, 40), 100, (75, 100)),  # landscape, enlarge
        ((40, 30), 20, (20, 15)),  # portrait, shrink
        ((7, 5), 3, (3, 2)),  # odd sizes
        ((5, 7), 9, (6, 9)),
        ((1, 100), 10, (1, 10)),  # a side never drops below 1
        ((33, 33), 17, (17, 17)),
    ],
)
def test_resize_long_side(rng, shape, long_side, expected):
    image = torch.from_numpy(rng.random((1, 3) + shape, dtype=np.float32))
    resized = resize_long_side(image, long_side)
    assert resized.shape == (1, 3) + expected
    assert resized.min() >= 0 and resized.max() <= 1


def test_resize_identity_and_3d():
    image = torch.rand(3, 8, 6)
    assert resize_long_side(image, 8) is image
    assert resize_to(image, (4, 3)).shape == (3, 4, 3)
    checker = (torch.arange(64).reshape(8, 8) % 2).float().expand(1, 3, 8, 8)
    enlarged = resize_to(checker, (20, 20))
    assert enlarged.min() >= 0 and enlarged.max() <= 1  # bicubic overshoot is clamped
    with pytest.raises(InputError):
        resize_long_side(image, 0)


def test_image_data_is_returned_as_is(rgb_png):
    data = read_image(rgb_png)
    assert isinstance(data, ImageData) and read_image(data) is data
    assert images.OUTPUT_EXTENSIONS[0] == ".png"


# --- decoding at reduced size and the memory check before decoding (issue 10, kind 4) -----------

@pytest.mark.parametrize("ext", [".png", ".jpg"])
def test_reduce_to_decodes_a_large_file_at_reduced_size_never_below_the_target(tmp_path, ext):
    path = tmp_path / f"wide{ext}"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (1000, 2000, 3), dtype=np.uint8)).save(path)
    for target in (64, 100, 333, 999, 1000, 5000):
        pixels = read_image(path, reduce_to=target).pixels
        long_side = max(pixels.shape[:2])
        assert long_side >= min(target, 2000) and (long_side < 2 * target or long_side == 2000), (target, long_side)
        assert abs(pixels.shape[1] - 2 * pixels.shape[0]) <= 2  # the aspect is kept (to a pixel)
    assert read_image(path).pixels.shape[:2] == (1000, 2000)


def test_reduced_decoding_matches_a_full_decode_then_resize(tmp_path):
    path = tmp_path / "smooth.png"
    y, x = np.mgrid[0:800, 0:1200]
    Image.fromarray(((np.sin(x / 90) + np.cos(y / 70)) * 60 + 128).astype(np.uint8)).save(path)
    full = to_tensor(path)
    reduced = to_tensor(path, reduce_to=100)
    assert max(reduced.shape[-2:]) < 300
    assert float((resize_long_side(full, 100) - resize_long_side(reduced, 100)).abs().max()) < 0.02


def test_memory_is_checked_from_the_header_before_decoding(tmp_path, monkeypatch):
    from neural_style.core import device

    path = tmp_path / "a.png"
    Image.new("RGB", (300, 200)).save(path)
    monkeypatch.setattr(device, "available_memory", lambda dev: 1000)
    with pytest.raises(InputError, match=r"is 300x200 px: decoding it needs about [\d.]+ MiB but [\d.]+ MiB are free"):
        read_image(path, what="content image")
    assert read_image(path, reduce_to=100).pixels.shape[:2] == (67, 100)  # reduced: no full-size check


def test_to_tensor_with_reduce_to_keeps_the_exact_shape_of_a_full_resize(tmp_path):
    for height, width in ((40, 48), (1001, 2999), (777, 333)):
        path = tmp_path / f"{height}x{width}.png"
        Image.fromarray(np.zeros((height, width, 3), np.uint8)).save(path)
        for target in (16, 100, 250):
            expected = resize_long_side(to_tensor(path), target) if 2 * target <= max(height, width) else to_tensor(path)
            assert to_tensor(path, reduce_to=target).shape[-2:] == expected.shape[-2:]


def test_exif_in_a_16_bit_tiff_is_said_to_be_dropped(tmp_path):
    exif = Image.Exif()
    exif[0x013B] = "tester"
    with pytest.warns(UserWarning, match=r"a\.tif' cannot hold EXIF data at 16 bits \(dropped\): use \.png"):
        write_image(tmp_path / "a.tif", smooth_image(), bit_depth=16, exif=exif.tobytes())
    assert read_image(tmp_path / "a.tif").bit_depth == 16


def test_a_library_warning_while_reading_names_the_file(tmp_path, monkeypatch):
    path = save(Image.new("RGB", (4, 3)), tmp_path / "a.png")
    real = images._read_file

    def corrupt_exif(*args, **kwargs):
        warnings.warn("Corrupt EXIF data.  Expecting to read 12 bytes but only got 6.", UserWarning, stacklevel=2)
        return real(*args, **kwargs)

    monkeypatch.setattr(images, "_read_file", corrupt_exif)
    with pytest.warns(UserWarning, match=rf"^content image '{re.escape(str(path))}': Corrupt EXIF data"):
        read_image(path, what="content image")
