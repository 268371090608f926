"""Helpers of the image tests (tests/io): files made with Pillow, exact 16-bit comparisons, one-line errors."""

import numpy as np

ORIENTATION = 0x0112
ARTIST = 0x013B


def save(image, path, **options):
    image.save(path, **options)
    return path


def as_uint16(array):
    return np.round(array * 65535).astype(np.uint16)


def with_alpha(data):
    return data.pixels if data.alpha is None else np.concatenate([data.pixels, data.alpha[..., None]], axis=2)


def assert_one_line_error(excinfo, error_class, *fragments):
    assert type(excinfo.value) is error_class
    message = str(excinfo.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def smooth_image():
    y, x = np.mgrid[0:32, 0:48] / np.float32(48)
    return np.stack([x, y, (x + y) / 2], axis=2).astype(np.float32)
