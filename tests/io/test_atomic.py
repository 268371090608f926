"""Tests for neural_style.io.atomic: atomic writes leave the old file or the new one, never a part."""

import errno
import os
from pathlib import Path

import pytest
from PIL import Image

from neural_style.errors import NeuralStyleError
from neural_style.io import atomic
from neural_style.io.atomic import atomic_write
from neural_style.io.encode import write_image

from .imagetools import assert_one_line_error, smooth_image


def test_permission_denied_while_writing(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(atomic, "_create_temporary", refuse)
    with pytest.raises(NeuralStyleError) as excinfo:
        write_image(tmp_path / "out.png", smooth_image())
    assert_one_line_error(excinfo, NeuralStyleError, "could not write", "out.png", "Permission denied")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_read_only_directory(tmp_path):
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(NeuralStyleError, match="could not write"):
            write_image(tmp_path / "out.png", smooth_image())
    finally:
        tmp_path.chmod(0o700)


def test_creates_parent_directories_and_leaves_no_temporary_files(tmp_path):
    path = write_image(tmp_path / "a" / "b" / "out.png", smooth_image())
    assert path.is_file() and os.listdir(path.parent) == ["out.png"]
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_failed_write_leaves_existing_output_untouched(tmp_path, monkeypatch):
    out = tmp_path / "out.png"
    out.write_bytes(b"previous result")

    def broken_save(self, fp, *args, **kwargs):
        Path(fp).write_bytes(b"partial")
        raise RuntimeError("encoder crashed")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(RuntimeError, match="encoder crashed"):
        write_image(out, smooth_image())
    assert out.read_bytes() == b"previous result"
    assert os.listdir(tmp_path) == ["out.png"]


def test_os_error_while_writing_becomes_neural_style_error(tmp_path, monkeypatch):
    out = tmp_path / "out.png"
    out.write_bytes(b"previous result")

    def disk_full(source, target):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(NeuralStyleError) as excinfo:
        write_image(out, smooth_image(), bit_depth=16)
    assert_one_line_error(excinfo, NeuralStyleError, "could not write", "out.png", "No space left")
    assert out.read_bytes() == b"previous result"
    assert os.listdir(tmp_path) == ["out.png"]


def test_atomic_write_helper(tmp_path):
    seen = []

    def writer(temporary):
        seen.append(temporary)
        assert temporary.parent == tmp_path and temporary.name.startswith(".report.json.")
        temporary.write_text("{}")

    assert atomic_write(tmp_path / "report.json", writer) == tmp_path / "report.json"
    assert (tmp_path / "report.json").read_text() == "{}" and not seen[0].exists()
    assert os.listdir(tmp_path) == ["report.json"]
