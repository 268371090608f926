"""Checkpoint files: names, format and version checks, the step file and its last.ckpt copy."""

from pathlib import Path

import pytest
import torch

from neural_style.errors import InputError
from neural_style.fast import checkpoints
from neural_style.fast.checkpoints import (
    FORMAT,
    LAST,
    VERSION,
    checkpoint_name,
    default_checkpoint_dir,
    preview_name,
    read_checkpoint,
    save_checkpoint,
    settings_changes,
    write_checkpoint,
)


def test_names():
    assert checkpoint_name(42) == "step-000042.ckpt" and preview_name(42) == "step-000042.jpg"
    assert LAST == "last.ckpt"
    assert default_checkpoint_dir(Path("out/starry.pth")) == Path("out/starry-checkpoints")


def test_save_writes_the_step_file_and_an_identical_last(tmp_path):
    state = {"config": {"width": 1.0}, "step": 7, "net": {"w": torch.arange(3.0)}}
    path = save_checkpoint(tmp_path / "ckpts", state, 7)
    assert path == tmp_path / "ckpts" / "step-000007.ckpt"
    assert (tmp_path / "ckpts" / LAST).read_bytes() == path.read_bytes()
    loaded = read_checkpoint(path)
    assert (loaded["format"], loaded["version"], loaded["step"]) == (FORMAT, VERSION, 7)
    assert torch.equal(loaded["net"]["w"], torch.arange(3.0))


@pytest.mark.parametrize("payload, message", [
    ({"format": FORMAT, "version": VERSION + 1}, f"has version {VERSION + 1}, newer than this neural-style reads"),
    ({"format": FORMAT, "version": "1"}, "invalid version '1'"),
    ({"format": FORMAT, "version": True}, "invalid version True"),
    ({"format": FORMAT}, "invalid version None"),
    ({"format": "neural-style-transformer", "version": 1}, "is not a neural-style checkpoint"),
    ([1, 2, 3], "is not a neural-style checkpoint"),
])
def test_read_refuses_foreign_files_and_other_versions(tmp_path, payload, message):
    path = tmp_path / "x.ckpt"
    torch.save(payload, path)
    with pytest.raises(InputError, match=message):
        read_checkpoint(path)


def test_read_refuses_an_unreadable_file_keeping_the_cause(tmp_path):
    path = tmp_path / "broken.ckpt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="is not a PyTorch file .or is corrupt.: pass a .ckpt") as excinfo:
        read_checkpoint(path)
    assert excinfo.value.__cause__ is not None and "\n" not in str(excinfo.value)


def test_write_adds_format_and_version(tmp_path):
    write_checkpoint(tmp_path / "a.ckpt", {"step": 1})
    assert torch.load(tmp_path / "a.ckpt", weights_only=True) == {"format": FORMAT, "version": VERSION, "step": 1}


def test_settings_changes_ignore_the_run_length():
    state = {"config": {"lr": 1e-3, "iterations": 10, "epochs": None, "checkpoint_every": 5, "log_every": 1},
             "style_sha256": "a", "world_size": 2}
    now = {"lr": 2e-3, "iterations": 99, "epochs": 3, "checkpoint_every": 1, "log_every": 7}
    assert settings_changes(state, now, style_sha256="b", world_size=1) == [
        "lr: 0.001 -> 0.002", "style image: a different file than the checkpoint's",
        "processes: 2 -> 1 (another data split)"]
    assert settings_changes(state, {**now, "lr": 1e-3}, style_sha256="a", world_size=2) == []
    assert set(checkpoints.RUN_LENGTH_SETTINGS) == {"iterations", "epochs", "checkpoint_every", "log_every",
                                                  "keep_checkpoints"}


def test_settings_changes_count_a_weights_file_by_what_it_names(tmp_path, monkeypatch):
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "vgg.pth").write_bytes(b"x")
    (tmp_path / "other.pth").write_bytes(b"y")
    monkeypatch.chdir(tmp_path / "w")
    state = {"config": {"weights": str(tmp_path / "w" / "vgg.pth")}}
    assert settings_changes(state, {"weights": "../w/vgg.pth"}, style_sha256=None, world_size=1) == []
    assert settings_changes(state, {"weights": "../other.pth"}, style_sha256=None, world_size=1) == [
        f"weights: {tmp_path / 'w' / 'vgg.pth'} -> ../other.pth"]
    gone = {"config": {"weights": str(tmp_path / "gone.pth")}}
    assert settings_changes(gone, {"weights": "../gone.pth"}, style_sha256=None, world_size=1) == []
    assert settings_changes(gone, {"weights": "vgg.pth"}, style_sha256=None, world_size=1) != []


def test_the_checkpoint_schema_is_owned_and_documented_by_checkpoint_state(tmp_path):
    """Every key a trainer writes is a CheckpointState field, in its order, and its docstring names each."""
    import dataclasses

    from neural_style.fast.checkpoints import CheckpointState

    names = [f.name for f in dataclasses.fields(CheckpointState)]
    assert names == ["config", "net", "optimizer", "scaler", "step", "position", "skipped", "style_sha256",
                     "world_size", "rng", "dataset_files", "net_average", "cuda_rng"]  # version 1's order
    for name in names:
        assert f"\n        {name}: " in CheckpointState.__doc__, name
    state = CheckpointState(**{name: index for index, name in enumerate(names)})
    write_checkpoint(tmp_path / "a.ckpt", state)
    assert list(read_checkpoint(tmp_path / "a.ckpt")) == ["format", "version", *names]
    assert read_checkpoint(tmp_path / "a.ckpt")["step"] == names.index("step")
