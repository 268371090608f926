"""restore's linear operators (blur, downsampling, mask, their chain) and blur kernels.

Every operator is checked against its adjoint by the inner-product test ``<A x, y> = <x, A^T y>`` in
float64, against the reference it documents (scipy's convolution, torch's antialiased bicubic
interpolation, Pillow's BICUBIC reduction), and the power-iteration norm against the explicit matrix.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from neural_style.denoising.kernels import (
    MAX_KERNEL_SIDE,
    box_kernel,
    check_kernel,
    gaussian_kernel,
    kernel_from_spec,
    motion_kernel,
)
from neural_style.denoising.operators import (
    Blur,
    Chain,
    Downsample,
    Mask,
    fast_length,
    norm2,
    resampling_matrix,
    use_fft,
)
from neural_style.errors import InputError

RTOL = 1e-10


def random_kernel(kh=5, kw=3, seed=3):
    """A non-negative, non-symmetric kernel (odd sides, sum 1), float64."""
    g = torch.Generator().manual_seed(seed)
    kernel = torch.rand(kh, kw, generator=g, dtype=torch.float64) ** 3
    kernel[0, 0] += 1.0  # strongly off-centre: any flip or transpose of the kernel shows
    return kernel / kernel.sum()


KERNELS = {
    "gaussian:1.2": lambda: kernel_from_spec("gaussian:1.2"),
    "motion:7,0": lambda: kernel_from_spec("motion:7,0"),
    "motion:6,90": lambda: kernel_from_spec("motion:6,90"),
    "motion:9,30": lambda: kernel_from_spec("motion:9,30"),
    "motion:8.5,135": lambda: kernel_from_spec("motion:8.5,135"),
    "box:3": lambda: kernel_from_spec("box:3"),
    "box:4": lambda: kernel_from_spec("box:4"),
    "random": random_kernel,
}


def randn(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def inner_product_gap(op, channels=2, seed=0):
    """|<A x, y> - <x, A^T y>| relative to the larger of the two, and the two values."""
    x = randn(1, channels, *op.in_shape, seed=seed)
    y = randn(1, channels, *op.out_shape, seed=seed + 1)
    ax = op.forward(x)
    assert ax.dtype == torch.float64 and tuple(ax.shape[-2:]) == tuple(op.out_shape)
    aty = op.adjoint(y)
    assert aty.dtype == torch.float64 and tuple(aty.shape[-2:]) == tuple(op.in_shape)
    left, right = float((ax * y).sum()), float((x * aty).sum())
    return abs(left - right) / max(abs(left), abs(right)), left, right


# --- Blur -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fft", [True, False], ids=["fft", "direct"])
@pytest.mark.parametrize("name", list(KERNELS))
def test_blur_adjoint_by_inner_product(name, fft):
    kernel = KERNELS[name]().double()
    op = Blur(kernel, (13, 11), fft)
    assert op.in_shape == (13 + kernel.shape[0] - 1, 11 + kernel.shape[1] - 1)
    gap, left, right = inner_product_gap(op)
    assert gap < RTOL, (left, right)


@pytest.mark.parametrize("name", list(KERNELS))
def test_blur_fft_and_direct_agree(name):
    kernel = KERNELS[name]().double()
    fft, direct = Blur(kernel, (12, 14), True), Blur(kernel, (12, 14), False)
    x = randn(1, 3, *fft.in_shape)
    y = randn(1, 3, 12, 14, seed=5)
    torch.testing.assert_close(fft.forward(x), direct.forward(x), rtol=0, atol=1e-12)
    torch.testing.assert_close(fft.adjoint(y), direct.adjoint(y), rtol=0, atol=1e-12)


@pytest.mark.parametrize("out_shape", [(11, 13), (23, 29)], ids=["13x11", "29x23"])
def test_blur_fft_at_a_padded_size_is_exact_and_its_adjoint(out_shape):
    # x's sides (17 x 19, 29 x 35 for a 7 x 7 kernel) have prime factors the FFT pads past (18 x 20, 30 x 36)
    kernel = kernel_from_spec("box:7").double()
    fft, direct = Blur(kernel, out_shape, True), Blur(kernel, out_shape, False)
    assert fft.fft_shape != fft.in_shape
    x = randn(1, 2, *fft.in_shape)
    torch.testing.assert_close(fft.forward(x), direct.forward(x), rtol=0, atol=1e-12)
    gap, left, right = inner_product_gap(fft)
    assert gap < RTOL, (left, right)


@pytest.mark.parametrize("n, expected", [(1, 1), (7, 8), (11, 12), (13, 14), (17, 18), (262, 270), (263, 270),
                                         (514, 540), (526, 540), (782, 784), (1024, 1024), (2161, 2240)])
def test_fast_length_is_the_next_even_7_smooth_size(n, expected):
    assert fast_length(n) == expected


def convolve_valid(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The valid part of the true convolution ``y[i] = sum_j k[j] x[i - j]`` (scipy.signal.convolve2d's
    ``mode="valid"``), written out: the reference the operators are checked against (scipy is not a
    dependency)."""
    kh, kw = kernel.shape
    height, width = x.shape[0] - kh + 1, x.shape[1] - kw + 1
    out = np.zeros((height, width))
    for a in range(kh):
        for b in range(kw):
            out += kernel[a, b] * x[kh - 1 - a:kh - 1 - a + height, kw - 1 - b:kw - 1 - b + width]
    return out


@pytest.mark.parametrize("fft", [True, False], ids=["fft", "direct"])
def test_blur_is_the_valid_part_of_a_true_convolution(fft):
    """``y[i] = sum_j k[j] x[i - j]`` (scipy.signal.convolve2d's orientation), keeping the valid part."""
    kernel = random_kernel(5, 3)
    op = Blur(kernel, (9, 10), fft)
    x = randn(1, 1, *op.in_shape)
    expected = convolve_valid(x[0, 0].numpy(), kernel.numpy())
    np.testing.assert_allclose(op.forward(x)[0, 0].numpy(), expected, rtol=0, atol=1e-12)
    assert op.margin == (2, 1)


def test_blur_keeps_a_constant_and_the_batch_shape():
    op = Blur(kernel_from_spec("gaussian:1.0"), (6, 7), False)
    x = torch.full((2, 3, *op.in_shape), 0.25, dtype=torch.float64)
    out = op.forward(x)
    assert out.shape == (2, 3, 6, 7)
    torch.testing.assert_close(out, torch.full_like(out, 0.25), rtol=0, atol=1e-12)


def test_use_fft_follows_the_measured_tap_limit():
    """Every kernel of more than DIRECT_MAX_TAPS taps (kh x kw, zeros included) runs by FFT; a 1 x 1 directly."""
    from neural_style.denoising.operators import DIRECT_MAX_TAPS

    assert not use_fft(torch.ones(1, 1, dtype=torch.float64))
    assert use_fft(kernel_from_spec("box:3"))  # FFT measured faster from 3 x 3 on (operators.DIRECT_MAX_TAPS)
    for spec in ("box:3", "box:6", "gaussian:2", "motion:9,0"):
        kernel = kernel_from_spec(spec)
        assert use_fft(kernel) == (kernel.numel() > DIRECT_MAX_TAPS)


# --- Downsample -----------------------------------------------------------------------------------


def reduction(factor, low=(9, 8)):
    high = (round(low[0] * factor), round(low[1] * factor))
    return Downsample.between(high, low), high, low


@pytest.mark.parametrize("factor", [2, 3, 4, 1.7])
def test_downsample_adjoint_by_inner_product(factor):
    op, high, low = reduction(factor)
    assert op.in_shape == high and op.out_shape == low
    gap, left, right = inner_product_gap(op)
    assert gap < RTOL, (left, right)


@pytest.mark.parametrize("factor", [2, 3, 4, 1.7])
def test_downsample_is_torch_antialiased_bicubic(factor):
    op, high, low = reduction(factor)
    x = torch.rand(1, 3, *high, generator=torch.Generator().manual_seed(1))
    expected = F.interpolate(x, size=low, mode="bicubic", antialias=True, align_corners=False)
    torch.testing.assert_close(op.forward(x), expected, rtol=0, atol=1e-6)
    x64 = x.double()
    exact = Downsample(resampling_matrix(high[0], low[0]), resampling_matrix(high[1], low[1]))
    torch.testing.assert_close(exact.forward(x64), F.interpolate(x64, size=low, mode="bicubic", antialias=True,
                                                                 align_corners=False), rtol=0, atol=1e-12)


@pytest.mark.parametrize("factor", [2, 3])
def test_downsample_matches_pillow_bicubic_reduction(factor):
    """The documented model: Pillow's ``resize(..., BICUBIC)`` of a float ("F") image."""
    low = (7, 9)
    high = (low[0] * factor, low[1] * factor)
    x = np.random.default_rng(2).random(high).astype(np.float32)
    pillow = np.asarray(Image.fromarray(x, "F").resize((low[1], low[0]), Image.BICUBIC), dtype=np.float64)
    ours = Downsample.between(high, low).forward(torch.from_numpy(x).double()[None, None])[0, 0].numpy()
    np.testing.assert_allclose(ours, pillow, rtol=0, atol=1e-5)


def test_resampling_rows_sum_to_one():
    for size_in, size_out in ((20, 10), (17, 10), (12, 3)):
        rows = resampling_matrix(size_in, size_out)
        assert rows.shape == (size_out, size_in)
        torch.testing.assert_close(rows.sum(1), torch.ones(size_out, dtype=torch.float64), rtol=0, atol=1e-12)


# --- Mask and Chain -------------------------------------------------------------------------------


def known_pixels(shape, seed=4):
    known = torch.rand(*shape, generator=torch.Generator().manual_seed(seed)) > 0.3
    return known.to(torch.float64)[None, None]


def test_mask_adjoint_by_inner_product_and_self_adjoint():
    op = Mask(known_pixels((10, 12)))
    assert op.in_shape == op.out_shape == (10, 12)
    gap, left, right = inner_product_gap(op)
    assert gap < RTOL, (left, right)
    x = randn(1, 3, 10, 12)
    torch.testing.assert_close(op.forward(x), op.adjoint(x), rtol=0, atol=0)
    assert bool((op.forward(x)[..., op.known[0, 0] == 0] == 0).all())
    torch.testing.assert_close(op.forward(x)[..., op.known[0, 0] == 1], x[..., op.known[0, 0] == 1])


@pytest.mark.parametrize("fft", [True, False], ids=["fft", "direct"])
@pytest.mark.parametrize("factor", [2, 1.7])
@pytest.mark.parametrize("name", ["gaussian:1.2", "motion:9,30", "box:4", "random"])
def test_chain_blur_downsample_mask_by_inner_product(name, factor, fft):
    """Built as degradation.build_problem builds it: blur at the output size, reduce, mask."""
    kernel = KERNELS[name]().double()
    low = (8, 7)
    high = (round(low[0] * factor), round(low[1] * factor))
    chain = Chain([Blur(kernel, high, fft), Downsample.between(high, low), Mask(known_pixels(low))])
    assert chain.in_shape == (high[0] + kernel.shape[0] - 1, high[1] + kernel.shape[1] - 1)
    assert chain.out_shape == low
    gap, left, right = inner_product_gap(chain, channels=3)
    assert gap < RTOL, (left, right)


# --- norm2 ----------------------------------------------------------------------------------------


def explicit_matrix(op):
    """A as a (n_out, n_in) matrix, from the images of the unit vectors."""
    n = op.in_shape[0] * op.in_shape[1]
    basis = torch.eye(n, dtype=torch.float64).view(n, 1, *op.in_shape)
    return op.forward(basis).reshape(n, -1).T


@pytest.mark.parametrize("fft", [True, False], ids=["fft", "direct"])
@pytest.mark.parametrize("name", ["gaussian:1.2", "motion:7,0", "random"])
def test_norm2_is_near_the_largest_singular_value_squared(name, fft):
    op = Blur(KERNELS[name]().double(), (6, 5), fft)
    matrix = explicit_matrix(op)
    gap, _, _ = inner_product_gap(op)  # the explicit matrix is the operator's
    assert gap < RTOL
    true = float(torch.linalg.matrix_norm(matrix, 2)) ** 2
    estimate = norm2(op)
    assert abs(estimate - true) <= 0.05 * true, (estimate, true)
    assert estimate >= true * (1 - 1e-6), (estimate, true)  # an upper estimate: steps from it are safe


def test_norm2_of_a_chain_and_of_an_empty_mask():
    kernel = kernel_from_spec("gaussian:1.0").double()
    chain = Chain([Blur(kernel, (8, 8), False), Downsample.between((8, 8), (4, 4)), Mask(known_pixels((4, 4)))])
    true = float(torch.linalg.matrix_norm(explicit_matrix(chain), 2)) ** 2
    assert true * (1 - 1e-6) <= norm2(chain) <= 1.05 * true
    assert norm2(Mask(torch.zeros(1, 1, 4, 4))) == 0.0


# --- kernels --------------------------------------------------------------------------------------


SPECS = ["gaussian:0.5", "gaussian:1.6", "gaussian:3", "motion:1,0", "motion:5,0", "motion:15,30", "motion:9.5,117",
         "motion:6,90", "motion:40,-20", "box:1", "box:2", "box:3", "box:4", "box:7"]


@pytest.mark.parametrize("spec", SPECS)
def test_kernels_are_normalised_odd_and_non_negative(spec):
    kernel = kernel_from_spec(spec)
    assert kernel.dtype == torch.float64 and kernel.ndim == 2
    assert kernel.shape[0] % 2 == 1 and kernel.shape[1] % 2 == 1
    assert float(kernel.min()) >= 0
    assert math.isclose(float(kernel.sum()), 1.0, rel_tol=0, abs_tol=1e-12)
    assert max(kernel.shape) <= MAX_KERNEL_SIDE


@pytest.mark.parametrize("sigma", [0.5, 1.6, 3.0])
def test_gaussian_kernel_side_symmetry_and_centre(sigma):
    kernel = gaussian_kernel(sigma)
    side = 2 * math.ceil(3 * sigma) + 1
    assert kernel.shape == (side, side)
    torch.testing.assert_close(kernel, kernel.flip(0), rtol=0, atol=0)
    torch.testing.assert_close(kernel, kernel.T, rtol=0, atol=0)
    assert int(kernel.argmax()) == (side // 2) * side + side // 2
    r = torch.arange(side, dtype=torch.float64) - side // 2
    variance = float((kernel.sum(1) * r.square()).sum())
    assert variance == pytest.approx(sigma * sigma, rel=0.05 if sigma >= 1 else 0.2)


def centroid(kernel):
    rows = torch.arange(kernel.shape[0], dtype=torch.float64)
    cols = torch.arange(kernel.shape[1], dtype=torch.float64)
    return float((kernel.sum(1) * rows).sum()), float((kernel.sum(0) * cols).sum())


@pytest.mark.parametrize("angle", [0, 180])
def test_motion_kernel_at_0_degrees_is_horizontal(angle):
    kernel = motion_kernel(7, angle)
    assert kernel.shape[0] == 1 and kernel.shape[1] >= 7
    assert centroid(kernel)[1] == pytest.approx(kernel.shape[1] // 2, abs=1e-9)


@pytest.mark.parametrize("angle", [90, -90])
def test_motion_kernel_at_90_degrees_is_vertical(angle):
    kernel = motion_kernel(7, angle)
    assert kernel.shape[1] == 1 and kernel.shape[0] >= 7
    assert centroid(kernel)[0] == pytest.approx(kernel.shape[0] // 2, abs=1e-9)


@pytest.mark.parametrize("length, angle, same", [(7, 270, 90), (7, 360, 0), (25, 180, 0)])
def test_motion_kernel_of_an_equivalent_angle_is_the_same_line(length, angle, same):
    kernel, reference = motion_kernel(length, angle), motion_kernel(length, same)
    assert kernel.shape == reference.shape
    assert int((kernel != 0).sum()) == int((reference != 0).sum())


def test_motion_kernel_at_45_degrees_rises_to_the_right():
    """Counter-clockwise from the x axis with y up: the line runs from bottom-left to top-right."""
    kernel = motion_kernel(9, 45)
    n = kernel.shape[0]
    assert kernel.shape == (n, n)
    anti = sum(float(kernel[i, n - 1 - i]) for i in range(n))
    main = sum(float(kernel[i, i]) for i in range(n) if i != n // 2)
    assert anti > 0.5 and main < 0.05
    assert float(kernel[:n // 2, n // 2 + 1:].sum()) > 0.3  # top-right quadrant
    assert float(kernel[:n // 2, :n // 2].sum()) < 1e-12  # top-left quadrant


@pytest.mark.parametrize("length, angle", [(7, 30), (12, 63), (5.5, 150)])
def test_motion_kernel_is_centred(length, angle):
    kernel = motion_kernel(length, angle)
    row, col = centroid(kernel)
    assert row == pytest.approx(kernel.shape[0] // 2, abs=1e-9)
    assert col == pytest.approx(kernel.shape[1] // 2, abs=1e-9)
    # the line's extent along its direction: about LENGTH px
    theta = math.radians(angle)
    ys, xs = torch.nonzero(kernel > 1e-3, as_tuple=True)
    along = (xs - kernel.shape[1] // 2) * math.cos(theta) - (ys - kernel.shape[0] // 2) * math.sin(theta)
    assert float(along.max() - along.min()) == pytest.approx(length - 1, abs=1.5)


def test_box_kernels_odd_and_even():
    odd = box_kernel(3)
    torch.testing.assert_close(odd, torch.full((3, 3), 1 / 9, dtype=torch.float64))
    even = kernel_from_spec("box:4")
    assert even.shape == (5, 5)
    assert float(even[4].abs().sum()) == 0 and float(even[:, 4].abs().sum()) == 0
    torch.testing.assert_close(even[:4, :4], torch.full((4, 4), 1 / 16, dtype=torch.float64))


@pytest.mark.parametrize("spec, fragment", [
    ("blob:3", "expected gaussian:SIGMA"),
    ("gaussian", "gaussian takes 1"),
    ("gaussian:", "gaussian takes 1"),
    ("gaussian:abc", "expected numbers"),
    ("gaussian:1,2", "gaussian takes 1"),
    ("gaussian:nan", "finite"),
    ("gaussian:inf", "finite"),
    ("gaussian:0", "0 < SIGMA"),
    ("gaussian:-1", "0 < SIGMA"),
    ("gaussian:100", "0 < SIGMA"),
    ("motion:5", "motion takes 2"),
    ("motion:5,x", "expected numbers"),
    ("motion:0.5,0", "1 <= LENGTH"),
    ("motion:300,0", "1 <= LENGTH"),
    ("box:0", "whole SIZE"),
    ("box:2.5", "whole SIZE"),
    ("box:-3", "whole SIZE"),
    ("box:256", "whole SIZE"),
    ("box:3,3", "box takes 1"),
])
def test_kernel_spec_errors_are_one_line(spec, fragment):
    with pytest.raises(InputError) as info:
        kernel_from_spec(spec)
    message = str(info.value)
    assert "\n" not in message
    assert f"'{spec}'" in message and fragment in message, message


def test_largest_gaussian_accepted_fits_the_kernel_limit():
    largest = (MAX_KERNEL_SIDE // 2) / 3
    assert max(kernel_from_spec(f"gaussian:{largest!r}").shape) == MAX_KERNEL_SIDE
    with pytest.raises(InputError, match="SIGMA <= 42.33"):
        kernel_from_spec(f"gaussian:{MAX_KERNEL_SIDE / 6:g}")


def test_largest_kernels_accepted_fit_the_limit():
    assert max(kernel_from_spec(f"box:{MAX_KERNEL_SIDE}").shape) <= MAX_KERNEL_SIDE
    assert max(kernel_from_spec(f"motion:{MAX_KERNEL_SIDE - 4},45").shape) <= MAX_KERNEL_SIDE
    assert max(kernel_from_spec("gaussian:42").shape) <= MAX_KERNEL_SIDE


@pytest.mark.parametrize("kernel, fragment", [
    (torch.zeros(0, 0), "2-D"),
    (torch.zeros(0, 3), "2-D"),
    (torch.ones(5), "2-D"),
    (torch.ones(3, 3, 1), "2-D"),
    (torch.ones(1, 3, 3), "2-D"),
    (torch.tensor([[0.5, -0.1, 0.6]]), "negative"),
    (torch.zeros(3, 3), "all zero"),
    (torch.tensor([[0.2, float("nan"), 0.2]]), "NaN"),
    (torch.tensor([[0.2, float("inf"), 0.2]]), "infinite"),
    (torch.ones(MAX_KERNEL_SIDE + 2, 1), f"at most {MAX_KERNEL_SIDE} px"),
])
def test_check_kernel_refuses(kernel, fragment):
    with pytest.raises(InputError) as info:
        check_kernel(kernel, "kernel 'k.npy'")
    message = str(info.value)
    assert "\n" not in message and "kernel 'k.npy'" in message and fragment in message, message


def test_check_kernel_normalises_pads_and_trims():
    kernel = check_kernel(torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]) * 7)
    assert kernel.dtype == torch.float64
    torch.testing.assert_close(kernel, torch.tensor([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=torch.float64) / 16)
    # integer input, even sides: a zero last row and column
    even = check_kernel(torch.ones(2, 4, dtype=torch.int64))
    assert even.shape == (3, 5) and even.dtype == torch.float64
    torch.testing.assert_close(even[:2, :4], torch.full((2, 4), 1 / 8, dtype=torch.float64))
    assert float(even[2].sum()) == 0 and float(even[:, 4].sum()) == 0
    # an empty border is trimmed, keeping the kernel centred
    padded = torch.zeros(7, 9, dtype=torch.float64)
    padded[2:5, 3:6] = torch.arange(1.0, 10.0).view(3, 3)
    trimmed = check_kernel(padded)
    torch.testing.assert_close(trimmed, torch.arange(1.0, 10.0, dtype=torch.float64).view(3, 3) / 45)
    # off-centre content keeps its offset (only equal margins come off)
    corner = torch.zeros(5, 5, dtype=torch.float64)
    corner[0, 0] = 1.0
    assert check_kernel(corner).shape == (5, 5)
