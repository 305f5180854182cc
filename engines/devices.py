"""Compute device choice: CUDA, then Apple MPS, then CPU; overridable; OOM falls back to CPU.

torch is imported only when a device is actually needed, so listing engines or opening the
window does not pay for it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from engines.errors import DeviceUnavailable, OutOfMemory

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class DeviceInfo:
    name: str  # torch device string: "cuda:0", "mps", "cpu"
    label: str  # for people: "NVIDIA H100 (80 GB)"
    memory_bytes: int | None = None


def available_devices() -> list[DeviceInfo]:
    """Every device torch can use here, best first."""
    import torch

    found: list[DeviceInfo] = []
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            gb = props.total_memory / 1e9
            found.append(DeviceInfo(f"cuda:{i}", f"{props.name} ({gb:.0f} GB)", props.total_memory))
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append(DeviceInfo("mps", "Apple GPU (Metal)"))
    found.append(DeviceInfo("cpu", f"CPU ({os.cpu_count()} cores)"))
    return found


def requested_device(setting: str | None = None) -> str:
    """The user's wish: ``TIMBRE_DEVICE`` beats the setting; "auto" means best available."""
    wish = os.environ.get("TIMBRE_DEVICE") or setting
    if wish is None:
        from engines.settings import get_setting

        wish = str(get_setting("device"))
    return wish.strip().lower() or "auto"


def choose_device(setting: str | None = None) -> str:
    """Resolve the wish to a concrete torch device string, or say why it cannot be used."""
    wish = requested_device(setting)
    names = [d.name for d in available_devices()]
    if wish == "auto":
        return names[0]
    if wish == "cuda":
        wish = "cuda:0"
    if wish in names:
        return wish
    if wish.startswith("cuda") or wish == "mps" or wish == "cpu":
        raise DeviceUnavailable(
            f"The device '{wish}' asked for (TIMBRE_DEVICE or the Device setting) is not "
            f"available here; available: {', '.join(names)}. Choose one of those or 'auto'."
        )
    raise DeviceUnavailable(
        f"'{wish}' is not a device name. Use auto, cpu, cuda, cuda:N or mps."
    )


def is_oom_error(exc: BaseException) -> bool:
    """True for torch's CUDA/MPS out-of-memory errors (without importing torch)."""
    if isinstance(exc, MemoryError):
        return True
    if type(exc).__name__ == "OutOfMemoryError":
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def free_device_memory(device: str) -> None:
    import gc

    gc.collect()
    if device.startswith("cuda"):
        import torch

        torch.cuda.empty_cache()
    elif device == "mps":
        import torch

        torch.mps.empty_cache()


def run_with_oom_fallback(
    fn: Callable[[str], T],
    device: str,
    notify: Callable[[str], None] | None = None,
) -> tuple[T, str]:
    """Run ``fn(device)``; on a GPU out-of-memory, free memory and run ``fn("cpu")``.

    Returns the result and the device that produced it (the take's provenance needs it).
    """
    try:
        return fn(device), device
    except Exception as exc:  # noqa: BLE001 - we re-raise anything that is not OOM
        if not is_oom_error(exc):
            raise
        if device == "cpu":
            raise _cpu_oom() from exc
        message = f"Out of memory on {device}; retrying on the CPU (slower)."
        log.warning(message)
        if notify is not None:
            notify(message)
        free_device_memory(device)
    try:
        return fn("cpu"), "cpu"
    except Exception as exc:  # noqa: BLE001 - the retry's own OOM is the final answer
        if is_oom_error(exc):
            raise _cpu_oom() from exc
        raise


def _cpu_oom() -> OutOfMemory:
    return OutOfMemory(
        "Ran out of memory on the CPU. Close other programs, generate a shorter "
        "piece or fewer variations, or use a smaller model.", device="cpu"
    )
