"""train --antialias: the anti-aliased network is trained, written, and resumed only as such."""

import pytest
import torch

from neural_style.errors import InputError
from neural_style.fast import checkpoints
from neural_style.fast.model_file import load_model
from neural_style.fast.training import Trainer

from ..clitools import assert_error, assert_ok, invoke
from .test_training import config, photos  # noqa: F401 (a fixture)


def test_cli_trains_and_writes_an_antialiased_network(photos, style_file, vgg16_file, tmp_path):  # noqa: F811
    result = invoke("train", style_file, "-o", tmp_path / "m.pth", "--dataset", photos, "--image-size", "32",
                    "--batch-size", "2", "--iterations", "2", "--width", "0.25", "--weights", vgg16_file, "-q",
                    "--antialias")
    assert_ok(result)
    net, metadata = load_model(tmp_path / "m.pth")
    assert net.antialias and net.config["antialias"] is True and metadata["settings"]["antialias"] is True
    ckpt = torch.load(tmp_path / "m-checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["config"]["antialias"] is True


def test_resume_refuses_a_checkpoint_of_the_other_kind(photos, style_file, vgg16_file, tmp_path):  # noqa: F811
    plain = Trainer(style_file, photos, config(weights=str(vgg16_file)))
    plain.train_step()
    plain.save_checkpoint(tmp_path / "plain.ckpt")
    antialiased = Trainer(style_file, photos, config(weights=str(vgg16_file), antialias=True))
    with pytest.raises(InputError, match="trained without antialias: resume with the same settings"):
        antialiased.load_checkpoint(tmp_path / "plain.ckpt")
    antialiased.save_checkpoint(tmp_path / "aa.ckpt")
    with pytest.raises(InputError, match="trained with antialias: resume with the same settings"):
        plain.load_checkpoint(tmp_path / "aa.ckpt")


def test_a_checkpoint_written_before_the_setting_existed_resumes_a_plain_network(
        photos, style_file, vgg16_file, tmp_path):  # noqa: F811
    plain = Trainer(style_file, photos, config(weights=str(vgg16_file), iterations=2))
    plain.train_step()
    state = plain.state()
    del state["config"]["antialias"]
    checkpoints.write_checkpoint(tmp_path / "old.ckpt", state)
    again = Trainer(style_file, photos, config(weights=str(vgg16_file), iterations=2))
    again.load_checkpoint(tmp_path / "old.ckpt")
    assert again.step == 1 and not again.net.antialias


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_a_checkpoint_with_a_damaged_setting_is_called_damaged(photos, style_file, vgg16_file, tmp_path,  # noqa: F811
                                                                value):
    trainer = Trainer(style_file, photos, config(weights=str(vgg16_file), antialias=True))
    state = trainer.state()
    state["config"]["antialias"] = value
    checkpoints.write_checkpoint(tmp_path / "bad.ckpt", state)
    with pytest.raises(InputError, match=r"bad.ckpt' is damaged \(ValueError: antialias"):
        Trainer(style_file, photos, config(weights=str(vgg16_file), antialias=True)).load_checkpoint(
            tmp_path / "bad.ckpt")


def test_cli_resume_of_the_other_kind_is_one_line(photos, style_file, vgg16_file, tmp_path):  # noqa: F811
    common = ["--dataset", photos, "--image-size", "32", "--batch-size", "2", "--width", "0.25",
              "--weights", vgg16_file, "-q"]
    assert_ok(invoke("train", style_file, "-o", tmp_path / "m.pth", "--iterations", "1", *common))
    result = invoke("train", style_file, "-o", tmp_path / "m.pth", "--iterations", "2", "--antialias",
                    "--resume", tmp_path / "m-checkpoints" / "last.ckpt", *common)
    assert_error(result, 2, "without --antialias")
