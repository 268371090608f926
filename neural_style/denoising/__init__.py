"""Beta-order total-variation denoising: fidelity + lambda * TV_beta, solved exactly.

:mod:`.solver` denoises images in memory (``run_denoise``, ``denoise``) over :mod:`.energy`,
:mod:`.noise`, :mod:`.lambda_rule`, the primal-dual kernels (:mod:`.rof`, :mod:`.tgv`, :mod:`.nltv`),
lambda by SURE (:mod:`.sure`, :mod:`.primal_dual`) and :mod:`.resources`; :mod:`.runner` works with
files (as the command line), one per :mod:`.files` call, in this process or in :mod:`.parallel`."""

from .runner import denoise_files, plan_outputs
from .solver import DenoiseResult, auto_tv_weight, denoise, energy, run_denoise

__all__ = ["DenoiseResult", "auto_tv_weight", "denoise", "denoise_files", "energy", "plan_outputs", "run_denoise"]
