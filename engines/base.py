"""The shape every engine has. Engines take request dataclasses and return plain data."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from engines.cancel import CancelToken, ProgressCallback
from engines.provenance import GeneratedTake


@runtime_checkable
class Engine(Protocol):
    name: str

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
