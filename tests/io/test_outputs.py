"""Tests for neural_style.io.outputs: the output-path policy, checked before any work."""

import os
from pathlib import Path

import pytest

from neural_style.errors import InputError, NeuralStyleError
from neural_style.io.atomic import atomic_write
from neural_style.io.encode import write_image
from neural_style.io.outputs import OUTPUT_EXTENSIONS, check_output_path

from .imagetools import assert_one_line_error, smooth_image

# ---------------------------------------------------------------- output paths and atomic writes


@pytest.mark.parametrize("name", ["out.bmp", "out"])
def test_unsupported_output_extension(tmp_path, name):
    with pytest.raises(InputError) as excinfo:
        write_image(tmp_path / name, smooth_image())
    assert_one_line_error(excinfo, InputError, name, ".png, .jpg")
    assert not (tmp_path / name).exists()


def test_output_extension_is_case_insensitive(tmp_path):
    assert check_output_path(tmp_path / "OUT.PNG") == tmp_path / "OUT.PNG"


def test_refuse_to_overwrite_input(tmp_path, rgb_png, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for output in (rgb_png, "rgb.png", "./sub/../rgb.png"):
        with pytest.raises(InputError) as excinfo:
            check_output_path(output, inputs=[None, str(rgb_png)])
        assert_one_line_error(excinfo, InputError, "refusing to overwrite input", "rgb.png")
    link = tmp_path / "link.png"
    link.symlink_to(rgb_png)
    with pytest.raises(InputError, match="refusing"):
        check_output_path(link, inputs=[rgb_png])
    assert check_output_path("other.png", inputs=[rgb_png, "missing.png"]) == Path("other.png")


@pytest.mark.parametrize("what, make", [
    ("output", lambda blocker: blocker / "out.png"),
    ("output", lambda blocker: blocker / "a" / "b" / "out.png"),
    ("report", lambda blocker: blocker / "r.json"),
])
def test_output_under_a_file_is_refused_before_any_work(tmp_path, what, make):
    blocker = tmp_path / "existing.png"
    blocker.write_bytes(b"x")
    path = make(blocker)
    with pytest.raises(InputError) as excinfo:
        check_output_path(path, extensions=(".json",) if what == "report" else OUTPUT_EXTENSIONS, what=what)
    assert_one_line_error(excinfo, InputError, f"cannot write {what} '{path}'",
                          f"'{blocker}' is a file, not a folder", "choose another output folder")
    assert blocker.read_bytes() == b"x" and list(tmp_path.iterdir()) == [blocker]


def test_output_in_an_unwritable_folder_is_refused(tmp_path, monkeypatch):
    calls = []

    def access(path, mode):
        calls.append((Path(path), mode))
        return False

    monkeypatch.setattr(os, "access", access)
    path = tmp_path / "new" / "deeper" / "out.png"  # not there yet: the nearest existing folder counts
    with pytest.raises(InputError) as excinfo:
        check_output_path(path)
    assert_one_line_error(excinfo, InputError, f"cannot write output '{path}'",
                          f"folder '{tmp_path}' is not writable")
    assert calls and calls[0][0] == tmp_path and calls[0][1] & os.W_OK
    monkeypatch.undo()
    assert check_output_path(path) == path  # writable: accepted, nothing created yet
    assert not (tmp_path / "new").exists()


def test_output_path_relative_to_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert check_output_path("out.png") == Path("out.png")
    assert check_output_path(Path("sub") / "out.png") == Path("sub/out.png")


def test_output_is_directory(tmp_path):
    directory = tmp_path / "out.png"
    directory.mkdir()
    with pytest.raises(InputError) as excinfo:
        write_image(directory, smooth_image())
    assert_one_line_error(excinfo, InputError, "out.png", "directory")


def test_unwritable_location(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError) as excinfo:  # before any work: a usage error
        check_output_path(blocker / "out.png")
    assert_one_line_error(excinfo, InputError, "cannot write output", "out.png", "is a file, not a folder")
    assert excinfo.value.exit_code == 2
    with pytest.raises(NeuralStyleError) as excinfo:  # the writer's own check, after the work: the system's fault
        write_image(blocker / "out.png", smooth_image())
    assert_one_line_error(excinfo, NeuralStyleError, "cannot write output", "out.png", "is a file, not a folder")
    assert excinfo.value.exit_code == 1
    with pytest.raises(NeuralStyleError) as excinfo:  # atomic_write on its own still says why
        atomic_write(blocker / "out.png", lambda temporary: temporary.write_bytes(b""))
    assert_one_line_error(excinfo, NeuralStyleError, "could not write", "out.png", "is not a folder")
    assert excinfo.value.exit_code == 1


@pytest.mark.parametrize("extra", [0, 14])
def test_a_name_too_long_for_its_temporary_is_refused_before_any_work(tmp_path, extra):
    """A name within the limit whose temporary (``.NAME.nstmp-XXXXXXXX.ext``) is not: refused up front,
    naming the longest name that works (issue 27: the whole run was done, then the write failed)."""
    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    out = tmp_path / ("a" * (limit - 4 - extra) + ".png")  # a valid name, 0 or 14 bytes under the limit
    with pytest.raises(InputError, match=rf"its name is {limit - extra} bytes .* choose a name of at most "
                                         rf"{limit - 20} bytes"):
        check_output_path(out)
    ok = tmp_path / ("a" * (limit - 24) + ".png")
    assert check_output_path(ok) == ok
    write_image(ok, smooth_image())  # and its write goes through
    assert ok.is_file()
    with pytest.raises(InputError, match="the folder name 'bbbb"):
        check_output_path(tmp_path / ("b" * (limit + 1)) / "out.png")
