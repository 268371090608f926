"""Finding, downloading and checking VGG weights.

A weights source is one of:

* ``"torchvision"``: torchvision's ``IMAGENET1K_V1`` weights, downloaded once into
  the torch hub cache (``torch.hub.get_dir()/checkpoints``) with their SHA-256
  prefix checked;
* a path to a local state dict: a full torchvision VGG state dict
  (``features.*`` and ``classifier.*`` keys), only its ``features.*`` keys, or
  the keys of ``vgg.features`` without the prefix.

``None`` means the ``NEURAL_STYLE_WEIGHTS`` environment variable when it is set,
else ``"torchvision"``. Files are loaded with ``weights_only=True`` and checked key
by key and shape by shape against the architecture: a mismatch is an error, never
a silent partial load.
"""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Union

import torch

from ..errors import DownloadError, WeightsError, one_line, setting
from .choices import WEIGHTS_FORMATS  # noqa: F401  (re-exported: the accepted weights formats)
from .files import require_exists
from .torchfile import load_torch_file

ENV_VAR = "NEURAL_STYLE_WEIGHTS"

#: Convolution widths of each block, as in torchvision's VGG configurations D and E.
VGG_BLOCKS = {
    "vgg16": ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512)),
    "vgg19": ((64, 64), (128, 128), (256,) * 4, (512,) * 4, (512,) * 4),
}
MODELS = tuple(VGG_BLOCKS)


@dataclass
class LoadedWeights:
    """Convolution weights of a VGG ``features`` stack.

    Attributes:
        state: ``{"<index>.weight" | "<index>.bias": tensor}`` keyed as in
            ``torchvision.models.vgg19().features``.
        model: ``"vgg16"`` or ``"vgg19"``.
        source: the file path or URL the weights came from.
    """

    state: Dict[str, "object"]
    model: str
    source: str


def features_keys(model: str) -> Dict[str, tuple]:
    """Expected ``features`` keys of ``model`` and their shapes, in layer order."""
    keys, index, channels = {}, 0, 3
    for block in VGG_BLOCKS[model]:
        for width in block:
            keys[f"{index}.weight"] = (width, channels, 3, 3)
            keys[f"{index}.bias"] = (width,)
            channels, index = width, index + 2  # conv, relu
        index += 1  # pool
    return keys


def torchvision_url(model: str) -> str:
    """URL of torchvision's ImageNet weights for ``model``."""
    from torchvision.models import VGG16_Weights, VGG19_Weights  # here: torchvision's import costs ~1.4 s

    return {"vgg16": VGG16_Weights, "vgg19": VGG19_Weights}[model].IMAGENET1K_V1.url


def cache_path(url: str) -> Path:
    """Where ``torch.hub`` keeps the file downloaded from ``url``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(url)


def load_weights(weights: Optional[Union[str, os.PathLike]] = None, model: Optional[str] = None,
                 *, progress: bool = True) -> LoadedWeights:
    """Load VGG ``features`` weights, checking them against the architecture.

    Args:
        weights: ``"torchvision"``, a path to a state dict, or ``None`` for
            ``$NEURAL_STYLE_WEIGHTS`` or else ``"torchvision"``.
        model: ``"vgg16"`` or ``"vgg19"``; ``None`` takes it from the file (by its
            number of convolutions), or ``"vgg19"`` for torchvision weights.
        progress: show a download progress bar (on stderr).

    Returns:
        The checked weights.

    Raises:
        WeightsError: a missing, unreadable, foreign or mismatched file.
        DownloadError: torchvision weights neither cached nor downloadable.
    """
    if model is not None and model not in VGG_BLOCKS:
        raise WeightsError(f"unknown model {model!r}: expected one of {', '.join(MODELS)}")
    from_environment = weights is None and bool(os.environ.get(ENV_VAR))
    if weights is None:
        weights = os.environ.get(ENV_VAR) or "torchvision"
    if str(weights) == "torchvision":
        model = model or "vgg19"
        url = torchvision_url(model)
        path = _download(url, model, progress)
        return LoadedWeights(_check(_read(path), model, str(path)), model, url)
    path = Path(weights).expanduser()
    state = _strip(_read(path, f"check the path (it is ${ENV_VAR}'s; unset it for torchvision's)" if from_environment
                         else "check the path"), path)
    found = _model_of(state)
    if found is None:
        raise WeightsError(f"weights '{path}' are not VGG16 or VGG19 features "
                           f"(found {_count_convs(state)} convolutions): pass a torchvision VGG state dict")
    if model is not None and found != model:
        raise WeightsError(f"weights '{path}' are for {found} ({_count_convs(state)} convolutions), "
                           f"not {model}: pass {setting('model')} {found} or other weights")
    return LoadedWeights(_check(state, found, str(path)), found, str(path))


def _download(url: str, model: str, progress: bool) -> Path:
    path = cache_path(url)
    if path.is_file():
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        hash_prefix = os.path.basename(url).rsplit("-", 1)[-1].split(".")[0]
        torch.hub.download_url_to_file(url, str(path), hash_prefix=hash_prefix, progress=progress)
    except Exception as exc:  # URLError, timeouts, hash mismatch, no space left
        reason = one_line(exc)
        raise DownloadError(f"could not download {model} weights from {url} ({reason}): put that file at {path}, "
                            f"or pass {setting('weights')} PATH or set ${ENV_VAR}=PATH (a VGG16 or VGG19 state "
                            "dict; VGG16 works too)") from exc
    return path


def _read(path: Path, advice: str = "check the path") -> dict:
    require_exists(path, f"weights file '{path}'", advice, error=WeightsError)
    if path.is_dir():
        raise WeightsError(f"weights '{path}' is a directory: pass the .pth file inside it")
    if path.stat().st_size == 0:
        raise WeightsError(f"weights file '{path}' is empty (0 bytes): download or copy it again")
    state = load_torch_file(path, f"weights '{path}'", "pass a plain state dict saved with "
                            "torch.save(model.state_dict())", error=WeightsError)
    if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
        raise WeightsError(f"weights '{path}' hold a {type(state).__name__}, not a state dict: "
                           "pass a file saved with torch.save(model.state_dict())")
    return state


def _strip(state: dict, path: Path) -> dict:
    """Keep the ``features`` keys (without prefix); refuse anything but ``classifier.*`` beside them."""
    if any(k.startswith("features.") for k in state):
        stray = [k for k in state if not k.startswith(("features.", "classifier."))]
        if stray:
            raise WeightsError(f"weights '{path}' have keys of no VGG ({stray[0]!r}, ...): "
                               "pass a torchvision VGG state dict")
        return {k[len("features."):]: v for k, v in state.items() if k.startswith("features.")}
    return dict(state)


def _count_convs(state: dict) -> int:
    return sum(1 for k, v in state.items() if k.endswith(".weight") and getattr(v, "ndim", 0) == 4)


def _model_of(state: dict) -> Optional[str]:
    convs = _count_convs(state)
    return next((m for m in VGG_BLOCKS if len(features_keys(m)) == 2 * convs), None)


def _check(state: dict, model: str, source: str) -> dict:
    """Every expected key with its exact shape, and nothing else."""
    expected = features_keys(model)
    state = {k[len("features."):] if k.startswith("features.") else k: v
             for k, v in state.items() if not k.startswith("classifier.")}
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        what = f"missing {missing[0]!r}" if missing else f"unexpected {unexpected[0]!r}"
        raise WeightsError(f"weights '{source}' do not match {model} features ({what}): "
                           "pass a torchvision VGG state dict")
    for key, shape in expected.items():
        got = tuple(getattr(state[key], "shape", ()))
        if got != shape:
            raise WeightsError(f"weights '{source}' do not match {model}: {key} has shape "
                               f"{got}, expected {shape}")
        if not torch.is_tensor(state[key]) or not state[key].is_floating_point():
            raise WeightsError(f"weights '{source}' hold {key} as {type(state[key]).__name__}, not floating-point "
                               "values: pass a torchvision VGG state dict")
        if not torch.isfinite(state[key]).all():
            raise WeightsError(f"weights '{source}' hold NaN or infinite values in {key}: the file is damaged: "
                               "download or copy it again")
    return {k: state[k].float() for k in expected}
