"""The ``neural-style`` command line.

Thin by design: each command (one module here) declares its options, whose defaults and checks
come from :mod:`neural_style.settings` and its rules (:mod:`.options`), calls one runner
(``style_transfer.runner``, ``video.stylize``, ``denoising.runner``, ``fast.train_run``,
``fast.transfer_run``, ``fast.export_run``), and formats progress, summaries and one-line errors
(:mod:`.app`). The runners, and torch with them, are imported inside the commands, so ``--help``
answers at once.
"""

from . import denoise, export, restore, studio, stylize, train, transfer  # noqa: F401  (each registers its command)
from .app import cli, main

__all__ = ["cli", "main"]
