"""What the settings share: the choices and bounds (from :mod:`neural_style.core.choices`), the
default device, the rules several fields share (each written once) and the layer spec type."""

from typing import Mapping, Sequence, Union

# The values each choice accepts and the bounds (also the command line's choices and core's checks).
# The values each choice accepts and the bounds (also the command line's choices and core's checks).
from ..core.choices import (  # noqa: F401  (re-exported: settings.OPTIMIZERS is public)
    BOUNDS,
    COLORS,
    COUPLINGS,
    DEFAULT_LR,
    DENOISE_OPTIMIZERS,
    FIDELITIES,
    LBFGS_HISTORY,
    MAX_EMA_DECAY,
    MAX_SEED,
    MAX_SIGMA,
    MAX_STYLE_OCTAVES,
    MAX_TV_BETA,
    MIN_SIZE,
    MODELS,
    OPTIMIZERS,
    POOLINGS,
    PRECISIONS,
    REGULARIZERS,
    WEIGHTS_FORMATS,
)
from ..rules import choice, count, number, rule

#: ``auto`` (CUDA, then MPS, then CPU), ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
DEFAULT_DEVICE = "auto"

# The rules several settings share, each written once.
#: A loss weight (content, style, TV, temporal): any finite number >= 0.
WEIGHT = rule(number(0))
#: A time in a clip, in seconds (the command line also takes ``MM:SS`` and ``HH:MM:SS``).
START = rule(number(0))
DURATION = rule(number(0, strict=True, none=True))
FRAME_COUNT = rule(count(1, none=True))
#: The order beta of a total variation: > 0 and at most :data:`MAX_TV_BETA`.
TV_BETA = rule(number(0, strict=True, maximum=MAX_TV_BETA))
#: A long side in pixels, or None (the input's own size).
SIZE = rule(count(MIN_SIZE, none=True))
#: The loss network, or None (what the weights file holds).
MODEL = rule(choice(MODELS, none=True))
#: How a weights file expects its input.
WEIGHTS_FORMAT = rule(choice(WEIGHTS_FORMATS))

#: Layers by name with optional weights: ``"relu4_2"``, ``"relu1_1:0.5,relu2_1"``, a list of
#: names or a ``{name: weight}`` mapping.
LayerSpec = Union[str, Sequence[str], Mapping[str, float]]
