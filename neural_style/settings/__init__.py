"""The settings of every command: one dataclass each, the single source of every default.

The Python API (``run_stylize``, ``run_denoise``, ``train``, ``transfer``) takes these
dataclasses, or their fields as keyword arguments, and the command line takes its option
defaults from them (``tests/test_settings.py`` checks that the two agree). This package
imports nothing heavy, so ``neural-style --help`` stays fast. One module per command family
(:mod:`.stylize`, :mod:`.denoise`, :mod:`.restore`, :mod:`.fast`) over what they share (:mod:`.common`); every
name is here too.
"""

from ..rules import choice, count, counts, flag, number, numbers, rule, with_overrides  # noqa: F401
from .common import (  # noqa: F401
    BOUNDS,
    COLORS,
    COUPLINGS,
    DEFAULT_DEVICE,
    DEFAULT_LR,
    DENOISE_OPTIMIZERS,
    DURATION,
    FIDELITIES,
    FRAME_COUNT,
    LBFGS_HISTORY,
    MAX_EMA_DECAY,
    MAX_SEED,
    MAX_SIGMA,
    MAX_STYLE_OCTAVES,
    MAX_TV_BETA,
    MIN_SIZE,
    MODEL,
    MODELS,
    OPTIMIZERS,
    POOLINGS,
    PRECISIONS,
    REGULARIZERS,
    SIZE,
    START,
    TV_BETA,
    WEIGHT,
    WEIGHTS_FORMAT,
    WEIGHTS_FORMATS,
    LayerSpec,
)
from .denoise import (  # noqa: F401
    AUTO_BEST,
    AUTO_MAX_PIXELS,
    DENOISE_ADAM_LR,
    DENOISE_ITERATIONS,
    DENOISE_ITERATIONS_BY_REGULARIZER,
    DenoiseBatchSettings,
    DenoiseSettings,
    denoise_iterations,
    resolved_regularizer,
)
from .fast import TrainOutputs, TrainSettings, TransferSettings  # noqa: F401
from .restore import (  # noqa: F401
    MAX_UPSCALE,
    RESTORE_AUTO_BEST,
    RESTORE_ITERATIONS_BY_REGULARIZER,
    RestoreSettings,
    restore_iterations,
    restore_regularizer,
)
from .stylize import (  # noqa: F401
    SCALE_ITERATIONS,
    STYLIZE_ITERATIONS,
    TEMPORAL_WEIGHT,
    VIDEO_ITERATIONS,
    StylizeOutputs,
    StylizeSettings,
    VideoSettings,
)
