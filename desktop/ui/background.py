"""Run a short task (import, export, mixdown for playback) off the GUI thread.

Engine generation has its own per-engine hosts (``desktop.ui.workers``); this is for the
one-off file work that must not freeze the window either.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class _Bridge(QObject):
    done = Signal(object)
    failed = Signal(object, str)


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any], bridge: _Bridge) -> None:
        super().__init__()
        self.fn, self.bridge = fn, bridge

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # noqa: BLE001 - handed to the GUI as a notification
            self.bridge.failed.emit(exc, traceback.format_exc())
            return
        self.bridge.done.emit(result)


_live: set[_Bridge] = set()


def run_in_background(
    fn: Callable[[], Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[BaseException, str], None],
    pool: QThreadPool | None = None,
) -> None:
    """Call ``fn()`` in the thread pool; ``on_done``/``on_error`` run on the GUI thread."""
    bridge = _Bridge()
    _live.add(bridge)  # keep the bridge alive until it has reported

    def finish(result: Any) -> None:
        _live.discard(bridge)
        on_done(result)

    def fail(exc: BaseException, details: str) -> None:
        _live.discard(bridge)
        on_error(exc, details)

    bridge.done.connect(finish)
    bridge.failed.connect(fail)
    (pool or QThreadPool.globalInstance()).start(_Task(fn, bridge))
