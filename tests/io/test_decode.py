"""Tests for neural_style.io.decode: every colour mode, EXIF orientation, read errors, tensors from
every source, decoding at reduced size and the memory check before decoding."""

import errno
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageOps

from neural_style.core.tensors import resize_long_side
from neural_style.errors import InputError
from neural_style.io import decode
from neural_style.io.decode import read_image, to_tensor
from neural_style.io.encode import write_image
from neural_style.io.imagedata import ImageData
from neural_style.io.outputs import OUTPUT_EXTENSIONS

from .imagetools import ARTIST, ORIENTATION, as_uint16, assert_one_line_error, save

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


def test_an_image_over_the_pixel_limit_is_reported(rgb_png):
    with pytest.raises(InputError) as excinfo:
        read_image(rgb_png, max_pixels=10)
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


def test_image_data_is_returned_as_is(rgb_png):
    data = read_image(rgb_png)
    assert isinstance(data, ImageData) and read_image(data) is data
    assert OUTPUT_EXTENSIONS[0] == ".png"


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


def test_a_library_warning_while_reading_names_the_file(tmp_path, monkeypatch):
    path = save(Image.new("RGB", (4, 3)), tmp_path / "a.png")
    real = decode._read_file

    def corrupt_exif(*args, **kwargs):
        warnings.warn("Corrupt EXIF data.  Expecting to read 12 bytes but only got 6.", UserWarning, stacklevel=2)
        return real(*args, **kwargs)

    monkeypatch.setattr(decode, "_read_file", corrupt_exif)
    with pytest.warns(UserWarning, match=rf"^content image '{re.escape(str(path))}': Corrupt EXIF data"):
        read_image(path, what="content image")


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` (8-bit grey) and holds no pixel data."""
    import struct
    import zlib
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_the_projects_pixel_limit_governs_not_pillows_bomb_check(tmp_path):
    """A 100 megapixel photo reads without Pillow's "decompression bomb DOS attack" warning; above Pillow's
    error limit (179 Mpx) and under ours (268 Mpx) the file is judged by what it holds; above ours, our line."""
    import warnings

    from PIL import Image

    from neural_style.io.decode import image_shape, is_grey, read_image
    big = tmp_path / "big.png"
    Image.new("L", (10000, 10000), 128).save(big)  # 100 Mpx, a few hundred KB
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = read_image(big, reduce_to=500)
        assert data.full_size == (10000, 10000) and is_grey(big) and image_shape(big) == (10000, 10000)
    assert Image.MAX_IMAGE_PIXELS == 89478485  # Pillow's own setting is left as it was
    claims = tmp_path / "claims.png"
    claims.write_bytes(_png_header(20000, 10000))  # 200 Mpx
    with pytest.raises(InputError, match="is corrupt or truncated"):
        read_image(claims)
    claims.write_bytes(_png_header(20000, 20000))  # 400 Mpx
    with pytest.raises(InputError, match=r"is too large \(20000 x 20000 = 400000000 pixels, limit 268435456\)"):
        read_image(claims)
