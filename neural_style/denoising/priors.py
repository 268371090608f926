"""The TV-family priors as the primal-dual restorer uses them (:mod:`.restore_pd`).

Each prior ``lambda R(x)`` is written as ``R(x) = F(D z)`` for a linear ``D`` and a norm ``F`` whose
conjugate's prox is a projection, so that Chambolle & Pock's algorithm handles it:

- :class:`TVPrior`: ``D = grad`` (forward differences, Neumann), ``F`` = the isotropic l1 norm (with
  vectorial coupling one root over the colour channels), as :mod:`.rof`.
- :class:`TGVPrior`: z = (x, w), ``D(x, w) = (grad x - w, E w)``, weights alpha1 = lambda and
  alpha0 = :data:`~.tgv.ALPHA_RATIO` lambda, as :mod:`.tgv` (Bredies, Kunisch & Pock 2010).
- :class:`NLTVPrior`: ``D = grad_w`` over a non-local graph (:mod:`.nltv`, Gilboa & Osher 2008).

Every prior keeps its own dual variables (and TGV its extra primal variable ``w``) and takes part in
one iteration through :meth:`dual` (ascent and projection, at the extrapolated point), :meth:`adjoint`
(``D_x^T p``, x's part of the descent direction) and :meth:`primal` (its extra variables' descent and
extrapolation). ``norm2`` bounds ``||D||^2`` for the step sizes; ``scale`` is lambda (the duals' scale).
"""

import torch

from .nltv import NonLocalGraph, nl_gradient, nl_gradient_adjoint
from .tgv import ALPHA_RATIO, _project, grad, grad_adjoint, sym_grad, sym_grad_adjoint


class TVPrior:
    """``lambda * TV(x)`` (module doc). ``norm2`` = 8 (``||grad||^2 <= 8``)."""

    norm2 = 8.0

    def __init__(self, lam: float, vectorial: bool):
        self.lam = self.scale = lam
        self.vectorial = vectorial
        self.p = None

    def start(self, x: torch.Tensor, state=None) -> None:
        """Duals at 0, or from ``state`` (a previous :meth:`state`: a warm start)."""
        self.p = torch.zeros(*x.shape[:2], 2, *x.shape[2:], dtype=x.dtype, device=x.device) if state is None \
            else state[0].clone()

    def dual(self, xbar: torch.Tensor, sigma: float) -> None:
        _project(self.p.add_(grad(xbar), alpha=sigma), self.lam, (1.0, 1.0), self.vectorial)

    def adjoint(self) -> torch.Tensor:
        return grad_adjoint(self.p)

    def primal(self, tau: float) -> None:
        """TV has no variable but x."""

    def state(self) -> tuple:
        return (self.p,)


class TGVPrior:
    """``TGV^2`` with alpha1 = ``lam``, alpha0 = :data:`~.tgv.ALPHA_RATIO` ``lam`` (module doc).
    ``norm2`` = 16, the bound :mod:`.tgv` uses for ``(grad x - w, E w)``."""

    norm2 = 16.0

    def __init__(self, lam: float, vectorial: bool, alpha_ratio: float = ALPHA_RATIO):
        self.alpha1, self.alpha0, self.vectorial = lam, alpha_ratio * lam, vectorial
        self.scale = lam
        self.w = self.wbar = self.p = self.q = None

    def start(self, x: torch.Tensor, state=None) -> None:
        if state is None:
            self.w = torch.zeros(*x.shape[:2], 2, *x.shape[2:], dtype=x.dtype, device=x.device)
            self.p = torch.zeros_like(self.w)
            self.q = torch.zeros(*x.shape[:2], 3, *x.shape[2:], dtype=x.dtype, device=x.device)
        else:
            self.w, self.p, self.q = (t.clone() for t in state)
        self.wbar = self.w.clone()

    def dual(self, xbar: torch.Tensor, sigma: float) -> None:
        _project(self.p.add_(grad(xbar) - self.wbar, alpha=sigma), self.alpha1, (1.0, 1.0), self.vectorial)
        _project(self.q.add_(sym_grad(self.wbar), alpha=sigma), self.alpha0, (1.0, 1.0, 2.0), self.vectorial)

    def adjoint(self) -> torch.Tensor:
        return grad_adjoint(self.p)

    def primal(self, tau: float) -> None:
        w_new = self.w + tau * (self.p - sym_grad_adjoint(self.q))
        self.wbar = 2 * w_new - self.w
        self.w = w_new

    def state(self) -> tuple:
        return (self.w, self.p, self.q)


class NLTVPrior:
    """``lambda * NLTV(x)`` over ``graph`` (built for x's (H, W)); ``norm2`` = the graph's estimate."""

    def __init__(self, lam: float, vectorial: bool, graph: NonLocalGraph):
        self.lam = self.scale = lam
        self.vectorial, self.graph = vectorial, graph
        self.norm2 = graph.norm2
        self.p = None

    def start(self, x: torch.Tensor, state=None) -> None:
        if tuple(x.shape[-2:]) != self.graph.shape:
            raise ValueError(f"the graph is for {self.graph.shape}, the image is {tuple(x.shape[-2:])}")
        self.p = torch.zeros_like(nl_gradient(x, self.graph)) if state is None else state[0].clone()

    def dual(self, xbar: torch.Tensor, sigma: float) -> None:
        self.p.add_(nl_gradient(xbar, self.graph), alpha=sigma)
        norm = self.p.square().sum(2, keepdim=True)  # over the k neighbours: p is (B, C, k, H * W)
        if self.vectorial:
            norm = norm.sum(1, keepdim=True)
        self.p.div_(norm.sqrt_().div_(self.lam).clamp_(min=1.0))

    def adjoint(self) -> torch.Tensor:
        return nl_gradient_adjoint(self.p, self.graph)

    def primal(self, tau: float) -> None:
        """NLTV has no variable but x."""

    def state(self) -> tuple:
        return (self.p,)
