"""Restoration in memory (``run_restore``, ``neural_style.restore``): exact solutions of tiny problems,
the borders of a deblurred image, enlargement consistent with its model, masks, and the kinds of images
the Python API takes and gives back."""

import re
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

import neural_style
from neural_style.denoising.degradation import Degradation
from neural_style.denoising.kernels import kernel_from_spec
from neural_style.denoising.operators import Blur
from neural_style.denoising.restore import run_restore
from neural_style.errors import InputError

from .test_restore_operators import convolve_valid


def smooth(h=16, w=16, channels=1, seed=0):
    """A smooth image with one disc (edges), values well inside [0, 1]: (H, W) or (H, W, C) float64."""
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    base = 0.3 + 0.15 * np.sin(5 * xx + 1 + seed) * np.cos(4 * yy) + 0.3 * (((xx - 0.5) ** 2 + (yy - 0.45) ** 2) < 0.06)
    if channels == 1:
        return base
    return np.stack([base * f for f in np.linspace(1.0, 0.8, channels)], -1)


def as_tensor(image):
    """(H, W) or (H, W, C) array -> (1, C, H, W) float32 tensor."""
    array = image if image.ndim == 3 else image[..., None]
    return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1))).float()[None]


def one_line(exc) -> str:
    message = str(exc)
    assert "\n" not in message and message, message
    return message


# --- exact solutions of tiny problems -------------------------------------------------------------


def test_known_pixels_come_back_without_noise():
    image = smooth(24, 20)
    known = np.ones(image.shape, bool)
    known[8:12, 3:17] = False
    known[::5, ::7] = False
    result = run_restore(as_tensor(image), Degradation(known=torch.from_numpy(known)), sigma=0.0)
    out = result.image[0, 0].numpy()
    assert out.shape == image.shape and result.sigma == 0 and not result.sigma_estimated
    assert np.abs(out - image)[known].max() < 1e-3
    # the holes are filled from their surroundings (the observed value there is 0: nothing like it); a
    # 4-px band across the disc's oblique edge is TV's guess (the converged minimiser is 0.2 off there)
    assert np.abs(out - image)[~known].mean() < 0.04
    assert np.abs(out - image)[~known].max() < 0.3
    assert out[~known].min() > 0.15


def test_a_constant_image_with_holes_is_filled_with_the_constant():
    image = np.full((3, 12, 10), 0.4)
    image[:, 3:7, 2:6] = 0.9  # garbage under the holes: not data
    known = torch.ones(12, 10, dtype=torch.bool)
    known[3:7, 2:6] = False
    known[0, 0] = known[-1, -1] = False
    result = run_restore(torch.from_numpy(image).float()[None], Degradation(known=known), sigma=0.0)
    torch.testing.assert_close(result.image, torch.full((1, 3, 12, 10), 0.4), rtol=0, atol=1e-3)


def test_the_values_under_the_mask_do_not_matter():
    image = smooth(16, 16, channels=3)
    known = np.ones((16, 16), bool)
    known[5:10, 4:12] = False
    other = image.copy()
    other[~known] = np.random.default_rng(0).random((int((~known).sum()), 3))
    degradation = Degradation(known=torch.from_numpy(known))
    a = run_restore(as_tensor(image), degradation, sigma=1 / 255).image
    b = run_restore(as_tensor(other), degradation, sigma=1 / 255).image
    torch.testing.assert_close(a, b, rtol=0, atol=1e-6)


@pytest.mark.parametrize("spec", ["gaussian:1.2", "motion:5,30", "box:4"])
def test_a_blurred_constant_is_restored_to_the_constant(spec):
    y = torch.full((1, 3, 10, 12), 0.35)
    result = run_restore(y, Degradation(kernel=kernel_from_spec(spec)), sigma=0.0)
    assert result.image.shape == y.shape
    torch.testing.assert_close(result.image, y, rtol=0, atol=1e-3)


@pytest.mark.parametrize("factor, size", [(2.0, (16, 20)), (1.5, (12, 15)), (3.0, (24, 30))])
def test_an_enlarged_constant_is_the_constant(factor, size):
    y = torch.full((1, 1, 8, 10), 0.6)
    result = run_restore(y, Degradation(upscale=factor), sigma=0.0)
    assert tuple(result.image.shape[-2:]) == size
    torch.testing.assert_close(result.image, torch.full_like(result.image, 0.6), rtol=0, atol=1e-3)


def test_blur_mask_and_upscale_together_keep_a_constant():
    y = torch.full((1, 3, 8, 8), 0.7)
    known = torch.ones(8, 8, dtype=torch.bool)
    known[2:4, 3:6] = False
    result = run_restore(y, Degradation(kernel=kernel_from_spec("gaussian:1.0"), known=known, upscale=2.0),
                         sigma=0.0, iterations=200)
    assert result.image.shape == (1, 3, 16, 16)
    torch.testing.assert_close(result.image, torch.full_like(result.image, 0.7), rtol=0, atol=2e-3)


def test_a_1x1_image_enlarged_3_times_with_a_sigma_is_3x3():
    out = neural_style.restore(np.full((1, 1), 0.5, np.float32), upscale=3, sigma=0.0)
    assert out.shape == (3, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out, 0.5, atol=1e-3)
    out = neural_style.restore(np.full((1, 1, 3), 0.25, np.float32), upscale=3, sigma=2 / 255)
    assert out.shape == (3, 3, 3)
    np.testing.assert_allclose(out, 0.25, atol=1e-3)


def test_a_1x1_image_with_sigma_auto_is_a_one_line_error():
    """Its noise cannot be estimated: a clean InputError asking for the sigma, not a crash."""
    with pytest.raises(InputError) as info:
        neural_style.restore(np.full((1, 1), 0.5, np.float32), upscale=3)
    assert "sigma" in one_line(info.value) and "1x1" in str(info.value)


def test_a_kernel_larger_than_the_image():
    out = neural_style.restore(np.full((6, 5), 0.5, np.float32), blur="gaussian:4", sigma=0.0)
    assert out.shape == (6, 5)
    np.testing.assert_allclose(out, 0.5, atol=1e-3)


# --- borders of a deblurred image -----------------------------------------------------------------


def scene(n=64):
    """Smooth shading and edges, with edges running into every border."""
    yy, xx = np.mgrid[0:n, 0:n] / n
    image = (0.35 + 0.2 * np.sin(3 * xx + 1) * np.cos(2 * yy) + 0.25 * ((xx - 0.5) ** 2 + (yy - 0.45) ** 2 < 0.06)
             + 0.12 * (xx > 0.75) - 0.1 * (yy > 0.8) + 0.08 * ((xx + yy) < 0.3))
    return np.clip(image, 0.05, 0.95)


def test_no_ringing_band_at_the_borders():
    """A blur of the whole scene (reflected beyond it, as no model assumes) is deblurred as well at the
    border as inside: unknown boundaries, not a circular model."""
    clean = scene()
    kernel = kernel_from_spec("gaussian:1.6")
    r = kernel.shape[0] // 2  # scipy.ndimage.convolve(mode="reflect"): half-sample symmetric beyond the border
    blurred = convolve_valid(np.pad(clean, r, mode="symmetric"), kernel.numpy())
    result = run_restore(torch.from_numpy(blurred).float()[None, None], Degradation(kernel=kernel), sigma=0.0,
                         tv_weight=1e-3, iterations=400, regularizer="tv")
    out = result.image[0, 0].numpy().astype(np.float64)
    assert out.shape == clean.shape and result.tv_weight == 1e-3 and result.tv_weight_method == "given"
    error = np.abs(out - clean)
    band = np.ones(clean.shape, bool)
    band[4:-4, 4:-4] = False
    assert error.mean() < 0.5 * np.abs(blurred - clean).mean()  # it did deblur
    assert error[band].mean() <= 1.5 * error[~band].mean(), (error[band].mean(), error[~band].mean())
    for side in (error[:4], error[-4:], error[:, :4], error[:, -4:]):  # no one border is worse either
        assert side.mean() <= 2.0 * error[~band].mean(), (side.mean(), error[~band].mean())


# --- enlargement ----------------------------------------------------------------------------------


@pytest.mark.parametrize("factor", [2.0, 1.5])
def test_the_enlargement_reduces_back_to_the_input(factor):
    image = smooth(20, 18, channels=3)
    y = as_tensor(image)
    result = run_restore(y, Degradation(upscale=factor), sigma=0.0)
    high = (round(20 * factor), round(18 * factor))
    assert tuple(result.image.shape[-2:]) == high
    back = F.interpolate(result.image, size=(20, 18), mode="bicubic", antialias=True, align_corners=False)
    rms = float((back - y).square().mean().sqrt())
    assert rms < 1 / 255, rms * 255
    assert result.residual is not None and result.residual < (1 / 255) ** 2


# --- masks ----------------------------------------------------------------------------------------


def test_a_mask_of_another_size_names_both_sizes():
    image = smooth(16, 20).astype(np.float32)
    with pytest.raises(InputError) as info:
        neural_style.restore(image, mask=np.ones((16, 21), bool), sigma=0.0)
    message = one_line(info.value)
    assert "21x16" in message and "20x16" in message, message
    with pytest.raises(InputError) as info:  # run_restore checks its Degradation too
        run_restore(as_tensor(image), Degradation(known=torch.ones(17, 20, dtype=torch.bool)), sigma=0.0)
    message = one_line(info.value)
    assert "20x17" in message and "20x16" in message, message


def test_an_all_white_mask_warns_and_fills_nothing():
    image = smooth(16, 16).astype(np.float32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = neural_style.restore(image, mask=np.ones((16, 16), bool), sigma=0.0)
    assert any("no pixel to fill" in str(w.message) for w in caught), [str(w.message) for w in caught]
    np.testing.assert_allclose(out, image, rtol=0, atol=1e-3)


def test_an_all_white_mask_gives_the_image_back_unchanged():
    noisy = np.clip(smooth(16, 16) + np.random.default_rng(1).normal(0, 0.03, (16, 16)), 0, 1)
    image = np.round(noisy * 255).astype(np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = neural_style.restore(image, mask=np.ones((16, 16), bool))
    np.testing.assert_array_equal(out, image)


def test_an_all_black_mask_is_a_one_line_error():
    with pytest.raises(InputError) as info:
        neural_style.restore(smooth(8, 8).astype(np.float32), mask=np.zeros((8, 8), bool), sigma=0.0)
    assert "every pixel" in one_line(info.value)


def test_mask_color_fills_that_colour_and_keeps_the_rest():
    truth = np.round(smooth(16, 16, channels=3) * 255).astype(np.uint8)
    scribbled = truth.copy()
    scribbled[5, 2:12] = (255, 0, 0)
    scribbled[6:11, 8] = (255, 0, 0)
    scribbled[12, 3] = (254, 0, 0)  # not exactly the colour: kept
    red = np.all(scribbled == (255, 0, 0), axis=2)
    out = neural_style.restore(scribbled, mask_color="255,0,0", sigma=0.0, regularizer="tv")
    assert out.dtype == np.uint8 and out.shape == truth.shape
    assert np.abs(out.astype(int) - scribbled)[~red].max() <= 1
    assert not np.any(np.all(out[red] == (255, 0, 0), axis=1))
    fill_error = np.abs(out.astype(int) - truth)[red]
    assert fill_error.mean() <= 8 and fill_error.max() <= 60  # the line crosses the disc's edge: TV's guess there


def test_mask_color_on_grey_images():
    grey = np.round(smooth(12, 12) * 255).astype(np.uint8)
    grey[4, 2:9] = 255
    with pytest.raises(InputError) as info:
        neural_style.restore(grey, mask_color="255,0,0", sigma=0.0)
    assert "grey" in one_line(info.value)
    out = neural_style.restore(grey, mask_color="255,255,255", sigma=0.0)
    assert out.max() < 255 and np.abs(out.astype(int) - grey)[grey != 255].max() <= 1


def test_mask_color_as_a_tuple_is_the_same_as_the_text():
    scribbled = np.round(smooth(12, 12, channels=3) * 255).astype(np.uint8)
    scribbled[4, 2:9] = (255, 0, 0)
    by_text = neural_style.restore(scribbled, mask_color="255,0,0", sigma=0.0, regularizer="tv")
    by_tuple = neural_style.restore(scribbled, mask_color=(255, 0, 0), sigma=0.0, regularizer="tv")
    assert np.array_equal(by_text, by_tuple) and not np.array_equal(by_tuple, scribbled)


@pytest.mark.parametrize("color", ["255,0", "256,0,0", "a,b,c", "1,2,3,4", "1.5,2,3", (255, 0), (1, 2, 300),
                                   (1.5, 2, 3)])
def test_a_bad_mask_color_is_a_one_line_error(color):
    with pytest.raises(InputError) as info:
        neural_style.restore(np.zeros((8, 8, 3), np.uint8) + 100, mask_color=color, sigma=0.0)
    shown = color if isinstance(color, str) else ",".join(map(str, color))
    assert shown in one_line(info.value)


def test_a_mask_and_a_mask_color_together_are_refused():
    with pytest.raises(InputError) as info:
        neural_style.restore(np.zeros((8, 8, 3), np.uint8) + 100, mask=np.ones((8, 8), bool), mask_color="255,0,0",
                             sigma=0.0)
    assert "mask" in one_line(info.value)


def test_a_mask_as_array_pil_tensor_or_file_is_the_same(tmp_path):
    image = smooth(12, 14).astype(np.float32)
    known = np.ones((12, 14), bool)
    known[3:7, 4:9] = False
    path = tmp_path / "mask.png"
    Image.fromarray(known.astype(np.uint8) * 255).save(path)
    results = [neural_style.restore(image, mask=mask, sigma=0.0)
               for mask in (known, Image.fromarray(known.astype(np.uint8) * 255), torch.from_numpy(known), str(path),
                            known.astype(np.uint8) * 255)]
    for other in results[1:]:
        np.testing.assert_array_equal(other, results[0])


# --- the Python API: kinds in, the same kinds out -------------------------------------------------


GREY = smooth(10, 12)
RGB = smooth(10, 12, channels=3)
ALPHA = np.tile(np.linspace(0, 1, 12), (10, 1))


def restored(image, **options):
    return neural_style.restore(image, blur="gaussian:0.8", upscale=2, sigma=1 / 255, tv_weight=1e-3,
                                iterations=60, **options)


@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_pil_images_come_back_as_pil_of_their_mode(mode):
    array = np.round((GREY if mode == "L" else RGB) * 255).astype(np.uint8)
    out = restored(Image.fromarray(array, mode))
    assert isinstance(out, Image.Image) and out.mode == mode and out.size == (24, 20)


def test_an_rgba_image_keeps_its_alpha_enlarged():
    rgba = np.dstack([np.round(RGB * 255), np.round(ALPHA * 255)]).astype(np.uint8)
    out = restored(Image.fromarray(rgba, "RGBA"))
    assert isinstance(out, Image.Image) and out.mode == "RGBA" and out.size == (24, 20)
    alpha = torch.from_numpy(rgba[..., 3].astype(np.float32) / 255)[None, None]
    expected = F.interpolate(alpha, size=(20, 24), mode="bicubic", align_corners=False).clamp(0, 1)[0, 0].numpy()
    assert np.abs(np.asarray(out)[..., 3].astype(int) - np.round(expected * 255)).max() <= 1
    # an array with alpha: 4 channels back, alpha enlarged the same way
    out = restored(np.dstack([RGB, ALPHA]).astype(np.float32))
    assert out.shape == (20, 24, 4) and out.dtype == np.float32
    np.testing.assert_allclose(out[..., 3], F.interpolate(torch.from_numpy(ALPHA).float()[None, None], size=(20, 24),
                                                          mode="bicubic", align_corners=False)
                               .clamp(0, 1)[0, 0].numpy(), atol=1e-6)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
@pytest.mark.parametrize("source", ["grey", "rgb"])
def test_arrays_come_back_with_their_dtype_and_layout(dtype, source):
    values = GREY if source == "grey" else RGB
    image = (np.round(values * np.iinfo(dtype).max).astype(dtype) if np.issubdtype(dtype, np.integer)
             else values.astype(dtype))
    out = restored(image)
    assert isinstance(out, np.ndarray) and out.dtype == dtype
    assert out.shape == ((20, 24) if source == "grey" else (20, 24, 3))
    scale = np.iinfo(dtype).max if np.issubdtype(dtype, np.integer) else 1
    small = F.interpolate(torch.from_numpy(out.astype(np.float64) / scale).reshape(20, 24, -1).permute(2, 0, 1)[None],
                          size=(10, 12), mode="bicubic", antialias=True, align_corners=False)
    # the result is an image of the input (deblurred, so sharper; not, say, transposed or rescaled)
    assert float((small[0].permute(1, 2, 0).reshape(values.shape) - torch.from_numpy(values)).abs().mean()) < 0.05
    if dtype == np.uint16:
        assert out.max() > 255


@pytest.mark.parametrize("batched", [False, True])
def test_tensors_come_back_as_tensors_of_their_shape(batched):
    image = torch.from_numpy(RGB).permute(2, 0, 1).float()
    out = restored(image[None] if batched else image)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    assert tuple(out.shape) == ((1, 3, 20, 24) if batched else (3, 20, 24))
    grey = restored(torch.from_numpy(GREY).float()[None])
    assert tuple(grey.shape) == (1, 20, 24)


def test_a_path_gives_a_tensor(tmp_path):
    path = tmp_path / "in.png"
    Image.fromarray(np.round(RGB * 255).astype(np.uint8)).save(path)
    out = restored(str(path))
    assert isinstance(out, torch.Tensor) and tuple(out.shape) == (1, 3, 20, 24)


def test_a_kernel_array_is_normalised_like_its_spec():
    image = RGB.astype(np.float32)
    a = neural_style.restore(image, blur=np.ones((3, 3)) * 5, sigma=1 / 255, tv_weight=1e-3, iterations=30)
    b = neural_style.restore(image, blur="box:3", sigma=1 / 255, tv_weight=1e-3, iterations=30)
    c = neural_style.restore(image, blur=torch.ones(3, 3), sigma=1 / 255, tv_weight=1e-3, iterations=30)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(c, b)


def test_run_restore_wants_a_4d_tensor():
    for bad in (torch.rand(3, 8, 8), torch.rand(8, 8), np.random.rand(1, 3, 8, 8)):
        with pytest.raises(TypeError):
            run_restore(bad, Degradation(upscale=2.0), sigma=0.0)


def test_data_on_the_0_255_scale_is_refused():
    with pytest.raises(InputError) as info:
        run_restore(torch.rand(1, 3, 8, 8) * 255, Degradation(upscale=2.0), sigma=0.0)
    assert "[0, 1]" in one_line(info.value)
    with pytest.raises(InputError) as info:
        neural_style.restore((RGB * 255).astype(np.float32), blur="box:3", sigma=0.0)
    assert "[0, 1]" in one_line(info.value)


def test_the_public_names_import():
    from neural_style import Degradation as PublicDegradation
    from neural_style import RestoreResult, RestoreSettings, restore_files
    from neural_style import run_restore as public_run_restore

    assert public_run_restore is run_restore and PublicDegradation is Degradation
    assert callable(restore_files) and RestoreResult.__name__ == "RestoreResult"
    settings = RestoreSettings(blur="box:3", upscale=2.0)
    assert settings.blur == "box:3" and settings.mask is None and settings.regularizer == "auto"


def test_the_result_says_how_lambda_was_chosen():
    y = as_tensor(smooth(12, 12))
    degradation = Degradation(kernel=kernel_from_spec("gaussian:1.0"))
    auto = run_restore(y, degradation, sigma=2 / 255, iterations=100)
    assert auto.tv_weight_method == "discrepancy" and auto.evaluations and auto.optimizer == "primal-dual"
    rule = run_restore(y, degradation, sigma=2 / 255, tv_weight="rule", iterations=50)
    assert rule.tv_weight_method == "rule" and rule.evaluations == []
    given = run_restore(y, degradation, sigma=2 / 255, tv_weight=0.01, iterations=50)
    assert given.tv_weight_method == "given" and given.tv_weight == 0.01
    lbfgs = run_restore(y, degradation, sigma=2 / 255, tv_beta=1.5, iterations=10)
    assert lbfgs.optimizer == "lbfgs" and lbfgs.tv_weight_method == "rule" and lbfgs.image.shape == y.shape


def test_the_callback_sees_the_result_crop():
    steps = []
    neural_style.restore(RGB.astype(np.float32), blur="gaussian:1", sigma=1 / 255, tv_weight=1e-3, iterations=30,
                         tolerance=0, callback=steps.append)
    assert steps and all(tuple(s.image.shape[-2:]) == (10, 12) for s in steps)


@pytest.mark.parametrize("name", ["random", "motion:9,30", "box:4"])
def test_a_non_symmetric_blur_is_undone_in_place(name):
    """Exact data from the model (the valid part of a larger scene's convolution): the result is that scene's
    middle, not shifted by a pixel (the kernel's orientation and the crop agree end to end)."""
    if name == "random":
        g = torch.Generator().manual_seed(3)
        kernel = torch.rand(5, 3, generator=g, dtype=torch.float64) ** 3
        kernel[0, 0] += 1.0
        kernel /= kernel.sum()
    else:
        kernel = kernel_from_spec(name)
    kh, kw = kernel.shape
    big = torch.from_numpy(scene(48)[:40 + kh - 1, :40 + kw - 1]).float()[None, None]
    y = Blur(kernel.float(), (40, 40), False).forward(big)
    result = run_restore(y, Degradation(kernel=kernel), sigma=0.0, tv_weight=1e-4, iterations=500)
    top, left = kh // 2, kw // 2

    def error(dy, dx):
        return float((result.image - big[..., top + dy:top + dy + 40, left + dx:left + dx + 40]).abs().mean())

    blurred = float((y - big[..., top:top + 40, left:left + 40]).abs().mean())
    assert error(0, 0) < 0.3 * blurred, (error(0, 0), blurred)
    shifts = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)
              and 0 <= top + dy <= kh - 1 and 0 <= left + dx <= kw - 1]
    assert all(error(0, 0) < error(dy, dx) for dy, dx in shifts)


@pytest.mark.parametrize("regularizer", ["tv", "nltv"])
def test_ctrl_c_keeps_the_iterate_so_far(regularizer):
    """A KeyboardInterrupt raised inside the solve (as Ctrl-C is) ends the run "interrupted" with the image
    so far, of the output's size, in [0, 1]; for NLTV also while its guide is being solved."""
    from neural_style.core.stop import StopReason

    rng = np.random.default_rng(3)
    y = torch.from_numpy(rng.uniform(0.2, 0.8, (1, 1, 24, 24))).float()
    calls = []

    def interrupt(step):
        calls.append(step.iteration)
        if len(calls) == 3:
            raise KeyboardInterrupt

    result = neural_style.run_restore(y, neural_style.Degradation(upscale=2), regularizer=regularizer,
                                      sigma=5 / 255, callback=interrupt)
    assert result.run.stop_reason == StopReason.INTERRUPTED
    assert tuple(result.image.shape) == (1, 1, 48, 48)
    assert 0 <= float(result.image.min()) and float(result.image.max()) <= 1
    assert len(calls) == 3  # nothing ran after the interrupt


def test_run_restore_checks_the_degradation_it_is_given():
    """A Degradation made by hand gets the checks the command line's does (fresh-user trial)."""
    from neural_style.errors import InputError

    y = torch.rand(1, 1, 16, 16)
    cases = [(dict(kernel=-torch.ones(3, 3)), "negative"), (dict(upscale=1.0), "> 1"),
             (dict(upscale=1.01), "leaves a 16x16 px image"),
             (dict(known=torch.ones(1, 16, 16, dtype=torch.bool)), "(H, W) mask")]
    for degradation, fragment in cases:
        with pytest.raises(InputError, match=re.escape(fragment)):
            neural_style.run_restore(y, neural_style.Degradation(**degradation), sigma=0.01)
    flat = neural_style.run_restore(torch.full((1, 1, 16, 16), 0.5), neural_style.Degradation(kernel=torch.ones(2, 2)),
                                    sigma=0.0, tv_weight=1e-3)  # normalised and made odd: a constant stays
    assert float((flat.image - 0.5).abs().max()) < 1e-3
    with pytest.raises(InputError, match="tv_weight 0 leaves"):
        neural_style.run_restore(y, neural_style.Degradation(kernel=torch.ones(3, 3)), tv_weight=0)


def test_a_mask_that_is_mostly_missing_is_said():
    y = torch.rand(1, 1, 20, 20)
    known = torch.zeros(20, 20, dtype=torch.bool)
    known[:3, :3] = True
    with pytest.warns(UserWarning, match="marks 98% of the pixels as missing"):
        neural_style.run_restore(y, neural_style.Degradation(known=known), sigma=0.0, regularizer="tv")


def test_a_16_bit_pil_image_comes_back_16_bit():
    grey16 = Image.fromarray((np.random.default_rng(1).random((24, 24)) * 65535).astype(np.uint16))
    assert grey16.mode == "I;16"
    assert neural_style.restore(grey16, blur="gaussian:1", sigma=0.01).mode == "I;16"
    assert neural_style.denoise(grey16, sigma=0.01).mode == "I;16"


@pytest.mark.parametrize("kind, degradation", [
    ("blur", lambda: Degradation(kernel=kernel_from_spec("box:3"))),
    ("mask", lambda: Degradation(known=torch.rand(12, 12, generator=torch.Generator().manual_seed(0)) > 0.3)),
    ("upscale", lambda: Degradation(upscale=2.0)),
    ("mask", lambda: Degradation(kernel=kernel_from_spec("box:3"), known=torch.ones(12, 12, dtype=torch.bool)
                                 .index_put_((torch.tensor([5]), torch.tensor([5])), torch.tensor(False)),
                                 upscale=None)),
])
def test_the_automatic_prior_is_the_best_measured_of_the_degradation(kind, degradation):
    from neural_style.settings import RESTORE_AUTO_BEST

    result = run_restore(as_tensor(smooth(12, 12)), degradation(), sigma=2 / 255, tv_weight=0.01, iterations=20)
    assert result.regularizer == RESTORE_AUTO_BEST[kind]


@pytest.mark.parametrize("overrides", [{"tv_beta": 1.5}, {"fidelity": "l1"}, {"optimizer": "lbfgs"}])
def test_the_automatic_prior_is_tv_where_the_best_cannot_run(overrides):
    from neural_style.settings import RestoreSettings, restore_regularizer

    settings = RestoreSettings(**overrides)
    assert restore_regularizer(settings, 100, blur=True, mask=False, upscale=False) == "tv"


def test_the_automatic_prior_is_tv_above_the_size_limit():
    from neural_style.settings import AUTO_MAX_PIXELS, RESTORE_AUTO_BEST, RestoreSettings, restore_regularizer

    settings = RestoreSettings()
    assert restore_regularizer(settings, AUTO_MAX_PIXELS, blur=False, mask=True, upscale=False) == \
        RESTORE_AUTO_BEST["mask"]
    assert restore_regularizer(settings, AUTO_MAX_PIXELS + 1, blur=False, mask=True, upscale=False) == "tv"


def test_holes_under_a_noisy_blur_keep_the_blurs_discrepancy_aim():
    """A fresh user's finding: a blur, scratches and noise sigma 10 (0..255) ran lambda to its floor (the holes'
    KAPPA aimed the residual at 0.05 sigma^2, which a blurred x cannot reach) and amplified the noise far below
    the input's PSNR. With the blur's aim lambda stays off the floor and the result beats the input."""
    from neural_style.denoising.discrepancy import KAPPA_MASK, LAMBDA_FLOOR, kappa_for

    assert kappa_for(True, True, False, 10 / 255) == kappa_for(True, False, False, 10 / 255) > KAPPA_MASK
    assert kappa_for(False, True, False, 10 / 255) == KAPPA_MASK  # holes alone keep theirs
    clean = as_tensor(smooth(40, 40, 1, seed=4))
    kernel = kernel_from_spec("gaussian:1.6")
    known = torch.ones(40, 40, dtype=torch.bool)
    known[10:12, :], known[:, 25:27] = False, False  # two scratches
    degradation = Degradation(kernel=kernel, known=known)
    blur = Blur(kernel, (40, 40), True)
    x = F.pad(clean, (blur.margin[1],) * 2 + (blur.margin[0],) * 2, mode="reflect")
    y = blur.forward(x) + 10 / 255 * torch.randn(1, 1, 40, 40, generator=torch.Generator().manual_seed(0))
    y = torch.where(known, y, torch.zeros_like(y))
    result = run_restore(y, degradation, regularizer="tv", sigma=10 / 255)
    assert result.tv_weight > 10 * LAMBDA_FLOOR

    def psnr(image):
        return float(-10 * torch.log10((image - clean)[..., known].square().mean()))

    assert psnr(result.image) > psnr(y) + 1


@pytest.mark.parametrize("blur", ["motion:1,0", "box:1"])
def test_a_one_pixel_blur_warns_and_denoises(blur):
    noisy = np.clip(smooth(16, 16) + np.random.default_rng(2).normal(0, 0.05, (16, 16)), 0, 1).astype(np.float32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = neural_style.restore(noisy, blur=blur, sigma=0.05, tv_weight=0.05)
    assert any("single pixel: it blurs nothing" in str(w.message) for w in caught), [str(w.message) for w in caught]
    denoised = neural_style.restore(noisy, sigma=0.05, tv_weight=0.05)  # no blur: the identity case
    np.testing.assert_allclose(out, denoised, rtol=0, atol=1e-6)
    assert np.abs(out - noisy).max() > 0.01  # denoised, not given back


def test_a_one_pixel_blur_with_an_empty_mask_still_denoises():
    noisy = np.clip(smooth(16, 16) + np.random.default_rng(3).normal(0, 0.05, (16, 16)), 0, 1).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = neural_style.restore(noisy, blur="motion:1,0", mask=np.ones((16, 16), bool), sigma=0.05,
                                   tv_weight=0.05)
    assert np.abs(out - noisy).max() > 0.01


def test_nltv_compares_patches_mostly_on_the_known_pixels_when_holes_are_all(monkeypatch):
    from neural_style.denoising import restore as restore_module

    seen = []

    def spy(guide, h, **options):
        seen.append(options.get("confidence"))
        return real(guide, h, **options)

    real = restore_module.build_graph
    monkeypatch.setattr(restore_module, "build_graph", spy)
    image = as_tensor(smooth(16, 16))
    known = torch.ones(16, 16, dtype=torch.bool)
    known[4:8, 3:12] = False
    run_restore(image, Degradation(known=known), regularizer="nltv", sigma=0.01, iterations=5)
    expected = torch.where(known, 1.0, restore_module.NLTV_FILLED_CONFIDENCE)[None, None]
    assert seen[-1] is not None and torch.equal(seen[-1], expected)
    run_restore(image, Degradation(kernel=kernel_from_spec("gaussian:1"), known=known), regularizer="nltv",
                sigma=0.01, iterations=5)
    assert seen[-1] is None  # under a blur the mask is not at x's pixels


def _warnings_of(image, known):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        neural_style.restore(image, mask=known, sigma=0.01, iterations=5)
    return [str(w.message) for w in caught]


def test_known_pixels_of_about_one_colour_ask_whether_the_mask_is_inverted():
    """Black text saved as a JPEG kept as the known part (a fresh user's finding: strokes spread over a few
    levels, 87% missing, no warning before) warns; a random half of a picture, or a thin mask, does not."""
    rng = np.random.default_rng(4)
    image = smooth(32, 32, channels=3).astype(np.float32)
    strokes = np.zeros((32, 32), bool)
    strokes[4:8, 2:30] = True
    strokes[20:23, 5:25] = True
    image[strokes] = np.clip(rng.normal(0.03, 0.02, (int(strokes.sum()), 3)), 0, 1)  # JPEG-like near-black
    assert any("all about one colour" in m for m in _warnings_of(image, strokes))  # scikit-image's polarity
    assert not any("all about one colour" in m for m in _warnings_of(image, ~strokes))  # ours
    random_half = rng.random((32, 32)) < 0.5
    assert not any("all about one colour" in m for m in _warnings_of(image, random_half))
