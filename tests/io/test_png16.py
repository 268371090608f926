"""Tests for neural_style.io.png16: exact 16-bit round trips, every PNG filter, damaged files."""


import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from neural_style.errors import InputError
from neural_style.io.decode import read_image
from neural_style.io.encode import write_image

from .imagetools import as_uint16, with_alpha


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


def test_bad_crc_in_16_bit_png(tmp_path, rng):
    path = write_image(tmp_path / "bad.png", rng.random((8, 8, 3), dtype=np.float32), bit_depth=16)
    content = bytearray(path.read_bytes())
    content[-20] ^= 0xFF  # inside the IDAT data
    path.write_bytes(bytes(content))
    with pytest.raises(InputError, match="bad.png.*corrupt"):
        read_image(path)
