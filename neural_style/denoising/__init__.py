"""Beta-order total-variation denoising: fidelity + lambda * TV_beta, solved exactly.

:mod:`.solver` works on images in memory (energy, primal-dual ROF, lambda rule), :mod:`.runner`
with files (as the command line)."""

from .runner import denoise_files, plan_outputs
from .solver import DenoiseResult, auto_tv_weight, denoise, energy, run_denoise

__all__ = ["DenoiseResult", "auto_tv_weight", "denoise", "denoise_files", "energy", "plan_outputs", "run_denoise"]
