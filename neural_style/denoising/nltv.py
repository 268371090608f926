"""Non-local total variation (NLTV) denoising, by the primal-dual algorithm.

    min_x  0.5 ||x - y||^2 + lambda * sum_i |(grad_w x)_i|,   (grad_w x)_ik = sqrt(w_ik) (x_j(i,k) - x_i)

(Gilboa & Osher 2008): the gradient at pixel ``i`` is made of the weighted differences to the
``NEIGHBOURS`` pixels ``j`` whose patches are most like ``i``'s within a search window, instead of
the differences to its right and lower neighbours. Texture and repeated structure then count as
regular and are kept, where local TV flattens them. The norm is isotropic over the ``k``
differences (and over the colour channels with vectorial coupling), as for TV.

The graph (:func:`build_graph`) is computed once, from a guide image: a TV solution of the noisy
image, as the non-local literature does (patch distances on the noisy image are dominated by the
noise), at :data:`GUIDE_SMOOTHING` times a chosen lambda: run_denoise's by a short TV SURE search
(:data:`GUIDE_SEARCH` evaluations; the rule's lambda instead flattened texture in the guide: Set12 09
-0.44 dB), restore's by its own rule. ``w_ik = exp(-d_ik / h^2)``, with ``d_ik`` the mean squared
difference of the ``PATCH x PATCH`` patches around ``i`` and ``j`` and ``h = H_FACTOR * sigma``.
One window offset at a time (its maps stay in cache: 6x faster than a chunk of 60), the distances
are a box filter (sums of shifted slices) of the squared difference between the guide and its
shift, and each pixel keeps the ``k`` smallest as they come (:class:`_Kept`).

Automatic lambda (:func:`auto_nltv_weight`): the TV rule's times a factor, not SURE. SURE, with the
graph held fixed, picked about 0.45x the rule, 0.1-0.2 dB below the best lambda on Set12 01-06 (the
graph's dependence on the noise is not in its divergence estimate), and its search (9 solves of a
batch of 2) cost 5-8x TV's whole run. The guide's search carries most of the per-image adaptation.

Layout: neighbour ``m`` of pixel ``i`` (pixels in row-major order) is at ``index[m, i]``, and every
per-edge array is (k, H * W), pixels last, so that the sums over the ``k`` differences and the
broadcasts of x over them run along contiguous rows (a trailing dimension of k made them 5-8x
slower on CPU, and the iteration 2-3x slower).

Solver: accelerated Chambolle & Pock (2011, Algorithm 2; the data term is 1-strongly convex),
with ``tau = sigma = 1 / L``, where ``L^2`` bounds ``||grad_w||^2`` (Lanczos on
``grad_w^T grad_w``, plus a margin). Each iteration gathers the neighbours' values (``gather``) and
scatters the adjoint back (``index_add_``), into one preallocated (B, C, k, H * W) buffer besides
the dual. The state it hands back keeps the dual divided by lambda, so that a warm start at another
lambda starts from the dual scaled to it; run_denoise starts from the guide.

Cost (benchmarks/nltv_cost.py, 2 shared cores, sigma 25): about 2x TV's time per image with
automatic sigma and lambda (11x with the SURE searches, 27x before the layout above). Per
iteration NLTV moves k = 8 times TV's dual; one solve of 50-70 iterations now costs about as much
as the graph. NEIGHBOURS 4 (-0.18 dB on Set12 01-06) or WINDOW 7 (-0.15 dB on Kodak24 01-03) were
faster and lost quality.

Reference:
    G. Gilboa and S. Osher, "Nonlocal operators with applications to image processing",
    Multiscale Modeling & Simulation 7(3), 2008.
"""

import math
from dataclasses import dataclass
from typing import Optional, Tuple

import torch
import torch.nn.functional as F

from .stopping import iterate

#: Side of the square search window, in pixels (odd).
WINDOW = 11
#: Side of the square patches compared, in pixels (odd).
PATCH = 5
#: Neighbours kept per pixel: the most similar patches in the window.
NEIGHBOURS = 8
#: The weights' filtering parameter h over the noise sigma (both on the [0, 1] scale).
H_FACTOR = 1.0
#: restore's guide is the TV solution at this multiple of the lambda it picks (denoise's was, at
#: SURE's for TV): smoother than the best TV estimate, so that patch distances follow structure rather
#: than leftover noise. H_FACTOR and this were chosen on 4 Set12 images (01, 03, 05, 08) at sigma
#: 15/25/50, among h 0.75-1.5 x sigma, guides at 0.7-3 x the rule, patches 5/7, 5-12 neighbours,
#: windows 11/15 (Kodak24 was not used).
GUIDE_SMOOTHING = 1.5
#: TV SURE evaluations choosing run_denoise's guide (at GUIDE_SMOOTHING times the lambda picked).
GUIDE_SEARCH = 5
#: run_denoise's automatic NLTV lambda is the TV rule's times NLTV_RULE_FACTOR * (sigma / (25 /
#: 255))^NLTV_SIGMA_POWER, by kind (grey, colour with vectorial coupling): chosen on the best lambda of
#: Set12 01-06 (0.6/0.55/0.45x the rule at sigma 15/25/50 with a guide at 1.25x the rule; 0.5 at
#: sigma 25 with this guide) and Kodak24 01-03 (sigma 25: 0.4-0.55).
NLTV_RULE_FACTOR = {"grey": 0.5, "vectorial": 0.45}
NLTV_SIGMA_POWER = -0.25
#: Lanczos steps estimating ||grad_w||^2, and the margin put on the estimate: 12 steps came within 0.8%
#: of 300 power iterations on the graphs of Set12 01-06 and Kodak24 01-02 (30 power iterations: 4%).
LANCZOS_STEPS, NORM_MARGIN = 12, 1.05


@dataclass
class NonLocalGraph:
    """The non-local neighbours of every pixel of an (H, W) image.

    Attributes:
        index: (k, H * W) int64, ``index[m, i]`` the flat pixel index of neighbour ``m`` of pixel
            ``i`` (pixels in row-major order).
        sqrt_weights: (k, H * W) float, ``sqrt(w_ik)`` in [0, 1].
        shape: (H, W).
        norm2: an upper estimate of ``||grad_w||^2`` (for the step sizes).
    """

    index: torch.Tensor
    sqrt_weights: torch.Tensor
    shape: Tuple[int, int]
    norm2: float = 0.0

    @property
    def neighbours(self) -> int:
        return self.sqrt_weights.shape[0]


def _offsets(window: int):
    r = window // 2
    return [(dy, dx) for dy in range(-r, r + 1) for dx in range(-r, r + 1) if (dy, dx) != (0, 0)]


def _box(d: torch.Tensor, patch: int) -> torch.Tensor:
    """The mean over the ``patch x patch`` square around each pixel of (n, H, W) ``d`` (edges replicated),
    by sums of shifted slices (avg_pool2d was 2x slower on CPU)."""
    half, (height, width) = patch // 2, d.shape[-2:]
    d = F.pad(d[:, None], (half, half, half, half), mode="replicate")[:, 0]
    rows = d[:, :height].clone()
    for t in range(1, patch):
        rows.add_(d[:, t:t + height])
    out = rows[..., :width].clone()
    for t in range(1, patch):
        out.add_(rows[..., t:t + width])
    return out.div_(patch * patch)


class _Kept:
    """The k smallest distances offered so far at each of n pixels, and the offsets that gave them:
    after the first k offsets, an offset replaces a pixel's largest kept distance where it is smaller,
    which after the first few is at few pixels (about k / m of them at the m-th offset)."""

    def __init__(self, k: int, n: int, like: torch.Tensor):
        self.best = like.new_empty(k, n)
        self.which = torch.empty(k, n, dtype=torch.long, device=like.device)
        self.rows = torch.arange(k, dtype=like.dtype, device=like.device)[:, None]
        self.worst = self.slot = None

    def offer(self, distances: torch.Tensor, number: int) -> None:
        """Offer the (n,) ``distances`` of window offset ``number``."""
        k, n = self.best.shape
        if number < k:  # the first k offsets fill the slots
            self.best[number], self.which[number] = distances, number
            if number == k - 1:
                self.worst, self.slot = self._largest(self.best)
            return
        at = (distances < self.worst).nonzero().squeeze(1)
        flat = self.slot.index_select(0, at).mul_(n).add_(at)
        self.best.view(-1).index_copy_(0, flat, distances.index_select(0, at))
        self.which.view(-1).index_fill_(0, flat, number)
        worst, slot = self._largest(self.best.index_select(1, at))
        self.worst.index_copy_(0, at, worst)
        self.slot.index_copy_(0, at, slot)

    def _largest(self, best: torch.Tensor):
        """(values, rows) of the largest of each column of (k, m) ``best`` (``max(0)`` was 30x slower)."""
        worst = best.amax(0)
        return worst, torch.eq(best, worst).to(best.dtype).mul_(self.rows).amax(0).long()


def build_graph(guide: torch.Tensor, sigma: float, *, window: int = WINDOW, patch: int = PATCH,
                neighbours: int = NEIGHBOURS, h_factor: float = H_FACTOR,
                confidence: Optional[torch.Tensor] = None) -> NonLocalGraph:
    """The ``neighbours`` most similar pixels of each pixel of ``guide`` within ``window``.

    Args:
        guide: (1, C, H, W) float image the patches are compared on (a first estimate).
        sigma: the noise standard deviation on the [0, 1] scale (sets ``h``).
        window, patch: odd sides in pixels; neighbours: k, at most ``window^2 - 1``.
        h_factor: ``h = h_factor * sigma`` (a sigma of 0 gives equal weights).
        confidence: None, or (1, 1, H, W) float in (0, 1]: how much each pixel of ``guide`` counts in a
            patch distance, which is then ``sum_t c_{i+t} c_{j+t} |g_{i+t} - g_{j+t}|^2 / sum_t c_{i+t}
            c_{j+t}`` over the patch's offsets t (exemplar-based inpainting compares patches over their
            known pixels only: Criminisi, Perez & Toyama 2004; a weight above 0 for the filled ones keeps a
            distance, the guide's, for a patch wholly inside a hole).

    Returns:
        The :class:`NonLocalGraph`, with ``norm2`` estimated.

    Raises:
        ValueError: a bad shape or parameter.
    """
    if guide.ndim != 4 or guide.shape[0] != 1:
        raise ValueError(f"expected a (1, C, H, W) guide, got shape {tuple(guide.shape)}")
    if confidence is not None and (tuple(confidence.shape) != (1, 1, *guide.shape[-2:])
                                   or not bool((confidence > 0).all() & (confidence <= 1).all())):
        raise ValueError(f"expected a (1, 1, {guide.shape[-2]}, {guide.shape[-1]}) confidence in (0, 1], got shape "
                         f"{tuple(confidence.shape)}, range [{float(confidence.min()):g}, {float(confidence.max()):g}]")
    if window % 2 == 0 or patch % 2 == 0 or not 0 < neighbours < window * window:
        raise ValueError(f"expected odd window and patch and 0 < neighbours < window^2, got {window}, {patch}, "
                         f"{neighbours}")
    _, channels, height, width = guide.shape
    guide = guide[0].float()
    r = window // 2
    padded = F.pad(guide[None], (r, r, r, r), mode="replicate")[0]
    offsets = torch.tensor(_offsets(window), device=guide.device)
    kept = _Kept(neighbours, height * width, guide)
    distance = _patch_distance(patch, r, confidence)
    for number, (dy, dx) in enumerate(offsets.tolist()):  # one offset at a time: its maps stay in cache
        diff = padded[:, r + dy:r + dy + height, r + dx:r + dx + width].sub(guide).square_()
        kept.offer(distance(diff.mean(0, keepdim=True) if channels > 1 else diff, dy, dx).view(-1), number)
    best, which = kept.best, kept.which
    rows = torch.arange(height, device=guide.device).repeat_interleave(width)
    cols = torch.arange(width, device=guide.device).repeat(height)
    ny = (rows + offsets[which, 0]).clamp_(0, height - 1)  # beyond the border: the replicated edge pixel
    nx = (cols + offsets[which, 1]).clamp_(0, width - 1)
    h2 = (h_factor * sigma) ** 2
    sqrt_weights = best.div_(-2 * h2).exp_() if h2 > 0 else torch.ones_like(best)
    graph = NonLocalGraph(ny.mul_(width).add_(nx), sqrt_weights, (height, width))
    graph.norm2 = NORM_MARGIN * _norm2_estimate(graph)
    return graph


def _patch_distance(patch: int, r: int, confidence: Optional[torch.Tensor]):
    """``(squared differences (1, H, W), dy, dx) -> (1, H, W)``: the patch distances at that offset, plain
    or weighted by ``confidence`` (:func:`build_graph`); ``r`` is the window's radius."""
    if confidence is None:
        return lambda diff, dy, dx: _box(diff, patch)
    c = confidence[0].float()
    height, width = c.shape[-2:]
    padded = F.pad(c[None], (r, r, r, r), mode="replicate")[0]

    def weighted(diff: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
        both = padded[:, r + dy:r + dy + height, r + dx:r + dx + width] * c
        return _box(diff.mul_(both), patch).div_(_box(both, patch))

    return weighted


def auto_nltv_weight(tv_rule: float, sigma: float, vectorial: bool) -> float:
    """NLTV's lambda for noise ``sigma`` ([0, 1] scale) from the TV rule's ``tv_rule`` at that sigma
    (:data:`NLTV_RULE_FACTOR`): SURE, with the graph held fixed, picked about 0.45x the rule, 0.1-0.2 dB
    below the best lambda (it does not see that the graph depends on the noise), at 9 solves of a batch of 2."""
    factor = NLTV_RULE_FACTOR["vectorial" if vectorial else "grey"]
    return tv_rule * factor * (max(sigma, 1e-4) * 255 / 25) ** NLTV_SIGMA_POWER


def nl_gradient(x: torch.Tensor, graph: NonLocalGraph) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, k, H * W): ``sqrt(w_ik) (x_j(i,k) - x_i)``."""
    b, c = x.shape[:2]
    flat = x.reshape(b * c, -1)
    k, n = graph.index.shape
    out = torch.gather(flat, 1, graph.index.view(1, -1).expand(b * c, -1)).view(b, c, k, n)
    return out.sub_(flat.view(b, c, 1, n)).mul_(graph.sqrt_weights)


def nl_gradient_adjoint(p: torch.Tensor, graph: NonLocalGraph, out: Optional[torch.Tensor] = None) -> torch.Tensor:
    """(B, C, k, H * W) -> (B, C, H, W): ``grad_w^T p`` (minus the non-local divergence).

    ``out``, when given, is a (B, C, k, H * W) buffer for ``sqrt(w) p`` (then overwritten)."""
    b, c = p.shape[:2]
    q = torch.mul(p, graph.sqrt_weights, out=out)
    result = q.sum(2).neg_().view(b * c, -1)
    result.index_add_(1, graph.index.view(-1), q.view(b * c, -1))
    return result.view(b, c, *graph.shape)


def _norm2_estimate(graph: NonLocalGraph, steps: int = None) -> float:
    """The largest eigenvalue of ``grad_w^T grad_w`` (``||grad_w||^2``) by :data:`LANCZOS_STEPS` steps of
    Lanczos with full reorthogonalisation, from a seeded vector (the same graph, the same estimate): a lower
    estimate, as the power iteration's, but near the value in far fewer products."""
    generator = torch.Generator().manual_seed(0)
    q = torch.randn(1, 1, *graph.shape, generator=generator, dtype=torch.float64).to(graph.sqrt_weights.device)
    q = q / q.norm()
    basis, alphas, betas = [], [], []
    for _ in range(steps or LANCZOS_STEPS):
        basis.append(q)
        w = nl_gradient_adjoint(nl_gradient(q.to(graph.sqrt_weights.dtype), graph), graph).double()
        alphas.append(float((w * q).sum()))
        for v in basis:  # full reorthogonalisation (a few vectors)
            w -= (w * v).sum() * v
        beta = float(w.norm())
        if beta < 1e-9 * max(abs(alphas[0]), 1e-12):
            break
        betas.append(beta)
        q = w / beta
    n = len(alphas)
    tridiagonal = torch.diag(torch.tensor(alphas, dtype=torch.float64))
    if n > 1:
        off = torch.tensor(betas[:n - 1], dtype=torch.float64)
        tridiagonal += torch.diag(off, 1) + torch.diag(off, -1)
    return max(float(torch.linalg.eigvalsh(tridiagonal)[-1]), 1e-12)


def nltv_energy(x: torch.Tensor, y: torch.Tensor, lam: float, graph: NonLocalGraph,
                vectorial: bool = True) -> torch.Tensor:
    """``0.5 ||x - y||^2 + lam * sum_i |(grad_w x)_i|`` summed over the batch (module doc).

    Shape: x, y (B, C, H, W). Returns a scalar of x's dtype."""
    g = nl_gradient(x, graph).square().sum(2)
    norms = (g.sum(1) if vectorial else g).sqrt()
    return 0.5 * (x - y).square().sum() + lam * norms.sum()


def solve_nltv(y: torch.Tensor, lam: float, vectorial: bool, iterations: int, tolerance: float,
               callback=None, start: Optional[tuple] = None, *, graph: NonLocalGraph):
    """(run, state): the NLTV problem on ``y`` (B, C, H, W) over ``graph`` (built for (H, W)).

    ``start`` is a previous ``state`` (x, p / lambda) to warm-start from, or (x, None): from x with the
    dual at 0 (run_denoise starts from the guide). Stops as the other
    primal-dual solvers (:func:`~neural_style.denoising.stopping.converged`); on Ctrl-C with the
    current x (``stop_reason="interrupted"``).
    """
    if tuple(y.shape[-2:]) != graph.shape:
        raise ValueError(f"the graph is for {graph.shape}, the image is {tuple(y.shape[-2:])}")
    b, c = y.shape[:2]
    k, n = graph.index.shape
    if start is None or start[1] is None:
        x, p = (y if start is None else start[0]).clone(), y.new_zeros(b, c, k, n)
    else:
        x, p = start[0].clone(), start[1] * lam
    index = graph.index.view(1, -1).expand(b * c, -1)
    buffer = torch.empty_like(p)
    state = {"x": x, "xbar": x.clone(), "tau": 1 / math.sqrt(graph.norm2)}
    state["sigma"] = state["tau"]

    def step() -> torch.Tensor:
        x, tau, sigma = state["x"], state["tau"], state["sigma"]
        xbar = state["xbar"].view(b, c, 1, n)
        torch.gather(xbar.view(b * c, n), 1, index, out=buffer.view(b * c, k * n))
        p.addcmul_(buffer.sub_(xbar), graph.sqrt_weights, value=sigma)
        norm = torch.mul(p, p, out=buffer).sum(2, keepdim=True)
        norm = norm.sum(1, keepdim=True) if vectorial and c > 1 else norm
        p.div_(norm.sqrt_().mul_(1 / lam).clamp_(min=1.0))
        adjoint = nl_gradient_adjoint(p, graph, out=buffer)
        x_new = adjoint.sub_(y).mul_(-tau).add_(x).div_(1 + tau)  # (x + tau (y - grad_w^T p)) / (1 + tau)
        theta = 1 / math.sqrt(1 + 2 * tau)
        state.update(tau=tau * theta, sigma=sigma / theta, xbar=torch.lerp(x, x_new, 1 + theta), x=x_new)
        return x_new

    run = iterate(step, x, iterations, tolerance, callback)
    return run, (run.image, p / lam)
