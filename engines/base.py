"""The shape every engine has, and how the registry describes one.

Engines take request dataclasses and return plain data. The request dataclass's field
metadata (``label``, ``help``, ``choices``, ``min``/``max``, ``hidden``) is what the studio's
form and the command line's flags are built from, so an engine brings its own controls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from engines.cancel import CancelToken, ProgressCallback
from engines.provenance import GeneratedTake


@dataclass(frozen=True)
class EngineInfo:
    name: str
    label: str
    kind: str  # "music" | "sfx" | "speech" | "clone" | "analysis" | "watermark"
    available: bool
    reason: str = ""


@dataclass(frozen=True)
class EngineSpec:
    """How to find and build one engine. ``factory`` is "module:Class"."""

    name: str
    label: str
    kind: str
    factory: str
    check: Callable[[], str | None] = field(default=lambda: None)  # reason when unavailable
    options: dict[str, Any] = field(default_factory=dict)

    def info(self) -> EngineInfo:
        try:
            reason = self.check()
        except Exception as exc:  # noqa: BLE001 - a broken check must not hide the others
            reason = f"could not check: {exc}"
        return EngineInfo(self.name, self.label, self.kind, reason is None, reason or "")


@runtime_checkable
class Engine(Protocol):
    """What ``engines.registry.create`` returns; see "Adding an engine" in the README."""

    name: str
    request_type: type  # the dataclass ``generate`` takes

    @property
    def loaded(self) -> bool: ...

    def load(self, progress: ProgressCallback, cancel: CancelToken | None = None) -> None:
        """Load weights (lazily importing torch etc.); safe to call twice."""

    def unload(self) -> None:
        """Free the weights and any device memory."""

    def generate(
        self, request: Any, progress: ProgressCallback, cancel: CancelToken | None = None
    ) -> list[GeneratedTake]:
        """Make one or more takes; checks ``cancel`` between steps."""
        ...
