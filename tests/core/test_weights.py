"""Tests for neural_style.core.weights: finding, downloading and checking VGG weights.

Nothing here touches the network: ``torch.hub.download_url_to_file`` is replaced in
every test that could reach it.
"""

import os
import urllib.error
from pathlib import Path

import pytest
import torch
from torchvision.models.vgg import cfgs, make_layers

from neural_style.core import weights as weights_module
from neural_style.core.weights import ENV_VAR, LoadedWeights, features_keys, load_weights, torchvision_url
from neural_style.errors import DownloadError, InputError, NeuralStyleError, WeightsError

from ..conftest import random_vgg_state


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    """Tests start without $NEURAL_STYLE_WEIGHTS, whatever the caller's shell holds."""
    monkeypatch.delenv(ENV_VAR, raising=False)


@pytest.fixture
def no_download(monkeypatch):
    """Fail the test if anything tries to download."""
    calls = []

    def fake(url, dst, *args, **kwargs):
        calls.append(url)
        raise AssertionError(f"unexpected download of {url}")

    monkeypatch.setattr(torch.hub, "download_url_to_file", fake)
    return calls


@pytest.fixture
def cached(monkeypatch, tmp_path):
    """Point the torch hub cache at a file in tmp_path (which does not exist yet)."""
    path = tmp_path / "hub" / "checkpoints" / "vgg.pth"
    asked = []

    def fake_cache_path(url):
        asked.append(url)
        return path

    monkeypatch.setattr(weights_module, "cache_path", fake_cache_path)
    return path, asked


def _save(state, path: Path) -> Path:
    torch.save(state, path)
    return path


# --- architecture ---------------------------------------------------------------------------


@pytest.mark.parametrize("model, cfg, count, last_index", [("vgg19", "E", 32, 34), ("vgg16", "D", 26, 28)])
def test_features_keys_match_torchvision(model, cfg, count, last_index):
    keys = features_keys(model)
    assert len(keys) == count
    assert list(keys)[:2] == ["0.weight", "0.bias"]
    assert keys["0.weight"] == (64, 3, 3, 3) and keys["0.bias"] == (64,)
    assert list(keys)[-2:] == [f"{last_index}.weight", f"{last_index}.bias"]
    assert keys[f"{last_index}.weight"] == (512, 512, 3, 3) and keys[f"{last_index}.bias"] == (512,)
    reference = {k: tuple(v.shape) for k, v in make_layers(cfgs[cfg]).state_dict().items()}
    assert keys == reference  # same keys, same order of layers, same shapes


def test_torchvision_urls():
    assert torchvision_url("vgg19").endswith("/vgg19-dcbb9e9d.pth")
    assert torchvision_url("vgg16").endswith("/vgg16-397923af.pth")
    assert torchvision_url("vgg19").startswith("https://")


# --- local files ----------------------------------------------------------------------------


def test_features_prefixed_file_is_vgg16(vgg16_file):
    loaded = load_weights(vgg16_file)
    assert isinstance(loaded, LoadedWeights)
    assert loaded.model == "vgg16"
    assert loaded.source == str(vgg16_file)
    assert list(loaded.state) == list(features_keys("vgg16"))
    saved = torch.load(vgg16_file, weights_only=True)
    for key, value in loaded.state.items():
        assert value.dtype == torch.float32
        torch.testing.assert_close(value, saved["features." + key], rtol=0, atol=0)


def test_full_state_dict_with_classifier_is_vgg19(vgg19_file):
    loaded = load_weights(vgg19_file)
    assert loaded.model == "vgg19"
    assert loaded.source == str(vgg19_file)
    assert list(loaded.state) == list(features_keys("vgg19"))
    assert not any(k.startswith("classifier") for k in loaded.state)


def test_explicit_matching_model(vgg16_file):
    assert load_weights(vgg16_file, "vgg16").model == "vgg16"


def test_keys_without_prefix(tmp_path):
    path = _save(random_vgg_state("vgg16", seed=3, prefix=""), tmp_path / "bare.pth")
    loaded = load_weights(path)
    assert loaded.model == "vgg16"
    assert list(loaded.state) == list(features_keys("vgg16"))
    torch.testing.assert_close(loaded.state["28.weight"], torch.load(path, weights_only=True)["28.weight"])


def test_path_given_as_string_with_tilde(tmp_path, monkeypatch, vgg16_file):
    monkeypatch.setenv("HOME", str(vgg16_file.parent))
    loaded = load_weights("~/" + vgg16_file.name)
    assert loaded.model == "vgg16"
    assert loaded.source == str(vgg16_file)


def test_explicit_model_mismatch(vgg16_file):
    with pytest.raises(WeightsError) as info:
        load_weights(vgg16_file, "vgg19")
    message = str(info.value)
    assert str(vgg16_file) in message
    assert "vgg16" in message and "vgg19" in message
    assert "pass model vgg16" in message


def test_unknown_model(vgg16_file):
    with pytest.raises(WeightsError, match="unknown model 'vgg11'"):
        load_weights(vgg16_file, "vgg11")


def test_missing_key(tmp_path):
    state = random_vgg_state("vgg16")
    del state["features.28.bias"]
    path = _save(state, tmp_path / "missing.pth")
    with pytest.raises(WeightsError) as info:
        load_weights(path)
    assert str(path) in str(info.value)
    assert "missing '28.bias'" in str(info.value)


def test_missing_convolution_is_not_vgg(tmp_path):
    state = random_vgg_state("vgg16")
    del state["features.28.weight"], state["features.28.bias"]
    path = _save(state, tmp_path / "twelve.pth")
    with pytest.raises(WeightsError) as info:
        load_weights(path)
    assert str(path) in str(info.value)
    assert "not VGG16 or VGG19" in str(info.value) and "12 convolutions" in str(info.value)


def test_wrong_shape(tmp_path):
    state = random_vgg_state("vgg16")
    state["features.2.weight"] = torch.zeros(64, 64, 5, 5)
    path = _save(state, tmp_path / "shape.pth")
    with pytest.raises(WeightsError) as info:
        load_weights(path)
    message = str(info.value)
    assert str(path) in message
    assert "2.weight" in message
    assert "(64, 64, 5, 5)" in message and "(64, 64, 3, 3)" in message


@pytest.mark.parametrize("prefix, key, expected", [
    ("features.", "decoder.0.weight", "'decoder.0.weight'"),  # beside the features
    ("", "extra.bias", "unexpected 'extra.bias'"),            # without a prefix
])
def test_stray_key_is_named(prefix, key, expected, tmp_path):
    state = random_vgg_state("vgg16", prefix=prefix)
    state[key] = torch.zeros(3)
    path = _save(state, tmp_path / "stray.pth")
    with pytest.raises(WeightsError) as info:
        load_weights(path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)


def test_saved_list(tmp_path):
    path = _save(list(random_vgg_state("vgg16").values()), tmp_path / "list.pth")
    with pytest.raises(WeightsError) as info:
        load_weights(path)
    assert str(path) in str(info.value)
    assert "hold a list, not a state dict" in str(info.value)


def test_random_bytes(tmp_path):
    path = tmp_path / "noise.pth"
    path.write_bytes(os.urandom(2048))
    with pytest.raises(WeightsError) as info:
        load_weights(path)
    message = str(info.value)
    assert str(path) in message
    assert "is not a PyTorch file (or is corrupt)" in message
    assert "\n" not in message


def test_missing_path(tmp_path):
    path = tmp_path / "nope.pth"
    with pytest.raises(WeightsError) as info:
        load_weights(path)
    assert str(path) in str(info.value) and "does not exist" in str(info.value)


def test_directory(tmp_path):
    with pytest.raises(WeightsError) as info:
        load_weights(tmp_path)
    assert str(tmp_path) in str(info.value) and "is a directory" in str(info.value)


def test_weights_errors_are_usage_errors():
    assert issubclass(WeightsError, InputError) and WeightsError.exit_code == 2
    assert issubclass(DownloadError, NeuralStyleError) and not issubclass(DownloadError, InputError)
    assert DownloadError.exit_code == 1


# --- $NEURAL_STYLE_WEIGHTS ------------------------------------------------------------------


def test_none_reads_environment(monkeypatch, vgg16_file, no_download):
    monkeypatch.setenv(ENV_VAR, str(vgg16_file))
    loaded = load_weights(None)
    assert loaded.model == "vgg16" and loaded.source == str(vgg16_file)
    assert no_download == []


def test_environment_pointing_at_missing_file(monkeypatch, tmp_path, no_download):
    path = tmp_path / "gone.pth"
    monkeypatch.setenv(ENV_VAR, str(path))
    with pytest.raises(WeightsError) as info:
        load_weights()
    assert str(path) in str(info.value) and "$" + ENV_VAR in str(info.value)


def test_explicit_weights_override_environment(monkeypatch, vgg16_file, vgg19_file):
    monkeypatch.setenv(ENV_VAR, str(vgg16_file))
    assert load_weights(vgg19_file).model == "vgg19"


# --- torchvision ----------------------------------------------------------------------------


def test_torchvision_cached_is_not_downloaded(cached, no_download):
    path, asked = cached
    path.parent.mkdir(parents=True)
    torch.save(random_vgg_state("vgg19", seed=5), path)
    loaded = load_weights("torchvision")
    assert loaded.model == "vgg19"
    assert loaded.source == torchvision_url("vgg19")
    assert asked == [torchvision_url("vgg19")]
    assert no_download == []
    torch.testing.assert_close(loaded.state["34.weight"], torch.load(path, weights_only=True)["features.34.weight"])


def test_none_without_environment_means_torchvision(cached, no_download):
    path, asked = cached
    path.parent.mkdir(parents=True)
    torch.save(random_vgg_state("vgg16", seed=5), path)
    loaded = load_weights(None, "vgg16")
    assert loaded.model == "vgg16"
    assert loaded.source == torchvision_url("vgg16")
    assert asked == [torchvision_url("vgg16")]


def test_torchvision_download_into_cache(cached, monkeypatch):
    path, _ = cached
    calls = []

    def fake_download(url, dst, hash_prefix=None, progress=True):
        calls.append((url, dst, hash_prefix, progress))
        torch.save(random_vgg_state("vgg19", seed=2), dst)

    monkeypatch.setattr(torch.hub, "download_url_to_file", fake_download)
    loaded = load_weights("torchvision", progress=False)
    assert calls == [(torchvision_url("vgg19"), str(path), "dcbb9e9d", False)]
    assert loaded.model == "vgg19" and loaded.source == torchvision_url("vgg19")
    assert path.is_file()


def test_torchvision_download_failure(cached, monkeypatch):
    path, _ = cached

    def fail(url, dst, *args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "download_url_to_file", fail)
    with pytest.raises(DownloadError) as info:
        load_weights("torchvision")
    message = str(info.value)
    assert torchvision_url("vgg19") in message
    assert str(path) in message
    assert "no network" in message
    assert "\n" not in message
    assert not path.exists()


def test_an_empty_or_truncated_file_says_to_fetch_it_again(tmp_path):
    empty = tmp_path / "empty.pth"
    empty.write_bytes(b"")
    with pytest.raises(WeightsError, match=r"is empty \(0 bytes\): download or copy it again"):
        load_weights(empty)
    whole = tmp_path / "whole.pth"
    torch.save({"features.0.weight": torch.zeros(64, 3, 3, 3)}, whole)
    cut = tmp_path / "cut.pth"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(WeightsError, match="download or copy it again"):
        load_weights(cut)


def test_a_plain_state_dict_at_pickle_protocol_5_is_not_called_unsafe(tmp_path):
    path = tmp_path / "p5.pth"
    torch.save({"features.0.weight": torch.zeros(64, 3, 3, 3)}, path, pickle_protocol=5)
    with pytest.raises(WeightsError) as info:
        load_weights(path)
    message = str(info.value)
    assert "pickle protocol" in message and "could run code" not in message and "\n" not in message


def test_weights_holding_nan_are_called_damaged_before_any_work(tmp_path):
    """Not left to the optimiser, whose non-finite loss would advise a lower --style-weight."""
    state = random_vgg_state("vgg16")
    state["features.2.weight"][0, 0, 0, 0] = float("nan")
    with pytest.raises(WeightsError, match=r"hold NaN or infinite values in 2.weight: the file is damaged"):
        load_weights(_save(state, tmp_path / "nan.pth"))
