"""Non-local total variation (NLTV) denoising, by the primal-dual algorithm.

    min_x  0.5 ||x - y||^2 + lambda * sum_i |(grad_w x)_i|,   (grad_w x)_ik = sqrt(w_ik) (x_j(i,k) - x_i)

(Gilboa & Osher 2008): the gradient at pixel ``i`` is made of the weighted differences to the
``NEIGHBOURS`` pixels ``j`` whose patches are most like ``i``'s within a search window, instead of
the differences to its right and lower neighbours. Texture and repeated structure then count as
regular and are kept, where local TV flattens them. The norm is isotropic over the ``k``
differences (and over the colour channels with vectorial coupling), as for TV.

The graph (:func:`build_graph`) is computed once, from a guide image: a TV solution of the noisy
image (at :data:`GUIDE_SMOOTHING` times the lambda SURE picks for TV), as the non-local literature
does (patch distances on the noisy image are dominated by the noise). ``w_ik = exp(-d_ik / h^2)``,
with ``d_ik`` the mean squared difference of the ``PATCH x PATCH`` patches around ``i`` and ``j``
and ``h = H_FACTOR * sigma``. The lambda of NLTV is then chosen by SURE as for TV, with the graph
held fixed (its dependence on the noise is not in the divergence estimate).

Solver: accelerated Chambolle & Pock (2011, Algorithm 2; the data term is 1-strongly convex),
with ``tau = sigma = 1 / L``, where ``L^2`` bounds ``||grad_w||^2`` (power iteration on
``grad_w^T grad_w``, plus a margin). Each iteration gathers the neighbours' values
(``index_select``) and scatters the adjoint back (``index_add_``), into preallocated buffers.

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
#: The guide is the TV solution at this multiple of the lambda rule's value: smoother than the best
#: TV estimate, so that patch distances follow structure rather than leftover noise. H_FACTOR and
#: this were chosen on 4 Set12 images (01, 03, 05, 08) at sigma 15/25/50, among h 0.75-1.5 x sigma,
#: guides at 0.7-3 x the rule, patches 5/7, 5-12 neighbours, windows 11/15 (Kodak24 was not used).
GUIDE_SMOOTHING = 1.5
#: Window offsets compared at once while building the graph (bounds its memory: (NEIGHBOURS +
#: OFFSET_CHUNK) distances per pixel).
OFFSET_CHUNK = 16
#: Power iterations estimating ||grad_w||^2, and the margin put on the estimate.
POWER_ITERATIONS, NORM_MARGIN = 30, 1.05


@dataclass
class NonLocalGraph:
    """The non-local neighbours of every pixel of an (H, W) image.

    Attributes:
        index: (H * W * k,) int64, the flat pixel index of neighbour ``m`` of pixel ``i`` at
            ``i * k + m`` (pixels in row-major order).
        sqrt_weights: (H * W, k) float32, ``sqrt(w_ik)`` in (0, 1].
        shape: (H, W).
        norm2: an upper estimate of ``||grad_w||^2`` (for the step sizes).
    """

    index: torch.Tensor
    sqrt_weights: torch.Tensor
    shape: Tuple[int, int]
    norm2: float = 0.0

    @property
    def neighbours(self) -> int:
        return self.sqrt_weights.shape[1]


def _offsets(window: int):
    r = window // 2
    return [(dy, dx) for dy in range(-r, r + 1) for dx in range(-r, r + 1) if (dy, dx) != (0, 0)]


def build_graph(guide: torch.Tensor, sigma: float, *, window: int = WINDOW, patch: int = PATCH,
                neighbours: int = NEIGHBOURS, h_factor: float = H_FACTOR) -> NonLocalGraph:
    """The ``neighbours`` most similar pixels of each pixel of ``guide`` within ``window``.

    Args:
        guide: (1, C, H, W) float image the patches are compared on (a first estimate).
        sigma: the noise standard deviation on the [0, 1] scale (sets ``h``).
        window, patch: odd sides in pixels; neighbours: k, at most ``window^2 - 1``.
        h_factor: ``h = h_factor * sigma`` (a sigma of 0 gives equal weights).

    Returns:
        The :class:`NonLocalGraph`, with ``norm2`` estimated.

    Raises:
        ValueError: a bad shape or parameter.
    """
    if guide.ndim != 4 or guide.shape[0] != 1:
        raise ValueError(f"expected a (1, C, H, W) guide, got shape {tuple(guide.shape)}")
    if window % 2 == 0 or patch % 2 == 0 or not 0 < neighbours < window * window:
        raise ValueError(f"expected odd window and patch and 0 < neighbours < window^2, got {window}, {patch}, "
                         f"{neighbours}")
    _, _, height, width = guide.shape
    guide = guide.float()
    r, half = window // 2, patch // 2
    padded = F.pad(guide, (r, r, r, r), mode="replicate")
    offsets = torch.tensor(_offsets(window))
    best = torch.full((height * width, 0), math.inf)
    which = torch.zeros((height * width, 0), dtype=torch.long)
    for start in range(0, len(offsets), OFFSET_CHUNK):
        chunk = offsets[start:start + OFFSET_CHUNK]
        distances = []
        for dy, dx in chunk.tolist():
            shifted = padded[..., r + dy:r + dy + height, r + dx:r + dx + width]
            d = (shifted - guide).square().mean(1, keepdim=True)
            d = F.avg_pool2d(F.pad(d, (half,) * 4, mode="replicate"), patch, stride=1)
            distances.append(d.reshape(-1))
        candidates = torch.cat([best, torch.stack(distances, 1)], 1)
        labels = torch.cat([which, torch.arange(start, start + len(chunk)).expand(height * width, -1)], 1)
        best, keep = candidates.topk(min(neighbours, candidates.shape[1]), dim=1, largest=False)
        which = labels.gather(1, keep)
    rows = torch.arange(height).repeat_interleave(width)[:, None]
    cols = torch.arange(width).repeat(height)[:, None]
    ny = (rows + offsets[which, 0]).clamp(0, height - 1)  # beyond the border: the replicated edge pixel
    nx = (cols + offsets[which, 1]).clamp(0, width - 1)
    h2 = (h_factor * sigma) ** 2
    weights = torch.exp(-best / h2) if h2 > 0 else torch.ones_like(best)
    graph = NonLocalGraph((ny * width + nx).reshape(-1), weights.sqrt().contiguous(), (height, width))
    graph.norm2 = NORM_MARGIN * _norm2_estimate(graph)
    return graph


def nl_gradient(x: torch.Tensor, graph: NonLocalGraph) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, H * W, k): ``sqrt(w_ik) (x_j(i,k) - x_i)``."""
    b, c = x.shape[:2]
    flat = x.reshape(b * c, -1)
    neighbours = flat.index_select(1, graph.index).view(b, c, -1, graph.neighbours)
    return (neighbours - flat.view(b, c, -1, 1)) * graph.sqrt_weights


def nl_gradient_adjoint(p: torch.Tensor, graph: NonLocalGraph) -> torch.Tensor:
    """(B, C, H * W, k) -> (B, C, H, W): ``grad_w^T p`` (minus the non-local divergence)."""
    b, c = p.shape[:2]
    q = p * graph.sqrt_weights
    out = -q.sum(-1).reshape(b * c, -1)
    out.index_add_(1, graph.index, q.reshape(b * c, -1))
    return out.view(b, c, *graph.shape)


def _norm2_estimate(graph: NonLocalGraph) -> float:
    """``||grad_w||^2`` by power iteration on ``grad_w^T grad_w`` (seeded: the same graph, the same steps)."""
    x = torch.randn(1, 1, *graph.shape, generator=torch.Generator().manual_seed(0))
    value = 0.0
    for _ in range(POWER_ITERATIONS):
        x = nl_gradient_adjoint(nl_gradient(x, graph), graph)
        value = float(x.norm())
        if value == 0:
            return 1e-12
        x = x / value
    return value


def nltv_energy(x: torch.Tensor, y: torch.Tensor, lam: float, graph: NonLocalGraph,
                vectorial: bool = True) -> torch.Tensor:
    """``0.5 ||x - y||^2 + lam * sum_i |(grad_w x)_i|`` summed over the batch (module doc).

    Shape: x, y (B, C, H, W). Returns a scalar of x's dtype."""
    g = nl_gradient(x, graph).square().sum(-1)
    norms = (g.sum(1) if vectorial else g).sqrt()
    return 0.5 * (x - y).square().sum() + lam * norms.sum()


def solve_nltv(y: torch.Tensor, lam: float, vectorial: bool, iterations: int, tolerance: float,
               callback=None, start: Optional[tuple] = None, *, graph: NonLocalGraph):
    """(run, state): the NLTV problem on ``y`` (B, C, H, W) over ``graph`` (built for (H, W)).

    ``start`` is a previous ``state`` (x, p) to warm-start from. Stops as the other primal-dual
    solvers (:func:`~neural_style.denoising.stopping.converged`); on Ctrl-C with the current x
    (``stop_reason="interrupted"``).
    """
    if tuple(y.shape[-2:]) != graph.shape:
        raise ValueError(f"the graph is for {graph.shape}, the image is {tuple(y.shape[-2:])}")
    if start is None:
        x, p = y.clone(), torch.zeros(*y.shape[:2], graph.shape[0] * graph.shape[1], graph.neighbours,
                                      dtype=y.dtype, device=y.device)
    else:
        x, p = (t.clone() for t in start)
    state = {"x": x, "xbar": x.clone(), "tau": 1 / math.sqrt(graph.norm2)}
    state["sigma"] = state["tau"]

    def step() -> torch.Tensor:
        x, tau, sigma = state["x"], state["tau"], state["sigma"]
        p.add_(nl_gradient(state["xbar"], graph), alpha=sigma)
        norm = p.square().sum(-1, keepdim=True)
        if vectorial:
            norm = norm.sum(1, keepdim=True)
        p.div_(norm.sqrt_().div_(lam).clamp_(min=1.0))
        x_new = nl_gradient_adjoint(p, graph).mul_(-tau).add_(y, alpha=tau).add_(x).div_(1 + tau)
        theta = 1 / math.sqrt(1 + 2 * tau)
        state.update(tau=tau * theta, sigma=sigma / theta, xbar=x_new + theta * (x_new - x), x=x_new)
        return x_new

    run = iterate(step, x, iterations, tolerance, callback)
    return run, (run.image, p)
