"""Run a short task (import, export, mixdown for playback) off the GUI thread.

Engine generation has its own per-engine hosts (``desktop.ui.workers``); this is for the
one-off file work that must not freeze the window either.
"""

from __future__ import annotations

import threading
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
    owner: QObject | None = None,
) -> None:
    """Call ``fn()`` in the thread pool; ``on_done``/``on_error`` run on the GUI thread.

    With an ``owner`` (the window or panel the callbacks touch), a task that finishes after
    its owner was closed reports nowhere instead of touching deleted widgets. The owner
    defaults to the widget whose method ``on_error`` (or ``on_done``) is.
    """
    import shiboken6

    if owner is None:  # callbacks that are methods of a widget belong to that widget
        candidate = getattr(on_error, "__self__", None) or getattr(on_done, "__self__", None)
        owner = candidate if isinstance(candidate, QObject) else None
    bridge = _Bridge()
    _live.add(bridge)  # keep the bridge alive until it has reported

    def owner_gone() -> bool:
        return owner is not None and not shiboken6.isValid(owner)

    def finish(result: Any) -> None:
        _live.discard(bridge)
        if not owner_gone():
            on_done(result)

    def fail(exc: BaseException, details: str) -> None:
        _live.discard(bridge)
        if not owner_gone():
            on_error(exc, details)

    bridge.done.connect(finish)
    bridge.failed.connect(fail)
    if pool is not None:
        pool.start(_Task(fn, bridge))
        return
    # Each task gets a thread of its own rather than one reused from Qt's global pool:
    # after an export in a pool thread, the podcast master's SciPy FFT crashed (segfault in
    # pocketfft) when the same thread ran it next — state some library leaves behind in a
    # thread. A fresh thread per task costs well under a millisecond; like the pool, quitting
    # waits for a running task (an export is never cut off mid-write).
    threading.Thread(target=_Task(fn, bridge).run, name="timbre-background").start()
