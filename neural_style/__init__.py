"""neural-style: neural image optimisation.

``stylize`` (Gatys et al. style transfer) and the other entry points are loaded
on first use, so ``import neural_style`` (and ``neural-style --help``) stays fast.
"""

__version__ = "0.1.0"

_LAZY = {
    "stylize": ("style_transfer.gatys", "stylize"),
    "run_stylize": ("style_transfer.gatys", "run_stylize"),
    "StylizeResult": ("style_transfer.gatys", "StylizeResult"),
    "denoise": ("denoising.solver", "denoise"),
    "run_denoise": ("denoising.solver", "run_denoise"),
    "DenoiseResult": ("denoising.solver", "DenoiseResult"),
    "NeuralStyleError": ("errors", "NeuralStyleError"),
    "InputError": ("errors", "InputError"),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(f".{module}", __name__), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
