"""Non-local TV: the graph, the operator and its adjoint, exact energies, the solver against a
generic optimiser, and texture kept where TV flattens it."""

import math

import pytest
import torch

from neural_style.denoising import nltv
from neural_style.denoising.solver import run_denoise
from neural_style.errors import InputError

from ..clitools import assert_error, assert_ok, invoke


def rand(*shape, seed=0):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def double(graph: nltv.NonLocalGraph) -> nltv.NonLocalGraph:
    return nltv.NonLocalGraph(graph.index, graph.sqrt_weights.double(), graph.shape, graph.norm2)


@pytest.mark.parametrize("shape", [(1, 1, 9, 7), (2, 3, 6, 11), (1, 1, 1, 12)])
def test_the_adjoint_satisfies_the_inner_product_identity(shape):
    b, c, h, w = shape
    graph = double(nltv.build_graph(rand(1, c, h, w, seed=5).float(), 0.1, window=5, patch=3, neighbours=4))
    x, p = rand(b, c, h, w), rand(b, c, 4, h * w, seed=1)
    assert float((nltv.nl_gradient(x, graph) * p).sum()) == \
        pytest.approx(float((x * nltv.nl_gradient_adjoint(p, graph)).sum()), abs=1e-12)


def test_the_norm_estimate_bounds_the_operator():
    graph = double(nltv.build_graph(rand(1, 1, 16, 16).float(), 0.05, window=7, patch=3, neighbours=6))
    for seed in range(5):
        x = rand(1, 1, 16, 16, seed=seed) - 0.5
        assert float(nltv.nl_gradient(x, graph).square().sum()) <= graph.norm2 * float(x.square().sum())


def test_the_graph_finds_the_repeats_of_a_periodic_image():
    """Stripes of period 4: every pixel's most similar patches lie a whole number of periods away
    (distance 0, weight 1)."""
    stripes = (torch.arange(24) % 4 == 0).float().expand(1, 1, 24, 24).contiguous()
    graph = nltv.build_graph(stripes, 0.1, window=9, patch=3, neighbours=4)
    centre = 12 * 24 + 12
    neighbours = graph.index[:, centre]
    assert all(int(j) % 24 % 4 == 12 % 4 for j in neighbours)
    assert torch.allclose(graph.sqrt_weights[:, centre], torch.ones(4))


def test_exact_energy_on_a_3_pixel_image():
    """A 1x3 image with hand-made neighbours: pixel 0 -> 2 (w 1/4), 1 -> 0 (w 1), 2 -> 1 (w 1/9)."""
    graph = nltv.NonLocalGraph(torch.tensor([[2, 0, 1]]), torch.tensor([[0.5, 1.0, 1 / 3]], dtype=torch.float64),
                               (1, 3))
    x = torch.tensor([[[[1.0, 4.0, 7.0]]]], dtype=torch.float64)
    # |sqrt(w)(x_j - x_i)|: 0.5 * 6, 1 * 3, (1/3) * 3
    assert float(nltv.nltv_energy(x, x, 2.0, graph)) == pytest.approx(2.0 * (3 + 3 + 1))
    assert float(nltv.nltv_energy(x, x + 1, 0.0, graph)) == pytest.approx(1.5)


def test_the_primal_dual_solution_is_the_minimum():
    """The energy is convex: no small step in any direction from the solution lowers it."""
    y = rand(1, 2, 10, 12)
    graph = double(nltv.build_graph(y.float(), 0.1, window=5, patch=3, neighbours=4))
    run, _ = nltv.solve_nltv(y, 0.05, True, 20000, 1e-9, graph=graph)
    best = float(nltv.nltv_energy(run.image, y, 0.05, graph))
    assert best < float(nltv.nltv_energy(y, y, 0.05, graph))
    for seed in range(20):
        direction = rand(1, 2, 10, 12, seed=seed + 10) - 0.5
        for step in (1e-2, 1e-3):
            assert float(nltv.nltv_energy(run.image + step * direction, y, 0.05, graph)) >= best - 1e-9


def test_texture_is_kept_where_tv_flattens_it():
    """A noisy periodic texture (period 4, so that whole periods lie in the search window): NLTV's
    error far below TV's, each at its best lambda, through run_denoise (its own guide and graph)."""
    yy, xx = torch.meshgrid(torch.arange(64.0), torch.arange(64.0), indexing="ij")
    clean = (0.5 + 0.3 * torch.sin(2 * math.pi * xx / 4 + 0.5) * torch.cos(2 * math.pi * yy / 4 + 0.3))[None, None]
    noisy = clean + 0.1 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(0))

    def error(regularizer):
        return min(float((run_denoise(noisy, regularizer=regularizer, sigma=0.1, tv_weight=lam, tolerance=1e-5)
                          .image - clean).square().mean()) for lam in (0.01, 0.02, 0.04, 0.08, 0.16))
    assert error("nltv") < 0.3 * error("tv")


def test_run_denoise_and_the_cli_take_nltv(tmp_path):
    from PIL import Image

    y = (rand(1, 3, 20, 24).float() * 0.1 + 0.5)
    result = run_denoise(y, regularizer="nltv", sigma=0.1)
    assert result.regularizer == "nltv" and result.tv_weight_method == "rule" and result.image.shape == y.shape
    assert run_denoise(y, regularizer="nltv", sigma=0.1, tv_weight=0.05).tv_weight == 0.05
    with pytest.raises(InputError, match="regularizer nltv is solved by primal-dual with tv_beta 1"):
        run_denoise(y, regularizer="nltv", tv_beta=1.5)
    Image.fromarray((y[0].permute(1, 2, 0).clamp(0, 1).numpy() * 255).astype("uint8")).save(tmp_path / "n.png")
    assert_ok(invoke("denoise", tmp_path / "n.png", "-o", tmp_path / "o.png", "--regularizer", "nltv", "--quiet",
                     "--report", tmp_path / "r.json"))
    assert '"regularizer": "nltv"' in (tmp_path / "r.json").read_text()
    assert_error(invoke("denoise", tmp_path / "n.png", "-o", tmp_path / "o.png", "--regularizer", "nltv",
                        "--optimizer", "lbfgs"), 2, "--regularizer nltv is solved by primal-dual")


def test_the_graph_keeps_the_most_similar_patches_of_the_window():
    """Against a brute force: every offset's patch distance (replicated edges), the k smallest per pixel
    (the chunked top-k and the separable box filter give the same neighbours and weights)."""
    import torch.nn.functional as F

    guide = rand(1, 2, 9, 13, seed=3).float()
    window, patch, k, sigma = 5, 3, 4, 0.2
    graph = nltv.build_graph(guide, sigma, window=window, patch=patch, neighbours=k)
    r, half = window // 2, patch // 2
    padded = F.pad(guide, (r,) * 4, mode="replicate")
    distances, targets = [], []
    rows, cols = torch.meshgrid(torch.arange(9), torch.arange(13), indexing="ij")
    for dy, dx in nltv._offsets(window):
        d = (padded[..., r + dy:r + dy + 9, r + dx:r + dx + 13] - guide).square().mean(1, keepdim=True)
        distances.append(F.avg_pool2d(F.pad(d, (half,) * 4, mode="replicate"), patch, stride=1).reshape(-1))
        targets.append(((rows + dy).clamp(0, 8) * 13 + (cols + dx).clamp(0, 12)).reshape(-1))
    best, pick = torch.stack(distances).topk(k, dim=0, largest=False)
    order = graph.sqrt_weights.argsort(0, descending=True)
    assert torch.allclose(graph.sqrt_weights.gather(0, order), (-best / (2 * sigma**2)).exp(), atol=1e-6)
    assert torch.equal(graph.index.gather(0, order), torch.stack(targets).gather(0, pick))


def test_a_confidence_weights_each_pixel_of_the_patch_distance():
    """Against a brute force: sum c_i c_j d^2 / sum c_i c_j over each patch (replicated edges); all ones is
    the plain distance; a confidence of another shape, or of 0, is refused."""
    import torch.nn.functional as F

    guide = rand(1, 3, 9, 13, seed=4).float()
    confidence = 0.25 + 0.75 * (rand(1, 1, 9, 13, seed=5) > 0.5).float()
    window, patch, k, sigma = 5, 3, 4, 0.2
    graph = nltv.build_graph(guide, sigma, window=window, patch=patch, neighbours=k, confidence=confidence)
    r, half = window // 2, patch // 2
    padded, padded_c = (F.pad(t, (r,) * 4, mode="replicate") for t in (guide, confidence))
    box = lambda t: F.avg_pool2d(F.pad(t, (half,) * 4, mode="replicate"), patch, stride=1)  # noqa: E731
    distances, targets = [], []
    rows, cols = torch.meshgrid(torch.arange(9), torch.arange(13), indexing="ij")
    for dy, dx in nltv._offsets(window):
        d = (padded[..., r + dy:r + dy + 9, r + dx:r + dx + 13] - guide).square().mean(1, keepdim=True)
        both = padded_c[..., r + dy:r + dy + 9, r + dx:r + dx + 13] * confidence
        distances.append((box(d * both) / box(both)).reshape(-1))
        targets.append(((rows + dy).clamp(0, 8) * 13 + (cols + dx).clamp(0, 12)).reshape(-1))
    best, pick = torch.stack(distances).topk(k, dim=0, largest=False)
    order = graph.sqrt_weights.argsort(0, descending=True)
    assert torch.allclose(graph.sqrt_weights.gather(0, order), (-best / (2 * sigma**2)).exp(), atol=1e-6)
    assert torch.equal(graph.index.gather(0, order), torch.stack(targets).gather(0, pick))
    plain = nltv.build_graph(guide, sigma, window=window, patch=patch, neighbours=k)
    ones = nltv.build_graph(guide, sigma, window=window, patch=patch, neighbours=k,
                            confidence=torch.ones(1, 1, 9, 13))
    assert torch.allclose(ones.sqrt_weights, plain.sqrt_weights, atol=1e-6)
    assert not torch.allclose(graph.sqrt_weights, plain.sqrt_weights, atol=1e-3)
    for bad in (torch.ones(1, 1, 9, 12), torch.zeros(1, 1, 9, 13)):
        with pytest.raises(ValueError, match="confidence in"):
            nltv.build_graph(guide, sigma, window=window, patch=patch, neighbours=k, confidence=bad)


def test_the_automatic_lambda_is_the_rules_scaled_and_the_solve_starts_from_the_guide():
    from neural_style.denoising.lambda_rule import auto_tv_weight

    y = rand(1, 3, 20, 24).float() * 0.1 + 0.5
    for channels, colour in ((3, True), (1, False)):
        result = run_denoise(y[:, :channels], regularizer="nltv", sigma=0.1)
        rule = auto_tv_weight(0.1, 1.0, channels, "vectorial")
        assert result.tv_weight == pytest.approx(nltv.auto_nltv_weight(rule, 0.1, colour))
        assert 0.3 * rule < result.tv_weight < 0.8 * rule
    graph = nltv.build_graph(y, 0.1, window=5, patch=3, neighbours=4)
    solution = nltv.solve_nltv(y, 0.05, True, 3000, 1e-7, graph=graph)[0].image
    cold = nltv.solve_nltv(y, 0.05, True, 1, 0.0, graph=graph)[0].image
    warm = nltv.solve_nltv(y, 0.05, True, 1, 0.0, graph=graph, start=(solution, None))[0].image
    assert float((warm - solution).abs().max()) < 0.5 * float((cold - solution).abs().max())
