"""neural-style: neural image optimisation.

The public API, one entry point per command (loaded on first use, so ``import neural_style``
and ``neural-style --help`` stay fast):

* ``stylize`` / ``run_stylize`` (images in memory) and ``stylize_file`` (files, as the CLI);
  ``evaluate_losses`` and ``style_octave_losses`` judge any image (another tool's output too);
* ``denoise`` / ``run_denoise`` and ``denoise_files``;
* ``restore`` / ``run_restore`` (with a ``Degradation``) and ``restore_files``: deblur, inpaint, upscale;
* ``train`` (writes a model file, checkpoints and previews, as the CLI; progress through
  ``TrainCallbacks``), ``transfer``, ``export``;
* the settings dataclasses, the single source of every default: ``StylizeSettings``,
  ``StylizeOutputs``, ``DenoiseSettings``, ``RestoreSettings``, ``TrainSettings``, ``TrainOutputs``, ``TransferSettings``.
"""

__version__ = "0.1.0"

_LAZY = {
    "stylize": ("style_transfer.gatys", "stylize"),
    "run_stylize": ("style_transfer.gatys", "run_stylize"),
    "StylizeResult": ("style_transfer.gatys", "StylizeResult"),
    "evaluate_losses": ("style_transfer.gatys", "evaluate_losses"),
    "style_octave_losses": ("style_transfer.gatys", "style_octave_losses"),
    "stylize_file": ("style_transfer.runner", "stylize_file"),
    "denoise": ("denoising.solver", "denoise"),
    "run_denoise": ("denoising.solver", "run_denoise"),
    "DenoiseResult": ("denoising.solver", "DenoiseResult"),
    "denoise_files": ("denoising.runner", "denoise_files"),
    "restore": ("denoising.restore_api", "restore"),
    "run_restore": ("denoising.restore", "run_restore"),
    "RestoreResult": ("denoising.restore", "RestoreResult"),
    "Degradation": ("denoising.degradation", "Degradation"),
    "restore_files": ("denoising.restore_files", "restore_files"),
    "train": ("fast.train_run", "train"),
    "TrainCallbacks": ("fast.train_run", "TrainCallbacks"),
    "transfer": ("fast.transfer_run", "transfer"),
    "export": ("fast.export_run", "export"),
    "StylizeSettings": ("settings", "StylizeSettings"),
    "StylizeOutputs": ("settings", "StylizeOutputs"),
    "DenoiseSettings": ("settings", "DenoiseSettings"),
    "RestoreSettings": ("settings", "RestoreSettings"),
    "TrainSettings": ("settings", "TrainSettings"),
    "TrainOutputs": ("settings", "TrainOutputs"),
    "TransferSettings": ("settings", "TransferSettings"),
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
