"""The 16-bit PNG codec: Pillow reads 16-bit colour PNGs as 8 bit and writes only grey ones, so
non-interlaced 16-bit PNGs with colour or alpha are decoded here (every filter, chunk CRCs checked)
and every 16-bit PNG is encoded here (the 'up' filter), with its ICC profile, EXIF and resolution."""

import struct
import zlib
from pathlib import Path
from typing import Optional, Tuple

import numpy as np

from .imagedata import EXIF_PREFIX, ImageData, exif_orientation, make_image_data, parse_exif

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_COLOUR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # samples per pixel -> PNG colour type


def is_png16(data: bytes) -> bool:
    """True for non-interlaced 16-bit PNGs with colour or alpha, which Pillow reads as 8 bit."""
    return (
        len(data) > 28 and data.startswith(PNG_SIGNATURE) and data[12:16] == b"IHDR"
        and data[24] == 16 and data[25] in (2, 4, 6) and data[28] == 0
    )


def _png_chunks(data: bytes):
    """Yield (type, payload) for each chunk of a PNG file, checking lengths and CRCs."""
    pos = len(PNG_SIGNATURE)
    while True:
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])  # struct.error when truncated
        payload, crc = data[pos + 8:pos + 8 + length], data[pos + 8 + length:pos + 12 + length]
        if len(crc) != 4 or zlib.crc32(kind + payload) != struct.unpack(">I", crc)[0]:
            raise ValueError(f"PNG chunk {kind.decode('latin-1')} is truncated or has a bad CRC")
        yield kind, payload
        if kind == b"IEND":
            return
        pos += 12 + length


def read_png16(data: bytes, size: Tuple[int, int], path: Path) -> ImageData:
    """Decode a 16-bit PNG (:func:`is_png16`) of ``size`` (W, H); ValueError, zlib.error or struct.error
    for a damaged one."""
    (width, height), channels = size, {2: 3, 4: 2, 6: 4}[data[25]]
    idat, icc_profile, exif, dpi = [], None, None, None
    for kind, payload in _png_chunks(data):
        if kind == b"IDAT":
            idat.append(payload)
        elif kind == b"iCCP":
            icc_profile = zlib.decompress(payload[payload.index(b"\0") + 2:])
        elif kind == b"eXIf":
            exif = EXIF_PREFIX + payload
        elif kind == b"pHYs" and len(payload) == 9 and payload[8] == 1:  # pixels per metre
            x, y = struct.unpack(">II", payload[:8])
            dpi = (x * 0.0254, y * 0.0254) if x and y else None
    stride = width * channels * 2
    raw = zlib.decompress(b"".join(idat))
    if len(raw) < height * (stride + 1):
        raise ValueError("PNG image data is truncated")
    rows = np.frombuffer(raw, np.uint8, height * (stride + 1)).reshape(height, stride + 1)
    scan = _unfilter(rows[:, 1:].reshape(height, width, 2 * channels), rows[:, 0])
    samples = scan.view(">u2").reshape(height, width, channels) / np.float32(65535)
    return make_image_data(samples, 16, icc_profile, exif, exif_orientation(lambda: parse_exif(exif)), path, dpi)


def _unfilter(scan: np.ndarray, filters: np.ndarray) -> np.ndarray:
    """Undo the PNG row filters 0-4 on scanline bytes (H, W, bytes per pixel).

    Byte (y, x) depends only on (y, x-1), (y-1, x) and (y-1, x-1), so all pixels with
    y + x == t can be reconstructed together: H + W - 1 vectorised steps.
    ``skew[t + 2, y + 1]`` holds pixel (y, t - y); the slots never written stay zero and
    stand for the pixels outside the image.
    """
    if filters.max() > 4:
        raise ValueError(f"unknown PNG filter type {filters.max()}")
    if (filters == 2).all():  # 'up' everywhere, as write_image does: a running sum down the rows
        result = scan.copy()
        for y in range(1, len(result)):
            result[y] += result[y - 1]
        return result
    height, width, bpp = scan.shape
    skew = np.zeros((height + width + 1, height + 1, bpp), np.uint8)
    ys = np.arange(height)
    for t in range(height + width - 1):
        y0, y1 = max(0, t - width + 1), min(height, t + 1)
        a = skew[t + 1, y0 + 1:y1 + 1].astype(np.int16)  # left
        b = skew[t + 1, y0:y1].astype(np.int16)  # up
        c = skew[t, y0:y1].astype(np.int16)  # up-left
        p = a + b - c
        pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
        paeth = np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))
        f = filters[y0:y1, None]
        prediction = np.select([f == 1, f == 2, f == 3, f == 4], [a, b, (a + b) >> 1, paeth], 0)
        skew[t + 2, y0 + 1:y1 + 1] = (scan[ys[y0:y1], t - ys[y0:y1]] + prediction) & 255
    return skew[ys[:, None] + np.arange(width) + 2, ys[:, None] + 1]


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def encode_png16(samples: np.ndarray, icc_profile: Optional[bytes], exif: Optional[bytes],
                  dpi: Optional[Tuple[float, float]] = None) -> bytes:
    """Encode uint16 samples (H, W, C), C in 1-4, as a 16-bit PNG with the 'up' filter."""
    height, width, channels = samples.shape
    rows = samples.astype(">u2").reshape(height, -1).view(np.uint8)
    filtered = rows.copy()
    filtered[1:] -= rows[:-1]
    raw = np.concatenate([np.full((height, 1), 2, np.uint8), filtered], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 16, _PNG_COLOUR_TYPES[channels], 0, 0, 0)
    chunks = [_png_chunk(b"IHDR", header)]
    if icc_profile:
        chunks.append(_png_chunk(b"iCCP", b"ICC Profile\0\0" + zlib.compress(icc_profile)))
    if exif:
        chunks.append(_png_chunk(b"eXIf", exif[len(EXIF_PREFIX):]))
    if dpi:
        chunks.append(_png_chunk(b"pHYs", struct.pack(">IIB", round(dpi[0] / 0.0254), round(dpi[1] / 0.0254), 1)))
    chunks += [_png_chunk(b"IDAT", zlib.compress(raw.tobytes())), _png_chunk(b"IEND", b"")]
    return PNG_SIGNATURE + b"".join(chunks)
