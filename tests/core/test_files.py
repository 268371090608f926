"""Tests for neural_style.core.files: the one existence check."""

import pytest

from neural_style.core.files import require_exists, require_file
from neural_style.errors import InputError, WeightsError


def test_a_missing_path_is_one_line_with_its_advice(tmp_path):
    missing = tmp_path / "a.png"
    with pytest.raises(InputError, match=r"^input 'x' does not exist: check the path$"):
        require_exists(missing, "input 'x'")
    with pytest.raises(WeightsError, match=r"^w does not exist: unset it$"):
        require_exists(missing, "w", "unset it", error=WeightsError)
    require_exists(tmp_path, "folder")  # a folder exists


def test_require_file_refuses_a_folder(tmp_path):
    with pytest.raises(InputError, match=r"^video 'v' is a directory: give the path of a video file$"):
        require_file(tmp_path, "video 'v'", "a video file")
    with pytest.raises(InputError, match=r"^m is a directory: pass the \.pth file$"):
        require_file(tmp_path, "m", directory="pass the .pth file")
    with pytest.raises(InputError, match=r"^m does not exist: train one$"):
        require_file(tmp_path / "m.pth", "m", advice="train one")
    (tmp_path / "a.png").touch()
    require_file(tmp_path / "a.png", "image")
