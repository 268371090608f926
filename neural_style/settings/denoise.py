"""denoise's settings and its iteration limits."""

from dataclasses import dataclass, field
from typing import Optional, Union

from ..rules import choice, count, number, rule
from .common import COUPLINGS, DEFAULT_DEVICE, DENOISE_OPTIMIZERS, FIDELITIES, MAX_SIGMA, REGULARIZERS, TV_BETA

#: denoise's iteration limit when ``iterations`` is None, by regularizer, then solver (tgv and nltv are
#: solved by primal-dual only). TGV needs more than ROF: its plain Chambolle-Pock is strongly convex in x only.
DENOISE_ITERATIONS_BY_REGULARIZER = {
    "tv": {"primal-dual": 300, "lbfgs": 500, "adam": 500},
    "tgv": {"primal-dual": 2000},
    "nltv": {"primal-dual": 300},
}
#: denoise's iteration limit when ``iterations`` is None, per solver, for ``regularizer="tv"``.
DENOISE_ITERATIONS = DENOISE_ITERATIONS_BY_REGULARIZER["tv"]


def denoise_iterations(regularizer: str = "tv", optimizer: str = "primal-dual") -> int:
    """denoise's iteration limit when ``iterations`` is None (:data:`DENOISE_ITERATIONS_BY_REGULARIZER`).

    Args:
        regularizer: ``"tv"``, ``"tgv"`` or ``"nltv"``.
        optimizer: the solver that runs: ``"primal-dual"``, ``"lbfgs"`` or ``"adam"`` (not ``"auto"``).

    Raises:
        KeyError: a regularizer or solver without a limit (tgv and nltv run primal-dual only).
    """
    return DENOISE_ITERATIONS_BY_REGULARIZER[regularizer][optimizer]


#: ``regularizer="auto"`` takes the best measured prior (:data:`AUTO_BEST`) for images of at most this many
#: pixels (width x height) and TV above, whatever the machine. Measured (benchmarks/denoise_auto_size.py, colour,
#: 2 busy cores): NLTV took 2.0-2.9x TV's time from 0.5 to 4 megapixels (60 s against 21 s at 4 MP) and 3.0 GiB
#: against TV's 2.7 GiB there; its graph grows with the pixels (k = 8 neighbours: ~100 bytes a pixel more), so
#: beyond 4 MP (a 2560 x 1600 image) a photograph is left to TV's time and memory.
AUTO_MAX_PIXELS = 4_000_000
#: The prior ``regularizer="auto"`` takes up to :data:`AUTO_MAX_PIXELS` (docs/denoise.md, "Against scikit-image").
AUTO_BEST = "nltv"


def resolved_regularizer(settings, pixels: int, best: str = AUTO_BEST) -> str:
    """The prior a run uses: ``settings.regularizer``, or for ``"auto"`` ``best`` on an image of at most
    :data:`AUTO_MAX_PIXELS` ``pixels`` when the settings allow it (beta 1, l2 fidelity, the primal-dual solver),
    else ``"tv"``."""
    if settings.regularizer != "auto":
        return settings.regularizer
    allows = settings.tv_beta == 1 and settings.fidelity == "l2" and settings.optimizer in ("auto", "primal-dual")
    return best if allows and pixels <= AUTO_MAX_PIXELS else "tv"


#: denoise's Adam learning rate (pixels in [0, 1]; its steps are sums over the image).
DENOISE_ADAM_LR = 0.01


@dataclass
class DenoiseSettings:
    """Settings of beta-order TV denoising (``neural-style denoise``).

    Attributes:
        regularizer: ``"auto"`` (:func:`resolved_regularizer`: the best measured prior, NLTV, up to
            :data:`AUTO_MAX_PIXELS`, TV above it and for other betas, fidelities and solvers), ``"tv"``
            (beta-order total variation) or ``"tgv"`` (total generalised
            variation of order 2, Bredies et al. 2010: no staircases on smooth shading; with
            alpha1 = lambda, alpha0 = 2 lambda; beta 1 and l2 fidelity only) or ``"nltv"`` (non-local
            TV, Gilboa & Osher 2008: differences to the most similar patches in a window, which
            keeps texture; beta 1 and l2 fidelity only).
        tv_beta: order of the total variation (1: ROF; below 1 is non-convex).
        tv_weight: lambda; ``"auto"``: chosen per image by SURE (docs/denoise.md, "Lambda per image") with
            the primal-dual solver, else the rule; ``"rule"``: the power law in sigma and beta
            (docs/denoise.md, "The lambda rule").
        sigma: noise standard deviation on the [0, 1] scale, or ``"auto"`` (estimated).
            The command line's ``--sigma`` is on the 0..255 scale.
        fidelity: ``"l2"``, ``"l1"`` (impulse noise) or ``"charbonnier"``.
        coupling: ``"vectorial"`` (colour channels under one root) or ``"channel"``.
        optimizer: ``"auto"`` (primal-dual for beta 1 with l2, else L-BFGS), ``"primal-dual"``,
            ``"lbfgs"`` or ``"adam"``.
        iterations: iteration limit; ``None``: :func:`denoise_iterations` (primal-dual 300, 2000 with
            ``regularizer="tgv"``; L-BFGS and Adam 500).
        tolerance: stop when the relative change per iteration falls below this.
        eps: smoothing of the TV (and of the Charbonnier fidelity).
        device: see :data:`DEFAULT_DEVICE`.
    """

    regularizer: str = field(default="auto", metadata=rule(choice(REGULARIZERS)))
    tv_beta: float = field(default=1.0, metadata=TV_BETA)
    tv_weight: Union[str, float] = field(default="auto", metadata=rule(number(0, words=("auto", "rule"))))
    sigma: Union[str, float] = field(default="auto", metadata=rule(number(0, maximum=MAX_SIGMA, words=("auto",))))
    fidelity: str = field(default="l2", metadata=rule(choice(FIDELITIES)))
    coupling: str = field(default="vectorial", metadata=rule(choice(COUPLINGS)))
    optimizer: str = field(default="auto", metadata=rule(choice(DENOISE_OPTIMIZERS)))
    iterations: Optional[int] = field(default=None, metadata=rule(count(1, none=True)))
    tolerance: float = field(default=1e-4, metadata=rule(number(0)))
    eps: float = field(default=1e-3, metadata=rule(number(0)))
    device: str = DEFAULT_DEVICE


@dataclass
class DenoiseBatchSettings:
    """How ``denoise`` runs a batch of files (not how each image is solved).

    Attributes:
        jobs: worker processes, one thread each, or ``"auto"``: one per available core (at most one
            per file); 1 denoises in the calling process, with per-iteration progress.
    """

    jobs: Union[int, str] = field(default=1, metadata=rule(count(1, words=("auto",))))

