"""The memory plan: tiles only when the whole image does not fit, L-BFGS history by what is left."""

import pytest

from neural_style.core.objective import load_loss_network
from neural_style.core.tiling import geometry
from neural_style.errors import InputError, ResourceError
from neural_style.style_transfer import memory
from neural_style.style_transfer.memory import MAX_HISTORY, plan_memory


@pytest.fixture
def net(vgg16_file):
    return load_loss_network("relu4_2", "relu1_1,relu2_1,relu3_1,relu4_1,relu5_1", weights=vgg16_file).extractor


def plan(net, monkeypatch, free, content=(768, 1024), **kwargs):
    monkeypatch.setattr(memory, "available_memory", lambda device: free)
    return plan_memory(net, geometry(net.net), content, [(512, 512)], ["relu4_2"], "cpu", **kwargs)


def test_small_runs_are_untiled_with_the_full_history(net, monkeypatch):
    p = plan(net, monkeypatch, 64 * 2**30)
    assert (p.tile_size, p.lbfgs_history) == (0, MAX_HISTORY)


def test_auto_tiles_when_the_whole_image_does_not_fit(net, monkeypatch):
    whole = plan(net, monkeypatch, 64 * 2**30)
    p = plan(net, monkeypatch, whole.need_bytes * 0.5)
    assert p.tile_size > 0 and p.need_bytes <= whole.need_bytes * 0.5 * memory.HEADROOM
    smaller = plan(net, monkeypatch, whole.need_bytes * 0.3)
    assert 0 < smaller.tile_size <= p.tile_size or smaller.lbfgs_history < p.lbfgs_history


def test_history_shrinks_before_refusing_and_counts_in_the_check(net, monkeypatch):
    full = plan(net, monkeypatch, 64 * 2**30, tile_size=256)
    per_pair = 2 * 3 * 768 * 1024 * 4
    tight = plan(net, monkeypatch, (full.need_bytes - 60 * per_pair) / memory.HEADROOM + 1, tile_size=256)
    assert tight.tile_size == 256 and tight.lbfgs_history == MAX_HISTORY - 60
    with pytest.raises(ResourceError, match="need about .* GiB on cpu"):
        plan(net, monkeypatch, full.need_bytes / 4, tile_size=256, lbfgs_history=100)
    assert plan(net, monkeypatch, full.need_bytes / 2, tile_size=256, optimizer="adam").lbfgs_history == 0


def test_nothing_fits_is_one_line(net, monkeypatch):
    with pytest.raises(ResourceError, match=r"images of 1024x768 px \(content\) and 512x512 px \(style\) need about"):
        plan(net, monkeypatch, 1000)
    with pytest.raises(InputError, match="needs at least 16 px per side"):
        plan(net, monkeypatch, 64 * 2**30, content=(8, 100))


def test_an_explicit_history_that_alone_does_not_fit_names_the_history_that_does(net, monkeypatch):
    """--lbfgs-history 10**8 is the problem, not --size: the advice names the largest history that fits."""
    with pytest.raises(ResourceError, match=r"use lbfgs_history (\d+) or less \(or auto\)") as caught:
        plan(net, monkeypatch, 64 * 2**30, lbfgs_history=10**8)
    room = int(str(caught.value).split("lbfgs_history ")[1].split()[0])
    assert plan(net, monkeypatch, 64 * 2**30, lbfgs_history=room).lbfgs_history == room
    with pytest.raises(ResourceError):
        plan(net, monkeypatch, 64 * 2**30, lbfgs_history=room + 1)


def test_the_size_advice_for_a_thin_content_uses_the_file_aspect(net, monkeypatch):
    """A 1x100 file at --size 64 is 64x1 as used: the advice comes from the file's 100:1, not from 64:1."""
    with pytest.raises(InputError, match="use size 1550 or more, or crop or pad the image") as caught:
        plan(net, monkeypatch, 64 * 2**30, content=(1, 64), source_shape=(1, 100))
    assert "as used" in str(caught.value)
    from neural_style.core.tensors import long_side_shape
    assert min(long_side_shape((1, 100), 1550)) == 16 and min(long_side_shape((1, 100), 1549)) == 15
    with pytest.raises(InputError, match=r"use size 78 or more$"):  # a mild shape: no crop advice
        plan(net, monkeypatch, 64 * 2**30, content=(4, 20), source_shape=(10, 50))
