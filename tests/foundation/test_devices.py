"""Device choice (CUDA → MPS → CPU, overridable) and out-of-memory fallback."""

from __future__ import annotations

import pytest

from engines import devices
from engines.devices import DeviceInfo, choose_device, run_with_oom_fallback
from engines.errors import DeviceUnavailable, OutOfMemory


@pytest.fixture
def fake_gpu(monkeypatch):
    found = [DeviceInfo("cuda:0", "Fake GPU (8 GB)", 8 << 30), DeviceInfo("mps", "Apple GPU"),
             DeviceInfo("cpu", "CPU")]
    monkeypatch.setattr(devices, "available_devices", lambda: found)


def test_auto_prefers_cuda_then_mps_then_cpu(fake_gpu, monkeypatch):
    monkeypatch.delenv("TIMBRE_DEVICE", raising=False)
    assert choose_device("auto") == "cuda:0"
    monkeypatch.setattr(devices, "available_devices",
                        lambda: [DeviceInfo("mps", "Apple GPU"), DeviceInfo("cpu", "CPU")])
    assert choose_device("auto") == "mps"


def test_env_overrides_setting(fake_gpu, monkeypatch):
    monkeypatch.setenv("TIMBRE_DEVICE", "cpu")
    assert choose_device("cuda") == "cpu"
    monkeypatch.setenv("TIMBRE_DEVICE", "cuda")
    assert choose_device("cpu") == "cuda:0"


def test_setting_is_read_from_user_settings(fake_gpu, monkeypatch):
    from engines.settings import set_setting

    monkeypatch.delenv("TIMBRE_DEVICE", raising=False)
    set_setting("device", "mps")
    try:
        assert choose_device() == "mps"
    finally:
        set_setting("device", "auto")


def test_real_machine_has_cpu(monkeypatch):
    monkeypatch.delenv("TIMBRE_DEVICE", raising=False)
    names = [d.name for d in devices.available_devices()]
    assert names[-1] == "cpu"
    assert choose_device("auto") == names[0]


def test_unavailable_device_says_what_is_available(monkeypatch):
    monkeypatch.setattr(devices, "available_devices", lambda: [DeviceInfo("cpu", "CPU")])
    monkeypatch.setenv("TIMBRE_DEVICE", "cuda")
    with pytest.raises(DeviceUnavailable, match="not available here; available: cpu"):
        choose_device()
    monkeypatch.setenv("TIMBRE_DEVICE", "tpu")
    with pytest.raises(DeviceUnavailable, match="not a device name"):
        choose_device()


def test_gpu_oom_retries_on_cpu_and_says_so():
    import torch

    calls, notes = [], []

    def generate(device: str) -> str:
        calls.append(device)
        if device != "cpu":
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return f"audio from {device}"

    result, used = run_with_oom_fallback(generate, "cuda:0", notes.append)
    assert (result, used, calls) == ("audio from cpu", "cpu", ["cuda:0", "cpu"])
    assert notes == ["Out of memory on cuda:0; retrying on the CPU (slower)."]


def test_cpu_oom_becomes_a_clear_error_and_other_errors_pass_through():
    def oom(device):
        raise MemoryError()

    with pytest.raises(OutOfMemory, match="shorter piece or fewer variations"):
        run_with_oom_fallback(oom, "cpu")

    def broken(device):
        raise ValueError("not an OOM")

    with pytest.raises(ValueError):
        run_with_oom_fallback(broken, "cuda:0")


def test_timbre_devices_cli(timbre_cli):
    result = timbre_cli("devices", env={"TIMBRE_DEVICE": "cpu"})
    assert result.returncode == 0
    assert "chosen: cpu" in result.stdout
    result = timbre_cli("devices", env={"TIMBRE_DEVICE": "cuda:3"})
    assert result.returncode == 1 and "not available here" in result.stderr
