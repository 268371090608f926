"""The input planner: one input or several by the same rule everywhere, and batch planning in time
linear in the number of files (issue 27: 1000 files took 43 s, 10000 never finished)."""

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from neural_style.errors import InputError
from neural_style.io import outputs
from neural_style.io.inputs import as_list, plan_batch


def test_one_path_or_image_is_one_input_and_a_list_is_several(tmp_path):
    array, tensor, pil = np.zeros((2, 3)), torch.zeros(1, 3, 2, 2), Image.new("RGB", (2, 2))
    for one in ("/abs/photo.png", b"photo.png", tmp_path, array, tensor, pil):
        assert as_list(one) == [one] or as_list(one)[0] is one
        assert len(as_list(one)) == 1
    assert as_list(["a.png", "b.png"]) == ["a.png", "b.png"] and as_list(("a.png",)) == ["a.png"]
    assert as_list(p for p in ("a", "b")) == ["a", "b"]
    assert as_list(3) == [3]


def _files(folder: Path, count: int) -> Path:
    folder.mkdir()
    for index in range(count):
        (folder / f"img{index:05d}.png").touch()
    return folder


def test_planning_is_linear_in_the_number_of_files(tmp_path, monkeypatch):
    """File-system identity checks (os.stat) grow with N, not N^2: the cost of planning 10000 files is
    that of 10000 stats, not 10^8 path comparisons (benchmarks/batch_planning.py times it)."""
    calls = []
    real = os.stat
    monkeypatch.setattr(outputs.os, "stat", lambda *a, **k: calls.append(1) or real(*a, **k))
    counts = {}
    for n in (50, 200):
        calls.clear()
        pairs = plan_batch([_files(tmp_path / f"in{n}", n)], str(tmp_path / f"out{n}") + "/", (".png",),
                           lambda src: (".png",))
        assert len(pairs) == n
        counts[n] = len(calls)
    assert counts[200] <= 4.5 * counts[50]  # linear: 4x; quadratic: 16x


def test_an_output_that_is_an_input_is_still_refused_in_a_batch(tmp_path):
    folder = _files(tmp_path / "in", 3)
    (tmp_path / "out").mkdir()
    os.link(folder / "img00001.png", tmp_path / "out" / "img00001.png")  # another name of an input file
    with pytest.raises(InputError, match=r"refusing to overwrite input '.*img00001.png'"):
        plan_batch([folder], str(tmp_path / "out") + "/", (".png",), lambda src: (".png",))


def test_a_pipe_with_an_output_folder_asks_for_a_file_name(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"input '.*pipe' is a pipe, with no name for its output: give an output file"):
        plan_batch([fifo], str(tmp_path / "out") + "/", (".png",), lambda src: (".png",))
    assert plan_batch([fifo], str(tmp_path / "o.png"), (".png",), lambda src: (".png",)) == [(fifo, tmp_path / "o.png")]
