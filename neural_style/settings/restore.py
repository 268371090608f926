"""restore's settings: denoise's, and what happened to the image (blur, missing pixels, reduction)."""

from dataclasses import dataclass, field
from typing import Optional

from ..rules import Rule, number, rule
from .denoise import DenoiseSettings, resolved_regularizer

#: restore's iteration limit when ``iterations`` is None, by regularizer, then solver (the primal-dual
#: restorer needs more than the denoiser: a blur or a reduction is not invertible, and the data term
#: is then not strongly convex).
RESTORE_ITERATIONS_BY_REGULARIZER = {
    "tv": {"primal-dual": 3000, "lbfgs": 500, "adam": 500},
    "tgv": {"primal-dual": 3000},
    "nltv": {"primal-dual": 3000},
}
#: The prior ``regularizer="auto"`` takes (up to :data:`~.denoise.AUTO_MAX_PIXELS` output pixels), by what the
#: degradation holds, the first that applies in this order: the best mean PSNR of each kind of case in
#: benchmarks/restore_vs_peers.py (docs/restore.md, the table).
RESTORE_AUTO_BEST = {"mask": "nltv", "blur": "nltv", "upscale": "nltv"}
#: The largest enlargement factor.
MAX_UPSCALE = 16.0


def restore_regularizer(settings, pixels: int, blur: bool, mask: bool, upscale: bool) -> str:
    """The prior a restoration uses: :func:`~.denoise.resolved_regularizer` with the best prior of the
    degradation's kind (:data:`RESTORE_AUTO_BEST`); with no degradation, denoise's."""
    kinds = [kind for kind, on in (("mask", mask), ("blur", blur), ("upscale", upscale)) if on]
    if not kinds:
        return resolved_regularizer(settings, pixels)
    return resolved_regularizer(settings, pixels, RESTORE_AUTO_BEST[kinds[0]])


def restore_iterations(regularizer: str = "tv", optimizer: str = "primal-dual") -> int:
    """restore's iteration limit when ``iterations`` is None (:data:`RESTORE_ITERATIONS_BY_REGULARIZER`).

    Raises:
        KeyError: a regularizer or solver without a limit (tgv and nltv run primal-dual only).
    """
    return RESTORE_ITERATIONS_BY_REGULARIZER[regularizer][optimizer]


@dataclass
class RestoreSettings(DenoiseSettings):
    """Settings of restoration (``neural-style restore``): :class:`~.denoise.DenoiseSettings`' fields
    (regularizer, tv_beta, tv_weight, sigma, fidelity, coupling, optimizer, iterations, tolerance, eps,
    device) and the degradation.

    Attributes:
        blur: the blur undone: ``"gaussian:SIGMA"``, ``"motion:LENGTH,ANGLE"`` (degrees), ``"box:SIZE"``
            (pixels), or the path of a kernel image (.png, normalised to sum 1) or array (.npy); None: no blur.
        mask: the path of a mask image (white: known pixels; black: pixels to fill), or None.
        mask_color: ``"R,G,B"`` or an ``(R, G, B)`` tuple (0..255): the pixels of exactly this colour in the input
            are to fill, or None.
        upscale: the enlargement factor (> 1; the output is that many times larger), or None.
        tv_weight: lambda; ``"auto"``: by the discrepancy principle (docs/restore.md); with no degradation,
            as denoise.
        iterations: ``None``: :func:`restore_iterations`.
    """

    blur: Optional[str] = field(default=None, metadata=rule(Rule("any", none=True)))
    mask: Optional[str] = field(default=None, metadata=rule(Rule("any", none=True)))
    mask_color: Optional[str] = field(default=None, metadata=rule(Rule("any", none=True)))
    upscale: Optional[float] = field(default=None, metadata=rule(number(1, strict=True, maximum=MAX_UPSCALE,
                                                                        none=True)))
