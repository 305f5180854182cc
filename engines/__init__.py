"""Timbre's engine layer: on-device inference and audio processing, with no Qt.

Plain data in and out (dataclasses and numpy arrays). torch and audiocraft are imported
inside the engines that need them, when first used, so importing this package is cheap.
"""

from engines.audio import AudioClip
from engines.cancel import CancelToken, Progress, ProgressCallback, no_progress
from engines.errors import (
    BadInput,
    Cancelled,
    DeviceUnavailable,
    EngineError,
    ModelMissing,
    OutOfMemory,
    TimbreError,
)
from engines.provenance import GeneratedTake, Provenance
from engines.registry import EngineInfo, EngineSpec, create, engine_infos

__all__ = [
    "AudioClip",
    "BadInput",
    "CancelToken",
    "Cancelled",
    "DeviceUnavailable",
    "EngineError",
    "EngineInfo",
    "EngineSpec",
    "GeneratedTake",
    "ModelMissing",
    "OutOfMemory",
    "Progress",
    "ProgressCallback",
    "Provenance",
    "TimbreError",
    "create",
    "engine_infos",
    "no_progress",
]
