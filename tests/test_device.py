import pytest
import torch

from utils.device import describe_device, get_device


def test_get_device_prefers_cuda_then_mps_then_cpu():
    device = get_device()
    if torch.cuda.is_available():
        assert device.type == "cuda"
    elif torch.backends.mps.is_available():
        assert device.type == "mps"
    else:
        assert device.type == "cpu"


def test_forced_cpu_and_environment_override(monkeypatch):
    assert get_device("cpu") == torch.device("cpu")
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_unavailable_device_is_a_clear_error():
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        get_device("cuda")


def test_describe_device_names_device_torch_and_threads(capsys):
    line = describe_device(torch.device("cpu"))
    assert line in capsys.readouterr().out
    assert "cpu" in line and torch.__version__ in line
    assert f"{torch.get_num_threads()} threads" in line
