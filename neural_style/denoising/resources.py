"""How much of the machine a denoising solve takes: CPU threads and memory, decided before it runs."""

from typing import ContextManager

import torch

from ..core.device import cpu_threads, other_load, require_memory
from ..errors import setting
from ..settings import LBFGS_HISTORY
from .nltv import NEIGHBOURS

#: Image-sized float32 tensors each solver holds at its peak (measured: peak RSS of 4 iterations on a
#: 1024 x 1024 x 3 image, rounded up: L-BFGS 26.4, Adam 23.0, primal-dual 9.8), besides L-BFGS's history. ADMM
#: (:mod:`.restore_admm`): 1.84x primal-dual's peak, both restoring a 15 x 15 blur on that image (34.4 and 18.7
#: image sizes: the blur's margin and FFT buffers count in both), so 11 x 1.84.
SOLVER_TENSORS = {"lbfgs": 28, "adam": 25, "primal-dual": 11, "admm": 21, "tgv": 36,  # tgv: counted (x 4, w 6, p 2,
                  "nltv": 9 * NEIGHBOURS + 8}  # q 3, temporaries ~18); nltv: counted for grey (the graph
#: build's (k + 16) distances and labels ~4k; then index 2k, weights k, dual and temporaries 4k; images 8), not measured

#: Below this many values (C x H x W) the primal-dual solver runs on one CPU thread: measured
#: (benchmarks/denoise_threads.py, 2 cores) 2 threads gained nothing at 128 x 128 even when idle.
SINGLE_THREAD_BELOW = 64 * 1024
#: Other runnable work (:func:`~neural_style.core.device.other_load`) from which the solver runs on
#: one thread: with one competing process, 2 threads took 1.3-1.9x one thread's time per iteration
#: (0.94x once), while idle they took 0.5-0.6x.
BUSY_LOAD = 0.5


def solver_threads(y: torch.Tensor) -> int:
    """CPU threads for the primal-dual solvers on ``y``: torch's current number, or 1 for a small
    image or on a machine busy with other work (module constants above; README, "Speed")."""
    if y.numel() < SINGLE_THREAD_BELOW or other_load(samples=1) >= BUSY_LOAD:  # one sample: no wait per image
        return 1
    return torch.get_num_threads()


def primal_dual_threads(y: torch.Tensor) -> ContextManager:
    """A context in which a primal-dual solve of ``y`` runs: :func:`solver_threads` CPU threads for an
    image on the CPU, torch's current number on an accelerator."""
    return cpu_threads(solver_threads(y) if y.device.type == "cpu" else torch.get_num_threads())


def check_memory(y: torch.Tensor, solver: str, iterations: int, device, batch: int = 1) -> None:
    """Refuse, before any work, an image whose solver would not fit.

    Args:
        y: the image, (1, C, H, W).
        solver: ``"lbfgs"``, ``"adam"``, ``"primal-dual"``, ``"admm"``, ``"tgv"`` or ``"nltv"`` (:data:`SOLVER_TENSORS`;
            L-BFGS adds 2 tensors per correction pair,
            at most :data:`~neural_style.settings.LBFGS_HISTORY`, the loop's default).
        iterations: the iteration limit (L-BFGS keeps at most that many pairs).
        device: the torch device it runs on.
        batch: images solved at once (the SURE search solves 2).

    Raises:
        ResourceError: one line naming the need, what is free and what to change.
    """
    pairs = min(LBFGS_HISTORY, iterations) if solver == "lbfgs" else 0
    need = batch * y.numel() * 4 * (SOLVER_TENSORS[solver] + 2 * pairs)
    advice = f"use {setting('optimizer')} adam or a smaller image" if solver == "lbfgs" else "use a smaller image"
    require_memory(need, device, f"denoising {y.shape[-1]}x{y.shape[-2]} px with {solver}", advice)
