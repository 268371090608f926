"""train --ema-decay: the model is the exponential moving average of the weights, kept across resumes."""

import pytest
import torch

from neural_style.errors import InputError
from neural_style.fast import checkpoints
from neural_style.fast.model_file import load_model
from neural_style.fast.training import Trainer
from neural_style.fast.training import run_training as train

from ..clitools import assert_error, assert_ok, invoke
from .test_training import config, photos  # noqa: F401 (a fixture)


def weights(net):
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def test_the_output_network_is_the_moving_average_of_every_step_s_weights(photos, style_file, vgg16_file):  # noqa: F811
    decay = 0.6
    trainer = Trainer(style_file, photos, config(weights=str(vgg16_file), ema_decay=decay))
    average = None
    for _ in range(4):
        trainer.train_step()
        now = weights(trainer.net)
        average = now if average is None else {k: decay * average[k] + (1 - decay) * now[k] for k in now}
    assert trainer.output_net is not trainer.net
    for name, value in trainer.output_net.state_dict().items():
        torch.testing.assert_close(value, average[name], rtol=1e-6, atol=1e-7, msg=name)
    assert any(not torch.equal(value, now[name]) for name, value in trainer.output_net.state_dict().items())


def test_without_a_decay_the_output_network_is_the_trained_one(photos, style_file, vgg16_file):  # noqa: F811
    trainer = Trainer(style_file, photos, config(weights=str(vgg16_file)))
    assert trainer.output_net is trainer.net and trainer.state()["net_average"] is None


def test_a_resumed_run_ends_with_the_same_average(photos, style_file, vgg16_file, tmp_path):  # noqa: F811
    straight = Trainer(style_file, photos, config(weights=str(vgg16_file), ema_decay=0.7))
    train(straight, checkpoint_dir=tmp_path / "a")
    resumed = Trainer(style_file, photos, config(weights=str(vgg16_file), ema_decay=0.7))
    assert resumed.load_checkpoint(tmp_path / "a" / "step-000003.ckpt") == []
    train(resumed)
    for (name, a), b in zip(straight.output_net.state_dict().items(), resumed.output_net.state_dict().values()):
        assert torch.equal(a, b), name


def test_averaging_from_a_checkpoint_without_an_average_starts_from_its_network(photos, style_file,  # noqa: F811
                                                                                 vgg16_file, tmp_path):
    plain = Trainer(style_file, photos, config(weights=str(vgg16_file), iterations=2))
    train(plain, checkpoint_dir=tmp_path / "a")
    averaging = Trainer(style_file, photos, config(weights=str(vgg16_file), ema_decay=0.9))
    changed = averaging.load_checkpoint(tmp_path / "a" / "last.ckpt")
    assert changed == ["ema_decay: 0.0 -> 0.9"]
    for (name, a), b in zip(plain.net.state_dict().items(), averaging.output_net.state_dict().values()):
        assert torch.equal(a, b), name
    averaging.train_step()  # averaged into, not replaced: between the checkpoint's weights and the new ones
    key = next(k for k, v in plain.net.state_dict().items() if v.dtype.is_floating_point)
    old, new, mean = plain.net.state_dict()[key], averaging.net.state_dict()[key], averaging.output_net.state_dict()[key]
    torch.testing.assert_close(mean, 0.9 * old + 0.1 * new)


def test_a_checkpoint_of_an_older_version_without_the_setting_says_the_average_starts_there(
        photos, style_file, vgg16_file, tmp_path):  # noqa: F811
    plain = Trainer(style_file, photos, config(weights=str(vgg16_file), iterations=2))
    state = plain.state()
    del state["net_average"], state["config"]["ema_decay"]
    checkpoints.write_checkpoint(tmp_path / "old.ckpt", state)
    averaging = Trainer(style_file, photos, config(weights=str(vgg16_file), ema_decay=0.9))
    assert averaging.load_checkpoint(tmp_path / "old.ckpt") == [
        "ema_decay: none -> 0.9 (the average starts from the checkpoint's network)"]


def test_cli_writes_the_average_and_refuses_a_decay_of_one(photos, style_file, vgg16_file, tmp_path):  # noqa: F811
    common = ["--dataset", photos, "--image-size", "32", "--batch-size", "2", "--iterations", "3", "--width", "0.25",
              "--weights", vgg16_file, "-q"]
    assert_ok(invoke("train", style_file, "-o", tmp_path / "m.pth", "--ema-decay", "0.5", *common))
    _, metadata = load_model(tmp_path / "m.pth")
    assert metadata["settings"]["ema_decay"] == 0.5
    ckpt = torch.load(tmp_path / "m-checkpoints" / "last.ckpt", weights_only=True)
    net, _ = load_model(tmp_path / "m.pth")
    for name, value in net.state_dict().items():
        assert torch.equal(value, ckpt["net_average"]["module." + name]), name
    result = invoke("train", style_file, "-o", tmp_path / "n.pth", "--ema-decay", "1", *common)
    assert_error(result, 2, "--ema-decay", prefix="neural-style train: error: ")
    assert not (tmp_path / "n.pth").exists()
    with pytest.raises(InputError, match=r"ema_decay must be a finite number >= 0 and <= 0.9999, got 1"):
        Trainer(style_file, photos, config(weights=str(vgg16_file), ema_decay=1.0))
