"""``run_task``: one worker primitive for one-off background work (see the package doc).

Import, export, mastering, playback mixdowns, voice-library work, bank checks, model
imports, waveform peaks and spectrogram tiles all go through it, so a new kind of
background work needs no new signal bridge.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from engines.cancel import CancelToken, Progress

PROGRESS_INTERVAL_S = 0.1  # at most ten progress updates a second reach the GUI


class _Bridge(QObject):
    done = Signal(object)
    failed = Signal(object, str)
    progressed = Signal(object)


class TaskHandle:
    """A running task: ``cancel()`` asks it to stop at its next check."""

    def __init__(self) -> None:
        self.token = CancelToken()

    def cancel(self) -> None:
        self.token.cancel()

    @property
    def cancelled(self) -> bool:
        return self.token.cancelled


class _Task(QRunnable):
    def __init__(self, call: Callable[[], Any], bridge: _Bridge) -> None:
        super().__init__()
        self.call, self.bridge = call, bridge

    def run(self) -> None:
        try:
            result = self.call()
        except Exception as exc:  # noqa: BLE001 - handed to the GUI as a notification
            self.bridge.failed.emit(exc, traceback.format_exc())
            return
        self.bridge.done.emit(result)


_live: set[_Bridge] = set()


def run_task(
    fn: Callable[..., Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[BaseException, str], None],
    *,
    progress: Callable[[Progress], None] | None = None,
    pool: QThreadPool | None = None,
    owner: QObject | None = None,
) -> TaskHandle:
    """Call ``fn()`` — or ``fn(progress, cancel)`` when ``progress`` is given — off the GUI
    thread; ``on_done``/``on_error``/``progress`` run on the GUI thread.

    With an ``owner`` (the window or panel the callbacks touch), a task that finishes after
    its owner was closed reports nowhere instead of touching deleted widgets. The owner
    defaults to the widget whose method ``on_error`` (or ``on_done``) is.
    """
    import shiboken6

    if owner is None:  # callbacks that are methods of a widget belong to that widget
        candidate = getattr(on_error, "__self__", None) or getattr(on_done, "__self__", None)
        owner = candidate if isinstance(candidate, QObject) else None
    handle = TaskHandle()
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
    call: Callable[[], Any] = fn
    if progress is not None:
        bridge.progressed.connect(lambda p: None if owner_gone() else progress(p))
        last: list[Any] = [0.0, None]  # when the last update went, and its stage

        def sink(p: Progress) -> None:
            handle.token.check()
            now = time.monotonic()
            # a new stage (a message) always goes through; counts are throttled
            if now - last[0] >= PROGRESS_INTERVAL_S or p.fraction >= 1.0 or p.stage != last[1]:
                last[0], last[1] = now, p.stage
                bridge.progressed.emit(p)

        def call() -> Any:
            return fn(sink, handle.token)

    if pool is not None:
        pool.start(_Task(call, bridge))
        return handle
    # Each task gets a thread of its own rather than one reused from Qt's global pool:
    # after an export in a pool thread, the podcast master's SciPy FFT crashed (segfault in
    # pocketfft) when the same thread ran it next — state some library leaves behind in a
    # thread. A fresh thread per task costs well under a millisecond; like the pool, quitting
    # waits for a running task (an export is never cut off mid-write).
    threading.Thread(target=_Task(call, bridge).run, name="timbre-background").start()
    return handle
