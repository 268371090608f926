"""Training checkpoints: the schema, the file format, its version check, and the file-naming rules.

A checkpoint is a ``torch.save`` of one dict, read back with ``weights_only=True``:
``{"format": "neural-style-checkpoint", "version": 1, **CheckpointState.as_dict()}``, its keys
those of :class:`CheckpointState` (which documents each one), in that order. This module owns the
schema: the trainer builds its state with :class:`CheckpointState` and reads it back with
:func:`read_checkpoint`.

Every ``checkpoint_every`` steps ``train`` writes ``step-NNNNNN.ckpt``, a copy named
``last.ckpt`` and a sample image ``step-NNNNNN.jpg``, all atomically, into the checkpoint
folder (by default ``<output stem>-checkpoints/`` beside the model file); at the last step
it writes a checkpoint (and ``last.ckpt``) too.
"""

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Union

from .. import signals
from ..core.torchfile import load_torch_file
from ..errors import InputError, Message, NeuralStyleError, setting
from ..io.atomic import atomic_torch_save, atomic_write

FORMAT = "neural-style-checkpoint"
VERSION = 1
LAST = "last.ckpt"
#: Settings whose change on resume does not make a run differ from an uninterrupted one.
RUN_LENGTH_SETTINGS = ("iterations", "epochs", "checkpoint_every", "log_every", "keep_checkpoints")
#: Settings that name a file: the same file under another spelling of its path is no change.
PATH_SETTINGS = ("weights",)
_ADVICE = "pass a .ckpt written by neural-style train"


@dataclass
class CheckpointState:
    """Everything a checkpoint holds besides its format and version: the keys of the file's dict.

    A resumed run restores all of it and ends with the weights of an uninterrupted one.
    Checkpoints of earlier releases lack some keys; a reader takes them as noted.

    Attributes:
        config: the :class:`~neural_style.settings.TrainSettings` fields (``dataclasses.asdict``); of
            earlier releases, without ``antialias`` (read: False) or ``ema_decay``, or with ``amp`` (a bool)
            instead of ``precision`` (read as ``"fp16"`` or ``"fp32"``).
        net: the transform network's state dict.
        optimizer: Adam's state dict.
        scaler: the ``torch.amp.GradScaler`` state dict (precision fp16 on a GPU), else None.
        step: the steps done (int >= 0).
        position: ``[epoch, batch within the epoch]`` of the next batch.
        skipped: the unreadable dataset files skipped so far (paths, sorted).
        style_sha256: SHA-256 of the style image file (hex), or None for a style not given as a file.
        world_size: the processes that trained (torchrun; 1 without).
        rng: the CPU RNG state (``torch.get_rng_state()``); earlier releases: absent (not restored).
        dataset_files: the images found in the dataset (another count means another data order);
            earlier releases: absent (not compared).
        net_average: the state dict of the moving average of the weights (``ema_decay``), or None;
            earlier releases: absent (the average then starts from ``net``).
        cuda_rng: the CUDA RNG state of the run's device, or None on a CPU; earlier releases: absent.
    """

    config: Dict[str, Any]
    net: Mapping[str, Any]
    optimizer: Mapping[str, Any]
    scaler: Optional[Mapping[str, Any]]
    step: int
    position: List[int]
    skipped: List[str]
    style_sha256: Optional[str]
    world_size: int
    rng: Any
    dataset_files: int
    net_average: Optional[Mapping[str, Any]]
    cuda_rng: Any

    def as_dict(self) -> Dict[str, Any]:
        """The checkpoint's dict without format and version, in field order (no copies of the tensors)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def checkpoint_name(step: int) -> str:
    """``step-NNNNNN.ckpt``."""
    return f"step-{step:06d}.ckpt"


def preview_name(step: int) -> str:
    """``step-NNNNNN.jpg``: the sample image written with each checkpoint."""
    return f"step-{step:06d}.jpg"


def default_checkpoint_dir(model_path) -> Path:
    """``<model stem>-checkpoints/`` beside the model file."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.stem + "-checkpoints")


def write_checkpoint(path, state: Union[CheckpointState, Mapping[str, Any]]) -> Path:
    """Write ``state`` (a :class:`CheckpointState` or its dict, without format and version, which are
    added) to ``path`` atomically."""
    if isinstance(state, CheckpointState):
        state = state.as_dict()
    payload = {"format": FORMAT, "version": VERSION, **state}
    return atomic_torch_save(path, payload)


class CheckpointWriteError(NeuralStyleError):
    """A checkpoint could not be written (no space, permissions); the earlier ones are intact."""


def save_checkpoint(folder, state: Union[CheckpointState, Mapping[str, Any]], step: int) -> Path:
    """Write ``step-NNNNNN.ckpt`` into ``folder`` and copy it to ``last.ckpt``; returns the step file.

    Raises:
        CheckpointWriteError: either file could not be written (``last.ckpt`` then still names the
            previous complete checkpoint).
    """
    folder = Path(folder)
    try:
        with signals.deferred():  # Ctrl-C or SIGTERM waits until both files are complete
            path = write_checkpoint(folder / checkpoint_name(step), state)
            atomic_write(folder / LAST, lambda tmp: Path(tmp).write_bytes(path.read_bytes()))
    except NeuralStyleError as exc:
        raise CheckpointWriteError(str(exc)) from exc
    return path


def prune_checkpoints(folder, keep: int) -> List[Path]:
    """Delete all but the newest ``keep`` ``step-NNNNNN.ckpt`` files of ``folder`` (0: keep all),
    each with its preview ``step-NNNNNN.jpg``; ``last.ckpt`` stays. Returns the files deleted."""
    if keep <= 0:
        return []
    steps = sorted(Path(folder).glob("step-*.ckpt"))  # zero-padded: name order is step order
    old = [path for step in steps[:-keep] for path in (step, step.with_suffix(".jpg")) if path.exists()]
    for path in old:
        path.unlink(missing_ok=True)
    return old


def read_checkpoint(path) -> Dict[str, Any]:
    """Read and check a checkpoint: its dict, with the keys of :class:`CheckpointState` (of a checkpoint
    of an earlier release, some absent: see there) and ``format`` and ``version``.

    Raises:
        InputError: an unreadable or foreign file, or a version newer than :data:`VERSION`.
    """
    path = Path(path)
    state = load_torch_file(path, f"checkpoint '{path}'", _ADVICE)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise InputError(f"'{path}' is not a neural-style checkpoint: {_ADVICE}")
    version = state.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InputError(f"checkpoint '{path}' has an invalid version {version!r}, expected {VERSION}: {_ADVICE}")
    if version > VERSION:
        raise InputError(f"checkpoint '{path}' has version {version}, newer than this neural-style reads "
                         f"({VERSION}): upgrade neural-style")
    config = state.get("config")
    if isinstance(config, dict) and "amp" in config and "precision" not in config:  # before `precision` existed
        state["config"] = {**{k: v for k, v in config.items() if k != "amp"},
                           "precision": "fp16" if config["amp"] else "fp32"}
    return state


def settings_changes(state: Mapping[str, Any], settings: Mapping[str, Any], *,
                     style_sha256: Optional[str], world_size: int, dataset_files: Optional[int] = None) -> List[str]:
    """What differs between a checkpoint and the run resuming it, as ``"name: old -> new"``
    (the run length and the logging cadence are not counted; each a :class:`~neural_style.errors.Message`
    naming its setting)."""
    changed = [Message(f"{setting(k)}: {v} -> {settings[k]}") for k, v in state["config"].items()
               if k not in RUN_LENGTH_SETTINGS and k in settings and not _same_setting(k, v, settings[k])]
    if state.get("style_sha256") and style_sha256 and state["style_sha256"] != style_sha256:
        changed.append("style image: a different file than the checkpoint's")
    if dataset_files is not None and state.get("dataset_files", dataset_files) != dataset_files:
        changed.append(f"dataset: {state['dataset_files']} -> {dataset_files} files (another data order)")
    if state.get("world_size", world_size) != world_size:
        changed.append(f"processes: {state['world_size']} -> {world_size} (another data split)")
    return changed


def _same_setting(name: str, old: Any, new: Any) -> bool:
    """``old == new``, or for a :data:`PATH_SETTINGS` entry, two paths to the same file
    (``../shared/w.pth`` and ``/work/shared/w.pth``)."""
    if old == new:
        return True
    if name not in PATH_SETTINGS or not (isinstance(old, str) and isinstance(new, str)):
        return False
    try:
        return os.path.samefile(old, new)
    except OSError:  # the checkpoint's file is gone or moved: compare the spellings
        return os.path.realpath(old) == os.path.realpath(new)
