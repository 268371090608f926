import pytest
import torch

from neural_style import device as device_module
from neural_style.device import resolve_device, resolve_precision
from neural_style.errors import InputError


def test_auto_and_cpu():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")


@pytest.mark.parametrize("name", ["tpu", "cuda:x", "gpu0", ""])
def test_unknown_device(name):
    with pytest.raises(InputError, match="unknown device"):
        resolve_device(name)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without CUDA")
def test_cuda_without_cuda():
    with pytest.raises(InputError, match="CUDA is not available"):
        resolve_device("cuda:0")


def test_precision_choices():
    cpu = torch.device("cpu")
    assert resolve_precision("fp32", cpu) is None
    assert resolve_precision("bf16", cpu) is torch.bfloat16
    with pytest.raises(InputError, match="fp16 is for GPUs"):
        resolve_precision("fp16", cpu)
    with pytest.raises(InputError, match="unknown precision"):
        resolve_precision("fp64", cpu)


@pytest.mark.parametrize("native, expected", [(True, torch.bfloat16), (False, None)])
def test_auto_precision_follows_native_bf16_on_cpu(native, expected, monkeypatch):
    monkeypatch.setattr(device_module, "_cpu_has_native_bf16", lambda: native)
    assert resolve_precision("auto", torch.device("cpu")) is expected
