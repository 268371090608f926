"""The values settings accept: every list of choices and every bound, written once.

Used by :mod:`neural_style.settings` (the rules of its fields), by core (the checks of its
functions) and by the command line (its choices), so the three always agree. Imports nothing.
"""

__all__ = [
    "OPTIMIZERS", "DENOISE_OPTIMIZERS", "FIDELITIES", "COUPLINGS", "REGULARIZERS", "PRECISIONS", "POOLINGS",
    "WEIGHTS_FORMATS", "MODELS", "BOUNDS", "COLORS", "DEFAULT_LR", "LBFGS_HISTORY", "MAX_TV_BETA", "MAX_SIGMA",
    "MAX_EMA_DECAY", "MIN_SIZE", "MAX_SEED", "MAX_STYLE_OCTAVES",
]

OPTIMIZERS = ("lbfgs", "adam")  # the image optimisation loop of stylize (and denoise)
DENOISE_OPTIMIZERS = ("auto", "primal-dual") + OPTIMIZERS
FIDELITIES = ("l2", "l1", "charbonnier")
COUPLINGS = ("vectorial", "channel")
REGULARIZERS = ("auto", "tv", "tgv", "nltv")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
POOLINGS = ("max", "avg")
WEIGHTS_FORMATS = ("torchvision", "caffe")
MODELS = ("vgg16", "vgg19")
#: How stylize keeps its image in [0, 1] while optimising (:mod:`neural_style.core.bounds`).
BOUNDS = ("project", "clamp-objective", "sigmoid", "penalty", "clamp-result")
#: Whose colours a stylised image has (:mod:`neural_style.core.color`): the style's, the content's by
#: luminance transfer after the run, or the content's by matching each style's colour histogram (mean and
#: covariance) to the content's before it.
COLORS = ("style", "luminance", "luminance-only", "histogram")

#: Each optimiser's own step when no learning rate is given: L-BFGS takes whole quasi-Newton steps;
#: Adam moves pixels in [0, 1].
DEFAULT_LR = {"lbfgs": 1.0, "adam": 0.02}
#: L-BFGS correction pairs: the optimisation loop's default, and the most ``lbfgs_history="auto"`` keeps
#: (fewer when memory is short); torch's and jcjohnson/neural-style's default.
LBFGS_HISTORY = 100
#: The largest total variation order accepted: differences of [0, 1] pixels raised to higher powers
#: vanish in float32 (0.01 ** 23 underflows to 0) and their gradients turn to 0 * inf = NaN; the orders in
#: use are 1 (ROF) to 2 (Mahendran & Vedaldi's smoothness prior), up to about 3.
MAX_TV_BETA = 10.0
#: The largest noise standard deviation, on the [0, 1] scale of the images (255 on the 0..255 scale).
MAX_SIGMA = 1.0
#: The largest decay of the weights' moving average (about 10000 steps averaged).
MAX_EMA_DECAY = 0.9999
#: The smallest long side of an image in pixels (the deepest VGG layer's minimum).
MIN_SIZE = 16
#: The largest seed (torch's seeds are 64-bit).
MAX_SEED = 2**63 - 1
#: The most style octaves (``style_octaves``): 2^7 = 128x reductions, far past any image's coarsest useful one.
MAX_STYLE_OCTAVES = 8
