"""Lambda from the noise: the power-law rule, fitted on real images (README, "The lambda rule").

The rule is also where the SURE search of :mod:`.primal_dual` starts.
"""

import math
from typing import Union

from ..errors import InputError, setting

#: lambda = c * sigma^p at beta = 1, fitted to the best lambda on ../shared/denoise (all of Set12;
#: the first 8 Kodak24 images; sigma 15, 25, 50; sigma as estimated by metrics.estimate_sigma, so
#: the estimator's bias is part of the rule). Colour with vectorial coupling uses lambda / sqrt(C).
_RULE = {"grey": (1.36, 1.23), "vectorial": (1.29, 1.26)}


def auto_tv_weight(sigma: float, beta: float, channels: int = 1, coupling: str = "vectorial") -> float:
    """Lambda for noise ``sigma`` (on the [0, 1] scale) and order ``beta``.

    At beta = 1: ``c * sigma^p`` with (c, p) = (1.36, 1.23) for greyscale (and per-channel
    colour) and ``sqrt(C) * 1.29 * sigma^1.26`` for colour with vectorial coupling (one root
    over C channels makes the TV of noise about sqrt(C) smaller). For other beta the TV term
    scales as |grad x|^beta ~ sigma^beta, so lambda gets a factor sigma^(1 - beta) to keep
    the balance with the data term (a dimensional extension, checked at beta 1 only).

    Raises:
        OverflowError: sigma and beta far outside the usual range (see :func:`tv_weight_for`).
    """
    vectorial = channels > 1 and coupling == "vectorial"
    c, p = _RULE["vectorial" if vectorial else "grey"]
    sigma = max(sigma, 1e-4)
    return (math.sqrt(channels) if vectorial else 1.0) * c * sigma ** (p + 1 - beta)


#: lambda at beta = 1 for the l1 and Charbonnier data terms (grey; colour with vectorial coupling: times
#: sqrt(C), as for l2). An l1 term pulls each pixel back with a unit slope whatever its distance, so the
#: TV must pull harder than that for anything to move: the l2 rule's lambda (0.08 at sigma 25) moved
#: nothing. Measured (benchmarks/denoise_l1_lambda.py, Set12, salt-and-pepper 10% and 30%, Gaussian sigma
#: 25): the best lambda on the grid 0.25..1.4 is 0.7-1.0 for every noise, for both terms; 0.85 sits between.
L1_TV_WEIGHT = 0.85


def l1_tv_weight(sigma: float, beta: float, channels: int = 1, coupling: str = "vectorial") -> float:
    """Lambda for the l1 and Charbonnier data terms: :data:`L1_TV_WEIGHT` (sqrt(C) times that for colour
    with vectorial coupling), with the factor sigma^(1 - beta) of :func:`auto_tv_weight` for another beta
    (checked at beta 1 only). It does not follow the noise level: an l1 term removes what is smaller
    than a scale set by lambda (Chan & Esedoglu 2005, "Aspects of total variation regularized L1
    function approximation"), whatever its height."""
    vectorial = channels > 1 and coupling == "vectorial"
    return (math.sqrt(channels) if vectorial else 1.0) * L1_TV_WEIGHT * max(sigma, 1e-4) ** (1 - beta)


def tv_weight_for(tv_weight: Union[str, float], sigma: float, beta: float, channels: int, coupling: str,
                  fidelity: str = "l2") -> float:
    """The lambda a run starts from: a given number as it is; for ``"auto"`` or ``"rule"`` the rule
    (:func:`auto_tv_weight` for l2, where SURE starts its search; :func:`l1_tv_weight` for l1 and
    Charbonnier).

    Args:
        tv_weight: a number >= 0 (checked by the settings' rule), ``"auto"`` or ``"rule"``.
        sigma: the noise on the [0, 1] scale; beta, channels, coupling: as for :func:`auto_tv_weight`.
        fidelity: the data term, ``"l2"``, ``"l1"`` or ``"charbonnier"``.

    Raises:
        InputError: the rule overflows (sigma and beta far outside the usual range).
    """
    if not isinstance(tv_weight, str):  # a number (validate() checked it)
        return tv_weight
    rule = auto_tv_weight if fidelity == "l2" else l1_tv_weight
    try:
        weight = rule(sigma, beta, channels, coupling)
    except OverflowError:
        weight = math.inf
    if not math.isfinite(weight):
        raise InputError(f"the lambda rule overflows for sigma {sigma * 255:g} (0..255) and {setting('tv_beta')} "
                         f"{beta:g}: pass {setting('tv_weight')}, or a sigma and beta in the usual range (sigma <= 255, "
                         "beta <= 2)")
    return weight
