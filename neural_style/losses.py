"""Public home of the losses: :mod:`neural_style.core.losses`, one import away.

``from neural_style import losses`` or ``import neural_style.losses`` gives the same
functions and modules as ``neural_style.core.losses``.
"""

from .core.losses import *  # noqa: F401,F403  (the public names, listed in its __all__)
from .core.losses import __all__  # noqa: F401
