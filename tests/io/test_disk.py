"""Free disk space checked before long work: stylize's image and train's checkpoints."""

import os
from collections import namedtuple

import numpy as np
import pytest
from PIL import Image

from neural_style.errors import InputError
from neural_style.io import disk
from tests.clitools import assert_error, assert_ok, invoke

Usage = namedtuple("Usage", "total used free")


def test_nearest_existing_and_same_disk(tmp_path):
    assert disk.nearest_existing(tmp_path / "a" / "b" / "c.png") == tmp_path
    assert disk.same_disk(tmp_path / "new" / "x", tmp_path)
    assert disk.free_bytes(tmp_path / "not" / "yet") == os.statvfs(tmp_path).f_bavail * os.statvfs(tmp_path).f_frsize


def test_image_file_bytes_bounds_a_16_bit_png_of_noise(tmp_path):
    """The bound holds for the least compressible image: RGBA noise at 16 bits per sample."""
    noise = np.random.default_rng(0).integers(0, 2**16, (64, 96, 4), dtype=np.uint16)
    from neural_style.io.encode import write_image

    write_image(tmp_path / "n.png", noise[..., :3].astype(np.float32) / 65535, bit_depth=16,
                alpha=noise[..., 3].astype(np.float32) / 65535)
    size = (tmp_path / "n.png").stat().st_size
    assert 64 * 96 * 8 < size <= disk.image_file_bytes(64, 96)


def test_require_space_names_the_need_and_an_existing_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(disk.shutil, "disk_usage", lambda path: Usage(10**9, 10**9 - 2**20, 2**20))
    disk.require_space(tmp_path / "o.png", 2**20, "the output")
    with pytest.raises(InputError, match=rf"not enough disk space for the output: about 2.0 MiB needed, 1.0 MiB free "
                                         rf"in '{tmp_path}': free some space or choose another folder"):
        disk.require_space(tmp_path / "new" / "o.png", 2**21, "the output")


@pytest.fixture
def small_disk(monkeypatch):
    """A disk with 1 MB free."""
    monkeypatch.setattr(disk.shutil, "disk_usage", lambda path: Usage(10**9, 10**9 - 2**20, 2**20))


def test_stylize_refuses_to_start_when_its_output_cannot_fit(tmp_path, content_file, style_file, vgg16_file,
                                                             small_disk):
    args = ["stylize", content_file, style_file, "-o", tmp_path / "o.png", "--weights", vgg16_file, "--iterations",
            "1", "--quiet"]
    assert_ok(invoke(*args, "--size", "32"))  # 32 px fits in 1 MB
    result = invoke(*args, "--size", "400", "--save-every", "1", "--iterations", "3")
    assert_error(result, 2, "not enough disk space for the output (400x", "with intermediates", "1.0 MiB free",
                 "use a smaller --size, free some space")
    assert not list(tmp_path.glob("o-*.png"))  # no intermediate written
    Image.fromarray(np.zeros((600, 800, 3), np.uint8)).save(tmp_path / "big.png")
    result = invoke("stylize", tmp_path / "big.png", style_file, "-o", tmp_path / "b.png", "--weights", vgg16_file)
    assert_error(result, 2, "not enough disk space for the output (512x384 px)")  # the default --size


def test_train_refuses_to_start_when_its_checkpoints_cannot_fit(tmp_path, style_file, vgg16_file, small_disk):
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (36, 44, 3), dtype=np.uint8)).save(photos / "p.png")
    result = invoke("train", style_file, "--dataset", photos, "-o", tmp_path / "m.pth", "--weights", vgg16_file,
                    "--image-size", "32", "--iterations", "2000", "--checkpoint-every", "100", "--keep-checkpoints", "0")
    line = assert_error(result, 2, "not enough disk space for the model and 22 checkpoint files: about ")
    assert "1.0 MiB free" in line and not (tmp_path / "m.pth").exists() and not (tmp_path / "m-checkpoints").exists()
    result = invoke("train", style_file, "--dataset", photos, "-o", tmp_path / "m.pth", "--weights", vgg16_file,
                    "--image-size", "32", "--iterations", "2000", "--checkpoint-every", "100")
    assert_error(result, 2, "not enough disk space for the model and 7 checkpoint files")  # 5 kept


def test_export_refuses_a_disk_without_room_for_the_model(tmp_path, small_disk):
    import torch

    from neural_style.fast.model_file import save_model
    from neural_style.fast.transformer import TransformerNet

    model = save_model(tmp_path / "m.pth", TransformerNet(width=1.0), {"steps": 0})  # 6.7 MB of weights
    result = invoke("export", model, "-o", tmp_path / "m.pt2")
    assert_error(result, 2, "not enough disk space for the exported model", "1.0 MiB free")
    assert not (tmp_path / "m.pt2").exists() and torch.load(model, weights_only=True)
