"""Gatys et al. style transfer: an optimiser updates the image itself.

:mod:`.gatys` works on images in memory, :mod:`.runner` with files (as the command line)."""

from .gatys import StylizeResult, run_stylize, stylize
from .runner import stylize_file

__all__ = ["StylizeResult", "run_stylize", "stylize", "stylize_file"]
