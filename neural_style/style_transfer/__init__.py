"""Gatys et al. style transfer: an optimiser updates the image itself.

:mod:`.gatys` works on images in memory, :mod:`.runner` with files (as the command line)."""

from .gatys import StylizeResult, evaluate_losses, run_stylize, style_octave_losses, stylize
from .runner import stylize_file

__all__ = ["StylizeResult", "evaluate_losses", "run_stylize", "style_octave_losses", "stylize", "stylize_file"]
