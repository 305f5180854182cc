"""Provenance: everything needed to say where a take came from and to make it again."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any


def app_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("timbre-studio")
    except PackageNotFoundError:  # running from a source tree
        return "0+unknown"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Provenance:
    engine: str
    model_id: str = ""
    model_version: str = ""  # a hash of the weights, or a package version
    prompt: str = ""  # prompt, or the text spoken
    params: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    device: str = "cpu"
    dtype: str = "float32"
    voice: str | None = None  # library voice id, for speech and clones
    consent: dict[str, Any] | None = None  # the voice's consent record, for clones
    watermarked: bool = False
    watermark_score: float | None = None  # detector confidence measured right after marking
    # The model weights' licence (SPDX id, engines.licences); "" when unknown or for takes
    # made before it was recorded. What the take may be used for follows from it.
    licence: str = ""
    created: str = field(default_factory=now_iso)
    app_version: str = field(default_factory=app_version)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Provenance:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class GeneratedTake:
    """What every generating engine returns: audio plus where it came from."""

    clip: Any  # engines.audio.AudioClip (Any keeps this module import-light)
    provenance: Provenance
