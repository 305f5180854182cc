"""Rows of the project store as plain dataclasses."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Track:
    id: int
    name: str
    position: int
    gain_db: float = 0.0
    pan: float = 0.0
    mute: bool = False
    solo: bool = False


@dataclass(frozen=True)
class Clip:
    id: int
    track_id: int
    take_id: int
    start_frame: int
    offset_frame: int
    length_frames: int
    gain_db: float = 0.0
    fade_in_frames: int = 0
    fade_out_frames: int = 0

    @property
    def end_frame(self) -> int:
        return self.start_frame + self.length_frames


@dataclass(frozen=True)
class Take:
    id: int
    audio_sha256: str
    name: str
    kind: str
    duration: float
    created: str
    engine: str = ""
    model_id: str = ""
    model_version: str = ""
    prompt: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    device: str = ""
    dtype: str = ""
    voice_id: str | None = None
    consent: dict[str, Any] | None = None
    watermarked: bool = False
    provenance: dict[str, Any] = field(default_factory=dict)
    source_path: str = ""
    job_id: int | None = None

    @classmethod
    def from_row(cls, row: Any) -> Take:
        d = dict(row)
        d["params"] = json.loads(d.get("params") or "{}")
        d["provenance"] = json.loads(d.get("provenance") or "{}")
        d["consent"] = json.loads(d["consent"]) if d.get("consent") else None
        d["watermarked"] = bool(d.get("watermarked"))
        return cls(**d)


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    engine: str
    request: dict[str, Any]
    state: str
    progress: float
    error: str
    created: str
    started: str | None
    finished: str | None

    @classmethod
    def from_row(cls, row: Any) -> Job:
        d = dict(row)
        d["request"] = json.loads(d.get("request") or "{}")
        return cls(**d)


@dataclass(frozen=True)
class Marker:
    id: int
    frame: int
    label: str
    kind: str = "marker"
