"""The one way Qt code runs work off the GUI thread, and hears back.

``run_task(fn, on_done, on_error)`` runs ``fn`` in a worker thread (its own, or a given
pool's) and calls ``on_done(result)`` / ``on_error(exc, details)`` on the GUI thread by
signal; with ``progress=`` the function also gets ``(progress, cancel)`` — a throttled
progress sink that reaches the GUI thread and the task's :class:`CancelToken` — and the
returned :class:`TaskHandle` cancels it. Nothing is shared mutably: the function's result
travels in the signal. Engine jobs (``desktop.ui.workers``) keep a model loaded on a
thread of its own per engine and report through the same kind of signals.
"""

from desktop.bridge.tasks import TaskHandle, run_task

__all__ = ["TaskHandle", "run_task"]
