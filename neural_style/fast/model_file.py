"""Model files of trained :class:`~neural_style.transformer.TransformerNet` networks.

A model file is a ``torch.save`` of one dict::

    {"format": "neural-style-transformer", "version": 1,
     "config": {"width": 1.0, "residual_blocks": 5, "antialias": false},
     "state_dict": {name: tensor, ...},
     "metadata": {...}}

``metadata`` holds plain JSON values (style image sha256, settings, steps...) chosen by the
caller. The networks published by pytorch/examples ``fast_neural_style`` (a bare state dict
of their layout) are read too, converted exactly (:mod:`.examples_model`); their metadata
is ``{"source": "pytorch/examples fast_neural_style"}``. Files of versions before
``antialias`` existed have no such key: they are read as ``antialias=False`` (the network
they were trained as); ``output`` is there only for a clamped network. Files are written atomically and read
with ``weights_only=True``, so a model file cannot run code; the state dict is loaded strictly
and must match the config exactly.
"""

import json
import os
from pathlib import Path
from typing import Mapping, Optional, Tuple, Union

import torch

from ..core.files import require_file
from ..core.torchfile import load_torch_file
from ..errors import InputError, one_line, setting
from ..io.atomic import atomic_torch_save
from .checkpoints import FORMAT as CHECKPOINT_FORMAT
from .examples_model import SOURCE, convert_examples_state_dict, is_examples_state_dict
from .transformer import TransformerNet, parameter_count

FORMAT = "neural-style-transformer"
VERSION = 1
_CONFIG_KEYS = ("width", "residual_blocks")
_OPTIONAL_KEYS = ("antialias", "output")  # absent in files written before it existed, or of the default
_ADVICE = "pass a file written by `neural-style train`"


def save_model(path, model: TransformerNet, metadata: Mapping) -> Path:
    """Write ``model`` and ``metadata`` to ``path`` atomically (an existing file is replaced
    only once the new one is complete).

    Args:
        path: the file to write, usually ``*.pth``; missing folders are created.
        model: the network; its weights are saved as float CPU tensors.
        metadata: a dict of JSON values with string keys. It is stored as it reads back
            from JSON (tuples become lists), so :func:`load_model` returns exactly that.

    Returns:
        ``path`` as a Path.

    Raises:
        TypeError: ``model`` is not a TransformerNet or ``metadata`` not a mapping.
        ValueError: ``metadata`` is not JSON-serialisable (including NaN and infinity).
        NeuralStyleError: the file could not be written.
    """
    if not isinstance(model, TransformerNet):
        raise TypeError(f"expected a TransformerNet, got {type(model).__name__}")
    if not isinstance(metadata, Mapping):
        raise TypeError(f"expected metadata as a dict of JSON values, got {type(metadata).__name__}")
    bad_keys = [k for k in metadata if not isinstance(k, str)]
    if bad_keys:
        raise ValueError(f"expected metadata with string keys, got key {bad_keys[0]!r}")
    try:
        plain = json.loads(json.dumps(dict(metadata), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"expected metadata of plain JSON values (str, finite number, bool, None, list, "
                         f"dict), got one that is not ({exc})") from exc
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "config": model.config,
        "state_dict": {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()},
        "metadata": plain,
    }
    return atomic_torch_save(path, payload)


def load_model(path, *, device: Optional[Union[str, torch.device]] = None) -> Tuple[TransformerNet, dict]:
    """Read a model file written by :func:`save_model`, or a network of pytorch/examples (see the module).

    Args:
        path: the model file.
        device: where to put the network (default: CPU).

    Returns:
        ``(model, metadata)``: the network in eval mode on ``device`` and the metadata dict.

    Raises:
        InputError: a missing, unreadable, corrupt or foreign file, an unknown format or
            version, or weights that do not match the config; the message is one line that
            names the file.
    """
    path = Path(path)
    payload = _read(path)
    not_model = f"'{path}' is not a neural-style model file"
    if not isinstance(payload, dict):
        raise InputError(f"{not_model} (it holds a {type(payload).__name__}, not a dict): {_ADVICE}")
    if "format" not in payload and is_examples_state_dict(payload):
        return _from_examples(path, payload, device)
    if "format" not in payload:
        looks = " and looks like a bare state dict" if payload and all(
            isinstance(v, torch.Tensor) for v in payload.values()) else ""
        raise InputError(f"{not_model} (it has no 'format' key{looks}): {_ADVICE}")
    if payload["format"] == CHECKPOINT_FORMAT:
        raise InputError(f"'{path}' is a training checkpoint, not a model: pass the model file (.pth) written by "
                         f"`neural-style train`, or continue training with {setting('resume')}")
    if payload["format"] != FORMAT:
        raise InputError(f"{not_model} (its format is {_short(payload['format'])}, expected {FORMAT!r}): {_ADVICE}")
    version = payload.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InputError(f"model file '{path}' has an invalid version {_short(version)}, expected {VERSION}: "
                         f"{_ADVICE}")
    if version > VERSION:
        raise InputError(f"model file '{path}' has version {version}, newer than this neural-style reads "
                         f"({VERSION}): upgrade neural-style or retrain the model")
    missing = [k for k in ("config", "state_dict", "metadata") if k not in payload]
    if missing:
        raise InputError(f"model file '{path}' is incomplete (no {missing[0]!r} key): {_ADVICE}")
    model = _build(path, payload["config"])
    _load_state(path, model, payload["state_dict"])
    metadata = payload["metadata"]
    if not isinstance(metadata, dict):
        raise InputError(f"model file '{path}' has metadata of type {type(metadata).__name__}, expected a dict: "
                         f"{_ADVICE}")
    return model.to(device if device is not None else "cpu").eval(), metadata


def _from_examples(path: Path, payload: dict, device) -> Tuple[TransformerNet, dict]:
    """A pytorch/examples network (a bare state dict of their layout), converted exactly."""
    config, state, problem = convert_examples_state_dict(payload)
    if problem is not None:
        raise InputError(f"model file '{path}' looks like a {SOURCE} network but {problem}: pass one of their "
                         f"four published networks unchanged, or a file written by `neural-style train`")
    model = _build(path, config)
    _load_state(path, model, state)
    return model.to(device if device is not None else "cpu").eval(), {"source": SOURCE}


#: Files ``export`` writes, which only their runtimes read.
_EXPORTED = {".pt2": "torch.export", ".onnx": "ONNX"}


def _read(path: Path):
    if path.suffix.lower() in _EXPORTED:
        raise InputError(f"'{path}' is an exported network ({_EXPORTED[path.suffix.lower()]}), which only its runtime "
                         f"runs: pass the model file (.pth) it was exported from")
    require_file(path, f"model file '{path}'", advice="check the path, or train one with `neural-style train`",
                 directory="pass the .pth file written by `neural-style train`")
    try:
        empty = os.path.getsize(path) == 0
    except OSError:
        empty = False  # load_torch_file says why it cannot be read
    if empty:
        raise InputError(f"model file '{path}' is empty (0 bytes): {_ADVICE}")
    return load_torch_file(path, f"model file '{path}'", _ADVICE)


#: The weights a model config may ask for before the network is built (width 16 is 430 M parameters, 1.7 GB).
_LARGEST_MODEL_BYTES = 2**31


def _build(path: Path, config) -> TransformerNet:
    if not isinstance(config, dict) or not set(_CONFIG_KEYS) <= set(config) <= {*_CONFIG_KEYS, *_OPTIONAL_KEYS}:
        got = sorted(map(str, config)) if isinstance(config, dict) else type(config).__name__
        raise InputError(f"model file '{path}' has an invalid config (expected keys {list(_CONFIG_KEYS)} and "
                         f"optionally {list(_OPTIONAL_KEYS)}, "
                         f"got {got}): {_ADVICE}")
    try:
        need = 4 * parameter_count(float(config["width"]), int(config["residual_blocks"]))
    except (TypeError, ValueError, OverflowError) as exc:
        raise InputError(f"model file '{path}' has an invalid config ({exc}): {_ADVICE}") from exc
    if need > _LARGEST_MODEL_BYTES:  # the file's weights could never be that large: a damaged config
        raise InputError(f"model file '{path}' has a config for {need / 2**30:.3g} GiB of weights (width "
                         f"{config['width']}): it is damaged: {_ADVICE}")
    try:
        return TransformerNet(**config)
    except InputError as exc:
        raise InputError(f"model file '{path}' has an invalid config ({exc}): {_ADVICE}") from exc


def _load_state(path: Path, model: TransformerNet, state) -> None:
    expected = model.state_dict()
    mismatch = None
    if not isinstance(state, dict):
        mismatch = f"the state dict is a {type(state).__name__}"
    else:
        missing = [k for k in expected if k not in state]
        unexpected = [k for k in state if k not in expected]
        if missing:
            mismatch = f"{len(missing)} missing keys, e.g. {missing[0]!r}"
        elif unexpected:
            mismatch = f"{len(unexpected)} unexpected keys, e.g. {_short(unexpected[0])}"
        else:
            for key, value in expected.items():
                got = state[key]
                if not isinstance(got, torch.Tensor) or not got.is_floating_point():
                    mismatch = f"{key} is a {type(got).__name__ if not isinstance(got, torch.Tensor) else got.dtype}"
                elif got.shape != value.shape:
                    mismatch = f"{key} has shape {tuple(got.shape)}, expected {tuple(value.shape)}"
                elif not torch.isfinite(got).all():
                    mismatch = f"{key} holds NaN or infinite values (did training diverge?)"
                if mismatch:
                    break
    if mismatch is not None:
        raise _mismatch(path, model, mismatch)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:  # pragma: no cover - the checks above should catch everything
        raise _mismatch(path, model, one_line(exc, 160, whole=True)) from exc


def _mismatch(path: Path, model: TransformerNet, what: str) -> InputError:
    return InputError(f"model file '{path}' has weights that do not match its config {model.config} "
                      f"({what}): train it again with `neural-style train`")


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
