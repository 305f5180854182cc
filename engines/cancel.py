"""Cancellation and progress, shared by every engine.

Engines check the token between steps (one autoregressive step, one sentence, one chunk),
so a cancel takes effect within one step even while a worker thread is busy.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from engines.errors import Cancelled


@dataclass(frozen=True)
class Progress:
    """How far a job is: ``done`` of ``total`` units in the named ``stage``."""

    done: float
    total: float
    stage: str = ""

    @property
    def fraction(self) -> float:
        if self.total <= 0:
            return 0.0
        return min(1.0, max(0.0, self.done / self.total))


ProgressCallback = Callable[[Progress], None]


def no_progress(_: Progress) -> None:
    """Default progress sink."""


class CancelToken:
    """Thread-safe flag a worker polls; ``check()`` raises :class:`Cancelled` once set."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled()
