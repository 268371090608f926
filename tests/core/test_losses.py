"""Tests of neural_style.core.losses: hand-computed values, gradients, reductions and input checks."""

import warnings

import pytest
import torch
from torch.autograd import gradcheck

from neural_style.core.losses import (
    ContentLoss,
    GramMatrix,
    PerceptualLoss,
    SSIMLoss,
    StyleLoss,
    TotalVariation,
    VGGPerceptualLoss,
    content_loss,
    feature_loss,
    gram_matrix,
    perceptual_loss,
    ssim_loss,
    style_loss,
    total_variation,
)
from neural_style.core.metrics import ssim
from neural_style.errors import InputError

CRITERIA = ["l2", "l1", "charbonnier"]
REDUCTIONS = ["mean", "sum", "none"]
F64 = torch.float64


def t(values):
    return torch.tensor(values, dtype=F64)


def close(actual, expected, **kw):
    expected = expected if isinstance(expected, torch.Tensor) else t(expected)
    torch.testing.assert_close(actual, expected.to(actual.dtype), **kw)


# --------------------------------------------------------------------- gram


# F = [[1, 2], [3, 4]] (C = 2, H*W = 1*2):
# F F^T = [[1*1 + 2*2, 1*3 + 2*4], [3*1 + 4*2, 3*3 + 4*4]] = [[5, 11], [11, 25]]
GRAM_FEATURES = [[[[1.0, 2.0]], [[3.0, 4.0]]]]  # (1, 2, 1, 2)


def test_gram_matrix_unnormalized():
    close(gram_matrix(t(GRAM_FEATURES), normalize=False), [[[5.0, 11.0], [11.0, 25.0]]])


def test_gram_matrix_normalized():
    # divided by C*H*W = 2*1*2 = 4: [[5/4, 11/4], [11/4, 25/4]]
    close(gram_matrix(t(GRAM_FEATURES)), [[[1.25, 2.75], [2.75, 6.25]]])
    close(gram_matrix(t(GRAM_FEATURES), normalize=True), [[[1.25, 2.75], [2.75, 6.25]]])


def test_gram_matrix_batch_and_shape():
    x = torch.randn(3, 4, 5, 6, dtype=F64)
    g = gram_matrix(x)
    assert g.shape == (3, 4, 4)
    for b in range(3):
        f = x[b].reshape(4, 30)
        close(g[b], f @ f.T / (4 * 5 * 6))
    close(g, g.transpose(1, 2))  # symmetric


@pytest.mark.parametrize("normalize", [True, False])
def test_gram_module_matches_function(normalize):
    x = torch.randn(2, 3, 4, 5)
    m = GramMatrix(normalize)
    assert m.normalize is normalize
    close(m(x), gram_matrix(x, normalize))


@pytest.mark.parametrize("normalize", [True, False])
def test_gram_gradcheck(normalize):
    x = torch.randn(2, 3, 4, 5, dtype=F64, requires_grad=True)
    assert gradcheck(lambda f: gram_matrix(f, normalize), (x,))


# ------------------------------------------------------------------ content

# d = input - target = [0.5, -0.9, 1.6, 0.0]
CONTENT_INPUT = [[[[1.0, 0.1], [2.0, 0.5]]]]  # (1, 1, 2, 2)
CONTENT_TARGET = [[[[0.5, 1.0], [0.4, 0.5]]]]
CHARB_EPS = 1.2
CONTENT_EXPECTED = {
    # d^2 = [0.25, 0.81, 2.56, 0]; sum = 3.62; mean = 3.62 / 4 = 0.905
    "l2": ([0.25, 0.81, 2.56, 0.0], 3.62, 0.905),
    # |d| = [0.5, 0.9, 1.6, 0]; sum = 3.0; mean = 0.75
    "l1": ([0.5, 0.9, 1.6, 0.0], 3.0, 0.75),
    # sqrt(d^2 + 1.44) = [sqrt(1.69), sqrt(2.25), sqrt(4.0), sqrt(1.44)] = [1.3, 1.5, 2.0, 1.2];
    # sum = 6.0; mean = 1.5
    "charbonnier": ([1.3, 1.5, 2.0, 1.2], 6.0, 1.5),
}


@pytest.mark.parametrize("criterion", CRITERIA)
def test_content_loss_values(criterion):
    none, total, mean = CONTENT_EXPECTED[criterion]
    x, y = t(CONTENT_INPUT), t(CONTENT_TARGET)
    kw = dict(criterion=criterion, eps=CHARB_EPS)
    close(content_loss(x, y, reduction="none", **kw), t(none).reshape(1, 1, 2, 2))
    close(content_loss(x, y, reduction="sum", **kw), total)
    close(content_loss(x, y, reduction="mean", **kw), mean)
    if criterion == "l2":
        close(content_loss(x, y), mean)  # defaults: l2, mean


def test_content_loss_charbonnier_does_not_subtract_eps():
    x = torch.zeros(1, 1, 2, 2, dtype=F64)
    close(content_loss(x, x, "charbonnier", eps=0.25, reduction="none"), torch.full_like(x, 0.25))


def test_perceptual_aliases():
    assert perceptual_loss is content_loss
    assert PerceptualLoss is ContentLoss


@pytest.mark.parametrize("criterion", CRITERIA)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_content_module_matches_function(criterion, reduction):
    x, y = torch.randn(2, 3, 4, 5), torch.randn(2, 3, 4, 5)
    m = ContentLoss(criterion, 0.1, reduction)
    assert (m.criterion, m.eps, m.reduction) == (criterion, 0.1, reduction)
    close(m(x, y), content_loss(x, y, criterion, 0.1, reduction))
    close(PerceptualLoss(criterion, 0.1, reduction)(x, y), m(x, y))


def test_content_module_defaults():
    m = ContentLoss()
    assert (m.criterion, m.eps, m.reduction) == ("l2", 1e-3, "mean")
    assert "criterion='l2'" in repr(m)


@pytest.mark.parametrize("criterion", CRITERIA)
def test_content_reductions_consistent(criterion):
    x, y = torch.randn(2, 3, 4, 5, dtype=F64), torch.randn(2, 3, 4, 5, dtype=F64)
    none = content_loss(x, y, criterion, reduction="none")
    assert none.shape == x.shape
    close(content_loss(x, y, criterion, reduction="sum"), none.sum())
    close(content_loss(x, y, criterion, reduction="sum"), content_loss(x, y, criterion) * none.numel())


@pytest.mark.parametrize("criterion", CRITERIA)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_content_broadcast_batch1_target(criterion, reduction):
    x, y = torch.randn(3, 2, 4, 5, dtype=F64), torch.randn(1, 2, 4, 5, dtype=F64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no broadcast warning from F.mse_loss / F.l1_loss
        got = content_loss(x, y, criterion, 0.1, reduction)
    expected = content_loss(x, y.expand(3, -1, -1, -1).clone(), criterion, 0.1, reduction)
    close(got, expected)
    if reduction == "none":
        assert got.shape == x.shape


def test_content_any_matching_shape():
    # images or any tensor: (B, C, H, W) is typical, not required
    x, y = torch.randn(2, 7, dtype=F64), torch.randn(2, 7, dtype=F64)
    close(content_loss(x, y, "l1", reduction="none"), (x - y).abs())
    close(content_loss(x, y), ((x - y) ** 2).mean())


@pytest.mark.parametrize("criterion", CRITERIA)
def test_content_gradcheck(criterion):
    x = torch.randn(2, 3, 4, 4, dtype=F64, requires_grad=True)
    y = torch.randn(2, 3, 4, 4, dtype=F64, requires_grad=True)
    assert gradcheck(lambda a, b: content_loss(a, b, criterion, 0.1), (x, y))
    assert gradcheck(lambda a, b: content_loss(a, b, criterion, 0.1, reduction="none"), (x, y))


@pytest.mark.parametrize("criterion", CRITERIA)
def test_content_gradcheck_broadcast_target(criterion):
    x = torch.randn(3, 2, 3, 3, dtype=F64, requires_grad=True)
    y = torch.randn(1, 2, 3, 3, dtype=F64, requires_grad=True)
    assert gradcheck(lambda a, b: content_loss(a, b, criterion, 0.1, reduction="sum"), (x, y))


# -------------------------------------------------------------------- style

# gram_matrix(GRAM_FEATURES) = [[1.25, 2.75], [2.75, 6.25]]; target [[1, 3], [2.5, 6]]
# -> d = [[0.25, -0.25], [0.25, 0.25]]
STYLE_TARGET = [[1.0, 3.0], [2.5, 6.0]]
STYLE_EXPECTED = {
    # d^2 = 0.0625 everywhere; sum = 4 * 0.0625 = 0.25; mean = 0.0625
    "l2": ([[0.0625, 0.0625], [0.0625, 0.0625]], 0.25, 0.0625),
    # |d| = 0.25 everywhere; sum = 1.0; mean = 0.25
    "l1": ([[0.25, 0.25], [0.25, 0.25]], 1.0, 0.25),
    # eps = 0.6: sqrt(0.0625 + 0.36) = sqrt(0.4225) = 0.65 everywhere; sum = 2.6; mean = 0.65
    "charbonnier": ([[0.65, 0.65], [0.65, 0.65]], 2.6, 0.65),
}


@pytest.mark.parametrize("criterion", CRITERIA)
def test_style_loss_values(criterion):
    none, total, mean = STYLE_EXPECTED[criterion]
    x, g = t(GRAM_FEATURES), t(STYLE_TARGET)
    kw = dict(criterion=criterion, eps=0.6)
    close(style_loss(x, g, reduction="none", **kw), t([none]))
    close(style_loss(x, g, reduction="sum", **kw), total)
    close(style_loss(x, g, reduction="mean", **kw), mean)


def test_style_loss_unnormalized():
    # F F^T = [[5, 11], [11, 25]]; target [[4, 11], [12, 25]] -> d = [[1, 0], [-1, 0]]
    # l2: [[1, 0], [1, 0]]; sum = 2; mean = 2 / 4 = 0.5
    x, g = t(GRAM_FEATURES), t([[4.0, 11.0], [12.0, 25.0]])
    close(style_loss(x, g, normalize=False, reduction="none"), [[[1.0, 0.0], [1.0, 0.0]]])
    close(style_loss(x, g, normalize=False, reduction="sum"), 2.0)
    close(style_loss(x, g, normalize=False), 0.5)


@pytest.mark.parametrize("criterion", CRITERIA)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_style_target_shapes(criterion, reduction):
    x = torch.randn(3, 4, 5, 5, dtype=F64)
    g = torch.randn(4, 4, dtype=F64)
    full = style_loss(x, g.expand(3, 4, 4).clone(), criterion, 0.1, reduction=reduction)
    close(style_loss(x, g, criterion, 0.1, reduction=reduction), full)  # (C, C)
    close(style_loss(x, g[None], criterion, 0.1, reduction=reduction), full)  # (1, C, C)
    if reduction == "none":
        assert full.shape == (3, 4, 4)


def test_style_loss_equals_content_loss_of_grams():
    x, s = torch.randn(2, 3, 6, 6, dtype=F64), torch.randn(2, 3, 6, 6, dtype=F64)
    close(style_loss(x, gram_matrix(s), "l1"), content_loss(gram_matrix(x), gram_matrix(s), "l1"))
    assert style_loss(s, gram_matrix(s)).item() == 0.0


@pytest.mark.parametrize("criterion", CRITERIA)
def test_style_reductions_consistent(criterion):
    x, g = torch.randn(2, 3, 4, 5, dtype=F64), torch.randn(3, 3, dtype=F64)
    none = style_loss(x, g, criterion, reduction="none")
    assert none.shape == (2, 3, 3)
    close(style_loss(x, g, criterion, reduction="sum"), none.sum())
    close(style_loss(x, g, criterion, reduction="sum"), style_loss(x, g, criterion) * none.numel())


@pytest.mark.parametrize("criterion", CRITERIA)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("normalize", [True, False])
def test_style_module_matches_function(criterion, reduction, normalize):
    x, g = torch.randn(2, 3, 4, 5), torch.randn(1, 3, 3)
    m = StyleLoss(criterion, 0.1, normalize, reduction)
    assert (m.criterion, m.eps, m.normalize, m.reduction) == (criterion, 0.1, normalize, reduction)
    close(m(x, g), style_loss(x, g, criterion, 0.1, normalize, reduction))


def test_style_module_defaults():
    m = StyleLoss()
    assert (m.criterion, m.eps, m.normalize, m.reduction) == ("l2", 1e-3, True, "mean")


@pytest.mark.parametrize("criterion", CRITERIA)
@pytest.mark.parametrize("normalize", [True, False])
def test_style_gradcheck(criterion, normalize):
    x = torch.randn(2, 3, 3, 4, dtype=F64, requires_grad=True)
    g = torch.randn(3, 3, dtype=F64, requires_grad=True)
    assert gradcheck(lambda a, b: style_loss(a, b, criterion, 0.1, normalize), (x, g))
    assert gradcheck(lambda a, b: style_loss(a, b, criterion, 0.1, normalize, "none"), (x, g))


# -------------------------------------------------------- total variation

# Channel 0 = [[0, 0], [3, 3]], channel 1 = [[0, 4], [0, 4]]  (1, 2, 2, 2).
# Forward differences, Neumann boundary (dx = 0 in the last column, dy = 0 in the last row):
#   ch 0: (0,0) dx=0 dy=3 -> 9;  (0,1) dx=0 dy=3 -> 9;   (1,0) dx=0 dy=0 -> 0;  (1,1) -> 0
#   ch 1: (0,0) dx=4 dy=0 -> 16; (0,1) dx=0 dy=0 -> 0;   (1,0) dx=4 dy=0 -> 16; (1,1) -> 0
#   vectorial (sum over channels): [[25, 9], [16, 0]]
TV_IMAGE = [[[[0.0, 0.0], [3.0, 3.0]], [[0.0, 4.0], [0.0, 4.0]]]]
TV_SQ_VEC = [[[25.0, 9.0], [16.0, 0.0]]]
TV_SQ_CH = [[[[9.0, 9.0], [0.0, 0.0]], [[16.0, 0.0], [16.0, 0.0]]]]
TV_EXPECTED = {
    # (beta, eps, coupling): (none, sum, mean)
    # beta 2, eps 0: the squares; vec sum 25+9+16 = 50, mean 50/4; channel sum 50, mean 50/8
    (2.0, 0.0, "vectorial"): (TV_SQ_VEC, 50.0, 12.5),
    (2.0, 0.0, "channel"): (TV_SQ_CH, 50.0, 6.25),
    # beta 2, eps 0.5: + 0.25 per term; vec 50 + 4*0.25 = 51, /4 = 12.75; ch 50 + 8*0.25 = 52, /8
    (2.0, 0.5, "vectorial"): ([[[25.25, 9.25], [16.25, 0.25]]], 51.0, 12.75),
    (2.0, 0.5, "channel"): ([[[[9.25, 9.25], [0.25, 0.25]], [[16.25, 0.25], [16.25, 0.25]]]], 52.0, 6.5),
    # beta 1, eps 0: square roots; vec [[5, 3], [4, 0]], sum 12, mean 3;
    # ch [[3, 3], [0, 0]] + [[4, 0], [4, 0]], sum 14, mean 14/8 = 1.75
    (1.0, 0.0, "vectorial"): ([[[5.0, 3.0], [4.0, 0.0]]], 12.0, 3.0),
    (1.0, 0.0, "channel"): ([[[[3.0, 3.0], [0.0, 0.0]], [[4.0, 0.0], [4.0, 0.0]]]], 14.0, 1.75),
    # beta 1.5, eps 0: s^(3/4); 25^.75 = 5*sqrt(5) = 11.180339887498949,
    # 9^.75 = 3*sqrt(3) = 5.196152422706632, 16^.75 = 8;
    # vec sum = 11.180339887498949 + 5.196152422706632 + 8 = 24.37649231020558, mean /4
    # ch sum = 2 * 5.196152422706632 + 2 * 8 = 26.392304845413264, mean /8
    (1.5, 0.0, "vectorial"): (
        [[[11.180339887498949, 5.196152422706632], [8.0, 0.0]]],
        24.37649231020558,
        6.094123077551395,
    ),
    (1.5, 0.0, "channel"): (
        [[[[5.196152422706632, 5.196152422706632], [0.0, 0.0]], [[8.0, 0.0], [8.0, 0.0]]]],
        26.392304845413264,
        3.299038105676658,
    ),
}


@pytest.mark.parametrize("key", list(TV_EXPECTED), ids=lambda k: f"beta{k[0]}-eps{k[1]}-{k[2]}")
def test_total_variation_values(key):
    beta, eps, coupling = key
    none, total, mean = TV_EXPECTED[key]
    x = t(TV_IMAGE)
    kw = dict(beta=beta, eps=eps, coupling=coupling)
    close(total_variation(x, reduction="none", **kw), none)
    close(total_variation(x, reduction="sum", **kw), total)
    close(total_variation(x, reduction="mean", **kw), mean)


def test_total_variation_single_channel_beta_1_5():
    # [[0, 4], [0, 0]]: (0,0) dx=4 dy=0 -> 16; (0,1) dy=0-4 -> 16; (1,0) dx=0 -> 0; (1,1) -> 0
    # beta 1.5: 16^.75 = 8 -> [[8, 8], [0, 0]]; sum 16, mean 4 (both couplings, C = 1)
    x = t([[[[0.0, 4.0], [0.0, 0.0]]]])
    for coupling in ("vectorial", "channel"):
        close(total_variation(x, 1.5, 0.0, coupling, "sum"), 16.0)
        close(total_variation(x, 1.5, 0.0, coupling), 4.0)
    close(total_variation(x, 1.5, 0.0, "vectorial", "none"), [[[8.0, 8.0], [0.0, 0.0]]])
    close(total_variation(x, 1.5, 0.0, "channel", "none"), [[[[8.0, 8.0], [0.0, 0.0]]]])


@pytest.mark.parametrize("beta", [0.5, 1.0, 1.5, 2.0])
def test_total_variation_constant_image_is_eps_to_beta(beta):
    # every difference is 0: each term is (eps^2)^(beta/2) = eps^beta; 0.5^beta per term
    x = torch.full((2, 3, 4, 5), 0.7, dtype=F64)
    close(total_variation(x, beta, 0.5, "vectorial", "sum"), 2 * 4 * 5 * 0.5**beta)
    close(total_variation(x, beta, 0.5, "channel", "sum"), 2 * 3 * 4 * 5 * 0.5**beta)


def test_total_variation_default_options():
    x = t(TV_IMAGE)
    # beta 2, eps 1e-3, vectorial, mean: (50 + 4e-6) / 4
    close(total_variation(x), (50.0 + 4e-6) / 4)
    m = TotalVariation()
    assert (m.beta, m.eps, m.coupling, m.reduction) == (2.0, 1e-3, "vectorial", "mean")


def test_total_variation_matches_naive_loop():
    torch.manual_seed(0)
    x = torch.rand(2, 3, 4, 5, dtype=F64)
    beta, eps = 1.3, 0.05
    expected_vec = torch.zeros(2, 4, 5, dtype=F64)
    expected_ch = torch.zeros(2, 3, 4, 5, dtype=F64)
    for b in range(2):
        for i in range(4):
            for j in range(5):
                dx = x[b, :, i, j + 1] - x[b, :, i, j] if j < 4 else torch.zeros(3, dtype=F64)
                dy = x[b, :, i + 1, j] - x[b, :, i, j] if i < 3 else torch.zeros(3, dtype=F64)
                expected_vec[b, i, j] = ((dx**2 + dy**2).sum() + eps**2) ** (beta / 2)
                expected_ch[b, :, i, j] = (dx**2 + dy**2 + eps**2) ** (beta / 2)
    close(total_variation(x, beta, eps, "vectorial", "none"), expected_vec)
    close(total_variation(x, beta, eps, "channel", "none"), expected_ch)


@pytest.mark.parametrize("shape", [(1, 3, 1, 1), (2, 1, 1, 5), (2, 2, 4, 1)])
def test_total_variation_degenerate_sizes(shape):
    x = torch.rand(*shape, dtype=F64)
    b, c, h, w = shape
    assert total_variation(x, 1.0, 0.1, "vectorial", "none").shape == (b, h, w)
    assert total_variation(x, 1.0, 0.1, "channel", "none").shape == shape


@pytest.mark.parametrize("beta", [0.8, 1.0, 1.5, 2.0])
@pytest.mark.parametrize("coupling", ["vectorial", "channel"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_total_variation_reductions_and_shapes(beta, coupling, reduction):
    x = torch.rand(2, 3, 4, 5, dtype=F64)
    none = total_variation(x, beta, 0.1, coupling, "none")
    assert none.shape == ((2, 4, 5) if coupling == "vectorial" else (2, 3, 4, 5))
    out = total_variation(x, beta, 0.1, coupling, reduction)
    if reduction == "none":
        close(out, none)
    else:
        assert out.ndim == 0
        mean = total_variation(x, beta, 0.1, coupling, "mean")
        close(total_variation(x, beta, 0.1, coupling, "sum"), mean * none.numel())
        close(out, none.sum() if reduction == "sum" else none.mean())


@pytest.mark.parametrize("beta", [0.8, 1.0, 1.5, 2.0])
@pytest.mark.parametrize("coupling", ["vectorial", "channel"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_total_variation_module_matches_function(beta, coupling, reduction):
    x = torch.rand(2, 3, 4, 5)
    m = TotalVariation(beta, 0.01, coupling, reduction)
    assert (m.beta, m.eps, m.coupling, m.reduction) == (beta, 0.01, coupling, reduction)
    close(m(x), total_variation(x, beta, 0.01, coupling, reduction))


@pytest.mark.parametrize("beta", [0.8, 1.0, 1.5, 2.0])
@pytest.mark.parametrize("coupling", ["vectorial", "channel"])
def test_total_variation_gradcheck(beta, coupling):
    x = torch.rand(2, 2, 4, 5, dtype=F64, requires_grad=True)
    assert gradcheck(lambda a: total_variation(a, beta, 0.1, coupling, "sum"), (x,))
    assert gradcheck(lambda a: total_variation(a, beta, 0.1, coupling, "none"), (x,))


def test_total_variation_gradcheck_eps_zero_beta_2():
    x = torch.rand(1, 2, 3, 4, dtype=F64, requires_grad=True)
    assert gradcheck(lambda a: total_variation(a, 2.0, 0.0), (x,))


@pytest.mark.parametrize("beta", [1.0, 0.5])
@pytest.mark.parametrize("coupling", ["vectorial", "channel"])
@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_total_variation_constant_image_gradient_is_zero(beta, coupling, dtype):
    x = torch.full((1, 3, 6, 7), 0.25, dtype=dtype, requires_grad=True)
    total_variation(x, beta, 1e-3, coupling).backward()
    assert torch.isfinite(x.grad).all()
    assert torch.count_nonzero(x.grad) == 0


def test_total_variation_gradient_finite_on_flat_regions():
    # a step edge: flat regions on both sides, beta < 1, eps > 0
    x = torch.zeros(1, 1, 6, 6)
    x[..., 3:] = 1.0
    x.requires_grad_(True)
    total_variation(x, 0.5, 1e-3, reduction="sum").backward()
    assert torch.isfinite(x.grad).all()
    assert x.grad.abs().sum() > 0


def test_total_variation_does_not_modify_input():
    x = torch.rand(1, 3, 5, 5)
    before = x.clone()
    total_variation(x, 1.0, 0.1)
    content_loss(x, torch.zeros_like(x), "charbonnier")
    torch.testing.assert_close(x, before, rtol=0, atol=0)


# ----------------------------------------------------------------- checks


def _all_calls(**overrides):
    """One call per public loss (function and module) with valid 4-D inputs."""
    x, y, g = torch.rand(2, 3, 4, 4), torch.rand(2, 3, 4, 4), torch.rand(3, 3)
    return {
        "content": lambda **kw: content_loss(x, y, **kw),
        "style": lambda **kw: style_loss(x, g, **kw),
        "tv": lambda **kw: total_variation(x, **kw),
        "ContentLoss": lambda **kw: ContentLoss(**kw)(x, y),
        "StyleLoss": lambda **kw: StyleLoss(**kw)(x, g),
        "TotalVariation": lambda **kw: TotalVariation(**kw)(x),
    }


@pytest.mark.parametrize("name", list(_all_calls()))
@pytest.mark.parametrize("reduction", ["foo", "MEAN", "", None, "batchmean"])
def test_invalid_reduction(name, reduction):
    with pytest.raises(ValueError, match="expected reduction to be one of 'mean', 'sum', 'none', got"):
        _all_calls()[name](reduction=reduction)


def test_invalid_reduction_message_exact():
    with pytest.raises(ValueError) as info:
        content_loss(torch.zeros(1), torch.zeros(1), reduction="foo")
    assert str(info.value) == "expected reduction to be one of 'mean', 'sum', 'none', got 'foo'"


@pytest.mark.parametrize("name", ["content", "style", "ContentLoss", "StyleLoss"])
@pytest.mark.parametrize("criterion", ["l3", "L2", "mse", None])
def test_invalid_criterion(name, criterion):
    with pytest.raises(ValueError, match="expected criterion to be one of 'l1', 'l2', 'charbonnier', got"):
        _all_calls()[name](criterion=criterion)


@pytest.mark.parametrize("name", ["content", "style", "ContentLoss", "StyleLoss"])
@pytest.mark.parametrize("eps", [0.0, -1e-3, float("nan")])
def test_charbonnier_eps_must_be_positive(name, eps):
    with pytest.raises(ValueError, match="expected eps > 0"):
        _all_calls()[name](criterion="charbonnier", eps=eps)


@pytest.mark.parametrize("name", ["content", "style"])
def test_eps_ignored_by_l1_l2(name):
    _all_calls()[name](criterion="l1", eps=0.0)
    _all_calls()[name](criterion="l2", eps=-1.0)


@pytest.mark.parametrize("name", ["tv", "TotalVariation"])
@pytest.mark.parametrize("beta", [0.0, -1.0, float("nan"), float("inf")])
def test_tv_invalid_beta(name, beta):
    with pytest.raises(ValueError, match="expected beta > 0"):
        _all_calls()[name](beta=beta)


@pytest.mark.parametrize("name", ["tv", "TotalVariation"])
def test_tv_invalid_eps_and_coupling(name):
    with pytest.raises(ValueError, match="expected eps >= 0"):
        _all_calls()[name](eps=-0.1)
    with pytest.raises(ValueError, match="expected coupling to be one of 'vectorial', 'channel', got 'joint'"):
        _all_calls()[name](coupling="joint")
    with pytest.raises(TypeError, match="expected beta to be a real number"):
        _all_calls()[name](beta="2")
    with pytest.raises(TypeError, match="expected eps to be a real number"):
        _all_calls()[name](eps=None)


def test_tv_beta_below_one_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        total_variation(torch.rand(1, 1, 3, 3), beta=0.5)
        TotalVariation(beta=0.5)


@pytest.mark.parametrize(
    "call",
    [
        lambda: gram_matrix([[1.0]]),
        lambda: gram_matrix(torch.zeros(1, 1, 2, 2, dtype=torch.int64)),
        lambda: GramMatrix()(None),
        lambda: content_loss([1.0], torch.zeros(1)),
        lambda: content_loss(torch.zeros(1), 0.0),
        lambda: content_loss(torch.zeros(2, dtype=torch.int32), torch.zeros(2, dtype=torch.int32)),
        lambda: style_loss(1.0, torch.zeros(3, 3)),
        lambda: style_loss(torch.zeros(1, 3, 2, 2), [[0.0] * 3] * 3),
        lambda: total_variation([[[[0.0]]]]),
        lambda: total_variation(torch.zeros(1, 1, 2, 2, dtype=torch.uint8)),
        lambda: TotalVariation()(None),
    ],
)
def test_non_tensor_or_non_float_input(call):
    with pytest.raises(TypeError, match="expected"):
        call()


@pytest.mark.parametrize("shape", [(3, 4, 4), (1, 1, 3, 4, 4), (4,)])
def test_wrong_ndim(shape):
    x = torch.zeros(shape)
    with pytest.raises(ValueError, match=r"expected features of shape \(B, C, H, W\)"):
        gram_matrix(x)
    with pytest.raises(ValueError, match=r"expected input of shape \(B, C, H, W\)"):
        style_loss(x, torch.zeros(4, 4))
    with pytest.raises(ValueError, match=r"expected image of shape \(B, C, H, W\)"):
        total_variation(x)


@pytest.mark.parametrize(
    "target_shape",
    [(2, 3, 4, 5), (2, 3, 5, 4), (3, 3, 4, 4), (2, 2, 4, 4), (3, 4, 4), (1, 1, 3, 4, 4), (2, 1, 4, 4)],
)
def test_content_mismatched_shapes(target_shape):
    with pytest.raises(ValueError, match=r"expected target of shape \(2, 3, 4, 4\) or \(1, 3, 4, 4\)"):
        content_loss(torch.zeros(2, 3, 4, 4), torch.zeros(target_shape))


def test_content_input_batch1_does_not_broadcast_to_target():
    # the unreduced loss has input's shape: only the target may have batch 1
    with pytest.raises(ValueError, match="expected target of shape"):
        content_loss(torch.zeros(1, 3, 4, 4), torch.zeros(2, 3, 4, 4))


def test_style_mismatched_channels():
    with pytest.raises(ValueError) as info:
        style_loss(torch.zeros(2, 64, 2, 2), torch.zeros(1, 128, 128))
    assert str(info.value) == "expected target_gram of shape (*, 64, 64), got (1, 128, 128)"
    for shape in [(128, 128), (64, 128), (2, 64, 63), (64,), (1, 1, 64, 64)]:
        with pytest.raises(ValueError, match=r"expected target_gram of shape \(\*, 64, 64\)"):
            style_loss(torch.zeros(2, 64, 2, 2), torch.zeros(shape))


def test_style_mismatched_batch():
    with pytest.raises(ValueError, match=r"expected target_gram of shape \(3, 3\), \(1, 3, 3\) or \(2, 3, 3\)"):
        style_loss(torch.zeros(2, 3, 2, 2), torch.zeros(4, 3, 3))


# ----------------------------------------------------------------- docs


@pytest.mark.parametrize("module", ["gram", "perceptual", "style", "total_variation", "ssim", "vgg_perceptual"])
def test_docstring_examples(module):
    import doctest
    import importlib

    mod = importlib.import_module(f"neural_style.core.losses.{module}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


# ----------------------------------------------------------------- SSIM loss


def test_ssim_loss_of_constant_images_is_exact():
    """Constant images: the variances vanish and SSIM = (2ab + C1) / (a^2 + b^2 + C1), C1 = (0.01 R)^2."""
    x, y = torch.full((1, 1, 11, 11), 0.2, dtype=torch.float64), torch.full((1, 1, 11, 11), 0.6, dtype=torch.float64)
    c1 = 0.01 ** 2
    expected = 1 - (2 * 0.2 * 0.6 + c1) / (0.2 ** 2 + 0.6 ** 2 + c1)
    assert float(ssim_loss(x, y)) == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert abs(float(ssim_loss(x, x))) < 1e-12


def test_ssim_loss_is_one_minus_the_metric_per_image_and_reduces():
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(3, 3, 16, 20, generator=g), torch.rand(3, 3, 16, 20, generator=g)
    per_image = 1 - ssim(x, y, reduction="none")
    assert torch.equal(ssim_loss(x, y, reduction="none"), per_image)
    assert torch.equal(ssim_loss(x, y, reduction="sum"), per_image.sum())
    assert torch.equal(ssim_loss(x, y), per_image.mean())
    assert torch.equal(SSIMLoss(reduction="none")(x, y), per_image)
    assert torch.equal(SSIMLoss(data_range=2.0)(x, y), ssim_loss(x, y, data_range=2.0))
    assert repr(SSIMLoss()) == "SSIMLoss(data_range=1.0, reduction='mean')"


def test_ssim_loss_gradcheck():
    g = torch.Generator().manual_seed(1)
    x = torch.rand(2, 2, 12, 13, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.rand(2, 2, 12, 13, generator=g, dtype=torch.float64, requires_grad=True)
    assert gradcheck(lambda a, b: ssim_loss(a, b, reduction="sum"), (x, y))


def test_ssim_loss_lowers_with_gradient_descent():
    g = torch.Generator().manual_seed(2)
    target = torch.rand(1, 3, 16, 16, generator=g)
    x = torch.rand(1, 3, 16, 16, generator=g, requires_grad=True)
    start = float(ssim_loss(x.detach(), target))
    optimizer = torch.optim.Adam([x], lr=0.05)
    for _ in range(30):
        optimizer.zero_grad()
        ssim_loss(x, target).backward()
        optimizer.step()
    assert float(ssim_loss(x.detach(), target)) < 0.5 * start


@pytest.mark.parametrize("call, error, match", [
    (lambda: ssim_loss(torch.rand(1, 1, 11, 11), torch.rand(1, 1, 11, 11), reduction="max"), ValueError, "reduction"),
    (lambda: ssim_loss(torch.rand(1, 1, 10, 11), torch.rand(1, 1, 10, 11)), ValueError, "at least 11x11"),
    (lambda: ssim_loss(torch.rand(1, 1, 11, 11), torch.rand(1, 1, 11, 12)), ValueError, "same shape"),
    (lambda: ssim_loss(torch.rand(1, 1, 11, 11), torch.rand(1, 1, 11, 11), data_range=0), ValueError, "data_range"),
    (lambda: SSIMLoss(data_range=-1.0), ValueError, "data_range"),
    (lambda: SSIMLoss(reduction="max"), ValueError, "reduction"),
])
def test_ssim_loss_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_tv_beta_2_5_is_srgans_regulariser_on_the_interior():
    """README's loss table: SRGAN's sum((dx^2 + dy^2)^1.25) over the (H-1, W-1) interior, per channel."""
    x = torch.rand(2, 3, 9, 11, generator=torch.Generator().manual_seed(3), dtype=F64)
    dx = x[..., :-1, 1:] - x[..., :-1, :-1]
    dy = x[..., 1:, :-1] - x[..., :-1, :-1]
    srgan = ((dx ** 2 + dy ** 2) ** 1.25).sum()
    ours = total_variation(x, beta=2.5, eps=0.0, coupling="channel", reduction="none")[..., :-1, :-1].sum()
    assert torch.allclose(ours, srgan, rtol=1e-12)


# ----------------------------------------------------------------- multi-layer VGG perceptual loss


def test_feature_loss_is_the_weighted_sum_of_content_losses():
    g = torch.Generator().manual_seed(4)
    fx = {"a": torch.rand(2, 3, 4, 4, generator=g, dtype=F64), "b": torch.rand(2, 5, 2, 2, generator=g, dtype=F64)}
    fy = {"a": torch.rand(2, 3, 4, 4, generator=g, dtype=F64), "b": torch.rand(1, 5, 2, 2, generator=g, dtype=F64)}
    layers = {"a": 0.25, "b": 2.0}
    for criterion in CRITERIA:
        for reduction in ("mean", "sum"):
            expected = sum(w * content_loss(fx[n], fy[n], criterion, reduction=reduction) for n, w in layers.items())
            assert torch.equal(feature_loss(fx, fy, layers, criterion, reduction=reduction), expected)
    x = {k: v.clone().requires_grad_(True) for k, v in fx.items()}
    assert gradcheck(lambda a, b: feature_loss({"a": a, "b": b}, fy, layers, "charbonnier"), (x["a"], x["b"]))


@pytest.mark.parametrize("call, match", [
    (lambda f: feature_loss(f, f, {"a": 1.0}, reduction="none"), "'mean' or 'sum'"),
    (lambda f: feature_loss(f, f, {}), "at least one layer"),
    (lambda f: feature_loss(f, f, {"c": 1.0}), "none for 'c'"),
    (lambda f: feature_loss(f, f, {"a": 1.0}, criterion="l3"), "criterion"),
])
def test_feature_loss_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call({"a": torch.zeros(1, 2, 3, 3)})


def test_vgg_perceptual_loss_on_real_layers(vgg16_file):
    loss = VGGPerceptualLoss("relu1_2:0.5,conv2_1,relu3_1:2", weights=vgg16_file, criterion="l1")
    g = torch.Generator().manual_seed(5)
    x = torch.rand(2, 3, 24, 20, generator=g, requires_grad=True)
    y = torch.rand(1, 3, 24, 20, generator=g)
    value = loss(x, y)
    fx, fy = loss.extractor(x), loss.extractor(y)
    expected = sum(w * content_loss(fx[n], fy[n], "l1") for n, w in {"relu1_2": 0.5, "conv2_1": 1.0,
                                                                      "relu3_1": 2.0}.items())
    assert torch.allclose(value, expected, rtol=1e-6)
    value.backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert float(loss(y, y)) == 0.0
    assert list(loss.extractor.net._modules)[-1] == "relu3_1"  # truncated after the deepest layer
    assert "criterion='l1'" in repr(loss)


def test_vgg_perceptual_loss_defaults_and_errors(vgg16_file):
    assert VGGPerceptualLoss(weights=vgg16_file).layers == {
        "relu1_1": 0.03125, "relu2_1": 0.0625, "relu3_1": 0.125, "relu4_1": 0.25, "relu5_1": 1.0}
    with pytest.raises(ValueError, match="'mean' or 'sum'"):
        VGGPerceptualLoss(weights=vgg16_file, reduction="none")
    with pytest.raises(InputError):
        VGGPerceptualLoss("relu9_9", weights=vgg16_file)
