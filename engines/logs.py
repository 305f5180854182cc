"""The log file: what the studio and the command line did, for a bug report or a support question.

One rotating file per face of the app (``studio.log``, ``cli.log``) under the platformdirs
user log folder (:func:`engines.paths.log_dir`), because two processes rotating one file
would rename it under each other. Each is capped at :data:`MAX_BYTES` with
:data:`BACKUPS` old copies, so a long-running install never fills a disk with logs.

The app's own loggers (``engines.*``, ``desktop.*``) log from INFO; other libraries only
their warnings. Uncaught exceptions (including those in Qt slots and worker threads) are
written too, with their traceback. Logging never stops the app: a folder that cannot be
written means no log file, not an error.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import threading
from pathlib import Path

from engines.paths import log_dir

MAX_BYTES = 1_000_000
BACKUPS = 3
FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"
APP_LOGGERS = ("engines", "desktop", "timbre")

_handler: logging.handlers.RotatingFileHandler | None = None
log = logging.getLogger("timbre")


def log_file(role: str = "studio") -> Path:
    """Where ``role``'s log ("studio" or "cli") is written (it may not exist yet)."""
    return log_dir() / f"{role}.log"


def setup_logging(role: str = "studio") -> Path | None:
    """Send this process's log to ``role``'s rotating file; the file's path, or None when
    it cannot be written. Calling again (a test, another role) moves the one handler."""
    global _handler
    path = log_file(role)
    root = logging.getLogger()
    if _handler is not None:
        if _handler.baseFilename == os.path.abspath(path):
            return path
        root.removeHandler(_handler)
        _handler.close()
        _handler = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=False)
    except OSError:
        # No file, and no stray copy on stderr either: with no handler at all, logging's
        # last resort would print each warning ("failed: …") after the CLI's own line.
        for name in APP_LOGGERS:
            app_logger = logging.getLogger(name)
            if not any(isinstance(h, logging.NullHandler) for h in app_logger.handlers):
                app_logger.addHandler(logging.NullHandler())
        return None
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.WARNING:
        root.setLevel(logging.WARNING)
    for name in APP_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
    _handler = handler
    _hook_uncaught()
    return path


def close_logging() -> None:
    """Detach and close the file (tests; the interpreter closes it on exit anyway)."""
    global _handler
    if _handler is not None:
        logging.getLogger().removeHandler(_handler)
        _handler.close()
        _handler = None


_hooked = False


def _hook_uncaught() -> None:
    """Log uncaught exceptions, then let the previous hooks print them as before."""
    global _hooked
    if _hooked:
        return
    _hooked = True
    previous = sys.excepthook
    previous_thread = threading.excepthook

    def hook(kind, value, tb) -> None:
        if not issubclass(kind, KeyboardInterrupt):
            log.error("uncaught exception", exc_info=(kind, value, tb))
        previous(kind, value, tb)

    def thread_hook(args) -> None:
        if args.exc_type is not SystemExit:
            log.error("uncaught exception in thread %s", getattr(args.thread, "name", "?"),
                      exc_info=(args.exc_type, args.exc_value, args.exc_traceback))
        previous_thread(args)

    sys.excepthook = hook
    threading.excepthook = thread_hook
