"""Tests for neural_style.core.tensors: conversions of images in memory and resizing."""


import numpy as np
import pytest
import torch

from neural_style.core.tensors import resize_long_side, resize_to, tensor_to_array, to_pil
from neural_style.errors import InputError


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


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
