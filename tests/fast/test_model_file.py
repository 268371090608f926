"""Tests for neural_style.fast.model_file: saving and loading trained transform networks."""

import errno
import os
from collections import OrderedDict
from pathlib import Path

import pytest
import torch

from neural_style.errors import InputError, NeuralStyleError
from neural_style.fast import model_file
from neural_style.fast.model_file import FORMAT, VERSION, load_model, save_model
from neural_style.fast.transformer import TransformerNet

METADATA = {
    "style_sha256": "ab" * 32,
    "settings": {"style_weight": 1e5, "content_weight": 1.0, "layers": ["relu1_2", "relu2_2"], "tv": None},
    "steps": 40000,
    "converged": True,
}


def small_model(seed=0, **kwargs) -> TransformerNet:
    torch.manual_seed(seed)
    kwargs = {"width": 0.25, "residual_blocks": 1, **kwargs}
    model = TransformerNet(**kwargs)
    with torch.no_grad():  # make the affine norm parameters differ from their initial values
        for name, p in model.named_parameters():
            if "norm" in name or p.ndim == 1:
                p.add_(torch.randn_like(p) * 0.1)
    return model


@pytest.fixture
def saved(tmp_path):
    model = small_model()
    path = save_model(tmp_path / "style.pth", model, METADATA)
    return path, model


def payload(model=None, **changes) -> dict:
    model = model or small_model()
    data = {"format": FORMAT, "version": VERSION, "config": model.config,
            "state_dict": model.state_dict(), "metadata": {}}
    data.update(changes)
    return data


def assert_input_error(path, *fragments):
    with pytest.raises(InputError) as excinfo:
        load_model(path)
    message = str(excinfo.value)
    assert "\n" not in message
    assert f"'{path}'" in message
    for fragment in fragments:
        assert fragment in message, message
    return message


# ---------------------------------------------------------------- round trip


def test_round_trip_gives_the_same_outputs_config_and_metadata(saved):
    path, model = saved
    assert path.is_file()
    loaded, metadata = load_model(path)
    assert isinstance(loaded, TransformerNet)
    assert not loaded.training
    assert loaded.config == model.config
    assert metadata == METADATA
    x = torch.rand(2, 3, 21, 18)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model.eval()(x), rtol=0, atol=0)
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)


def test_file_holds_the_documented_dict(saved):
    path, model = saved
    data = torch.load(path, map_location="cpu", weights_only=True)
    assert set(data) == {"format", "version", "config", "state_dict", "metadata"}
    assert data["format"] == "neural-style-transformer" and data["version"] == 1
    assert data["config"] == {"width": 0.25, "residual_blocks": 1, "antialias": False}
    assert set(data["state_dict"]) == set(model.state_dict())


def test_load_accepts_str_path_and_device(saved):
    path, model = saved
    loaded, _ = load_model(str(path), device="cpu")
    assert next(loaded.parameters()).device == torch.device("cpu")
    loaded, _ = load_model(path, device=torch.device("cpu"))
    assert not loaded.training


def test_metadata_is_stored_as_it_reads_back_from_json(tmp_path):
    path = save_model(tmp_path / "m.pth", small_model(), {"size": (256, 256), "nested": {"a": [1, (2, 3)]}})
    _, metadata = load_model(path)
    assert metadata == {"size": [256, 256], "nested": {"a": [1, [2, 3]]}}


def test_empty_metadata_and_other_configs(tmp_path):
    model = small_model(width=0.125, residual_blocks=0)
    path = save_model(tmp_path / "sub" / "dir" / "m.pth", model, {})
    loaded, metadata = load_model(path)
    assert metadata == {} and loaded.config == {"width": 0.125, "residual_blocks": 0, "antialias": False}


def test_antialiased_network_round_trips(tmp_path):
    model = small_model(antialias=True)
    loaded, _ = load_model(save_model(tmp_path / "m.pth", model, {}))
    x = torch.rand(1, 3, 21, 30)
    with torch.no_grad():
        assert loaded.antialias and torch.equal(loaded(x), model(x))


def test_a_file_written_before_antialias_existed_loads_as_the_plain_network(tmp_path):
    model = small_model()
    path = tmp_path / "old.pth"
    torch.save(payload(model, config={"width": 0.25, "residual_blocks": 1}), path)
    loaded, _ = load_model(path)
    x = torch.rand(1, 3, 21, 30)
    with torch.no_grad():
        assert not loaded.antialias and torch.equal(loaded(x), model(x))


def test_model_in_training_mode_is_saved_and_loaded_in_eval_mode(tmp_path):
    model = small_model().train()
    loaded, _ = load_model(save_model(tmp_path / "m.pth", model, {}))
    assert model.training and not loaded.training


# ---------------------------------------------------------------- saving


@pytest.mark.parametrize("metadata", [
    {"array": torch.zeros(2)},
    {"path": Path("style.jpg")},
    {"loss": float("nan")},
    {"loss": float("inf")},
    {"set": {1, 2}},
    {1: "integer key"},
])
def test_non_json_metadata_is_a_value_error(tmp_path, metadata):
    with pytest.raises(ValueError, match="metadata"):
        save_model(tmp_path / "m.pth", small_model(), metadata)
    assert list(tmp_path.iterdir()) == []


def test_save_type_checks(tmp_path):
    with pytest.raises(TypeError, match="TransformerNet"):
        save_model(tmp_path / "m.pth", torch.nn.Linear(2, 2), {})
    with pytest.raises(TypeError, match="metadata"):
        save_model(tmp_path / "m.pth", small_model(), [("a", 1)])


def test_save_replaces_an_existing_file_and_leaves_no_temporary_files(tmp_path):
    path = tmp_path / "m.pth"
    save_model(path, small_model(seed=1), {"run": 1})
    save_model(path, small_model(seed=2), {"run": 2})
    assert load_model(path)[1] == {"run": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["m.pth"]


def test_failed_save_leaves_the_existing_file_intact_and_no_temporary_files(tmp_path, monkeypatch):
    path = tmp_path / "m.pth"
    save_model(path, small_model(), {"run": 1})
    before = path.read_bytes()
    real_save = torch.save

    def failing_save(obj, target, *args, **kwargs):
        real_save(obj, target, *args, **kwargs)  # target: the open temporary file
        target.truncate(target.tell() // 2)  # half a file, then a crash
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(torch, "save", failing_save)
    with pytest.raises(RuntimeError, match="disk on fire"):
        save_model(path, small_model(seed=5), {"run": 2})
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.pth"]
    assert load_model(path)[1] == {"run": 1}


def test_failed_first_save_creates_nothing(tmp_path, monkeypatch):
    real_write = Path.write_bytes

    def full_disk(self, data):  # the serialised model, written part way (the temporary file)
        real_write(self, bytes(data)[:10])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full_disk)
    with pytest.raises(NeuralStyleError, match="No space left on device"):
        save_model(tmp_path / "m.pth", small_model(), {})
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- load errors


def test_missing_file(tmp_path):
    assert_input_error(tmp_path / "nope.pth", "does not exist", "neural-style train")


def test_directory(tmp_path):
    assert_input_error(tmp_path, "is a directory")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.pth"
    path.write_bytes(b"")
    assert_input_error(path, "empty")


def test_random_bytes(tmp_path):
    path = tmp_path / "noise.pth"
    path.write_bytes(torch.randint(0, 256, (4096,), generator=torch.Generator().manual_seed(0),
                                   dtype=torch.uint8).numpy().tobytes())
    assert_input_error(path, "is not a PyTorch file", "neural-style train")


def test_truncated_file(saved):
    path, _ = saved
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert_input_error(path, "corrupt or truncated")


def test_file_with_python_objects_is_refused_without_running_them(tmp_path):
    path = tmp_path / "pickled-module.pth"
    torch.save(small_model(), path)  # a whole pickled module, not loadable with weights_only
    assert_input_error(path, "could run code", "cannot be loaded safely", "neural-style train")


@pytest.mark.parametrize("read", ["model", "checkpoint", "weights"])
def test_pickle_protocol_5_is_named_for_every_torch_file(tmp_path, read):
    """One loader for weights, model files and checkpoints: protocol 5 is called that, not unsafe."""
    from neural_style.core.weights import load_weights
    from neural_style.fast.checkpoints import read_checkpoint

    path = tmp_path / "p5.pth"
    torch.save({"w": torch.zeros(2)}, path, pickle_protocol=5)
    reader = {"model": load_model, "checkpoint": read_checkpoint, "weights": load_weights}[read]
    try:
        reader(path)
    except InputError as exc:
        message = str(exc)
    else:
        pytest.skip("this torch reads protocol-5 pickles safely")
    assert "pickle protocol 5" in message and "could run code" not in message and str(path) in message


def test_vgg_state_dict(tmp_path, vgg16_file):
    message = assert_input_error(vgg16_file, "not a neural-style model file", "no 'format' key",
                                 "neural-style train")
    assert "state dict" in message


def test_bare_transformer_state_dict(tmp_path):
    path = tmp_path / "state.pth"
    torch.save(small_model().state_dict(), path)
    assert_input_error(path, "no 'format' key")


def test_plain_tensor(tmp_path):
    path = tmp_path / "tensor.pth"
    torch.save(torch.zeros(3), path)
    assert_input_error(path, "not a neural-style model file", "Tensor")


def test_dict_without_format(tmp_path):
    path = tmp_path / "dict.pth"
    torch.save({"config": {"width": 1.0}, "epoch": 3}, path)
    assert_input_error(path, "no 'format' key")


@pytest.mark.parametrize("changes, fragment", [
    ({"format": "something-else"}, "'something-else'"),
    ({"format": None}, "format is None"),
    ({"version": 2}, "upgrade neural-style"),
    ({"version": 0}, "invalid version"),
    ({"version": "1"}, "invalid version"),
    ({"version": True}, "invalid version"),
])
def test_wrong_format_or_version(tmp_path, changes, fragment):
    path = tmp_path / "m.pth"
    torch.save(payload(**changes), path)
    assert_input_error(path, fragment)


@pytest.mark.parametrize("key", ["config", "state_dict", "metadata"])
def test_incomplete_file(tmp_path, key):
    path = tmp_path / "m.pth"
    data = payload()
    del data[key]
    torch.save(data, path)
    assert_input_error(path, "incomplete", repr(key))


@pytest.mark.parametrize("config, fragment", [
    ({"width": 0.25}, "invalid config"),
    ({"width": 0.25, "residual_blocks": 1, "extra": 1}, "invalid config"),
    ({"width": 0.25, "residual_blocks": 1, "antialias": "yes"}, "antialias must be True or False"),
    ({"width": -1.0, "residual_blocks": 1}, "width"),
    ({"width": 0.25, "residual_blocks": -2}, "residual blocks"),
    ([0.25, 1], "invalid config"),
])
def test_invalid_config(tmp_path, config, fragment):
    path = tmp_path / "m.pth"
    torch.save(payload(config=config), path)
    assert_input_error(path, fragment)


def test_state_dict_for_another_width(tmp_path):
    path = tmp_path / "m.pth"
    torch.save(payload(config={"width": 0.5, "residual_blocks": 1}), path)
    assert_input_error(path, "do not match its config", "has shape")


def test_state_dict_for_another_depth(tmp_path):
    path = tmp_path / "m.pth"
    torch.save(payload(config={"width": 0.25, "residual_blocks": 2}), path)
    assert_input_error(path, "do not match its config", "missing keys")
    torch.save(payload(config={"width": 0.25, "residual_blocks": 0}), path)
    assert_input_error(path, "do not match its config", "unexpected keys")


def test_state_dict_never_loads_partially(tmp_path):
    model = small_model()
    state = OrderedDict(model.state_dict())
    state.popitem()
    path = tmp_path / "m.pth"
    torch.save(payload(model, state_dict=state), path)
    assert_input_error(path, "missing keys")


def test_state_dict_with_bad_values(tmp_path):
    model = small_model()
    path = tmp_path / "m.pth"
    state = dict(model.state_dict())
    key = next(iter(state))
    torch.save(payload(model, state_dict={**state, key: state[key].clone().fill_(float("nan"))}), path)
    assert_input_error(path, key, "NaN")
    torch.save(payload(model, state_dict={**state, key: state[key].long()}), path)
    assert_input_error(path, key, "int64")
    torch.save(payload(model, state_dict=[1, 2]), path)
    assert_input_error(path, "state dict is a list")


def test_metadata_that_is_not_a_dict(tmp_path):
    path = tmp_path / "m.pth"
    torch.save(payload(metadata=[1, 2]), path)
    assert_input_error(path, "metadata")


def test_unreadable_file(saved, monkeypatch):
    """chmod 0 where permissions are enforced; as root (who reads anything) the same error is raised by open."""
    path, _ = saved
    if os.name == "posix" and os.geteuid() != 0:
        path.chmod(0)
    else:
        def refuse(*args, **kwargs):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))

        monkeypatch.setattr(model_file.torch, "load", refuse)
    try:
        assert_input_error(path, "permission denied")
    finally:
        path.chmod(0o644)


def test_module_constants():
    assert model_file.FORMAT == "neural-style-transformer" and model_file.VERSION == 1


@pytest.mark.parametrize("width", [1e9, 64.0])
def test_a_config_asking_for_more_weights_than_any_model_file_holds_is_refused_before_building(tmp_path, width):
    """A damaged width would allocate terabytes while building the network: refused from the config."""
    path = tmp_path / "m.pth"
    model = small_model()
    torch.save(payload(model, config={**model.config, "width": width}), path)
    assert_input_error(path, "GiB of weights", f"width {width}", "it is damaged")
