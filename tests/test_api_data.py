"""Every Python entry that takes image data treats it the same way (issue 27, kind 1): float arrays and
tensors on the [0, 1] scale are taken, and float data on another scale (0..255) is refused in one line
naming what to do, never clipped into an all-white image."""

import numpy as np
import pytest
import torch

import neural_style
from neural_style.errors import InputError
from neural_style.io.decode import RANGE_MARGIN, read_image, to_tensor

MESSAGE = r"values span \[0, 255\]: expected floats on the \[0, 1\] scale: divide 0..255 data by 255"


def image_255(kind: str):
    rng = np.random.default_rng(0)
    array = rng.random((24, 32, 3)).astype(np.float32)
    array[0, 0], array[0, 1] = 0.0, 1.0  # the span is exactly [0, 1]
    array = array * 255
    return array if kind == "array" else torch.from_numpy(array).permute(2, 0, 1)[None]


ENTRIES = ["stylize content", "stylize style", "evaluate_losses", "style_octave_losses", "denoise", "read_image",
           "to_tensor"]


@pytest.mark.parametrize("kind", ["array", "tensor"])
@pytest.mark.parametrize("entry", ENTRIES)
def test_every_entry_refuses_float_data_on_the_0_255_scale(kind, entry, vgg16_file):
    data = image_255(kind)
    fine = data / 255
    entries = {
        "stylize content": lambda: neural_style.stylize(data, fine, weights=vgg16_file, size=32, iterations=1),
        "stylize style": lambda: neural_style.stylize(fine, data, weights=vgg16_file, size=32, iterations=1),
        "evaluate_losses": lambda: neural_style.evaluate_losses(data, fine, fine, weights=vgg16_file, size=32),
        "style_octave_losses": lambda: neural_style.style_octave_losses(data, fine, weights=vgg16_file, size=32),
        "denoise": lambda: neural_style.denoise(data),
        "read_image": lambda: read_image(data),
        "to_tensor": lambda: to_tensor(data),
    }
    assert sorted(entries) == sorted(ENTRIES)
    with pytest.raises(InputError, match=MESSAGE):
        entries[entry]()


def test_the_same_data_on_the_0_1_scale_is_taken(vgg16_file):
    fine = image_255("tensor") / 255
    assert neural_style.stylize(fine, fine, weights=vgg16_file, size=32, iterations=1).shape == (1, 3, 24, 32)
    assert neural_style.denoise(fine[0].permute(1, 2, 0).numpy(), sigma=0.05).shape == (24, 32, 3)


def test_the_scale_rule_lets_noise_stray_and_clips_it_for_stylize():
    noisy = np.linspace(-RANGE_MARGIN, 1 + RANGE_MARGIN, 24 * 32 * 3, dtype=np.float32).reshape(24, 32, 3)
    assert float(to_tensor(noisy).min()) == 0.0 and float(to_tensor(noisy).max()) == 1.0  # clipped, not refused
    assert read_image(noisy, clip=False).pixels.min() == pytest.approx(-RANGE_MARGIN)  # kept for denoising
    with pytest.raises(InputError, match=r"values span \[-3.99, 5.01\]"):
        read_image(noisy + np.float32(0.01))
