"""The user-level folders (settings, data, logs), under platformdirs.

Each can be redirected by an environment variable so that tests, portable installs and CI
never touch the real user folders: ``TIMBRE_CONFIG_DIR`` (settings), ``TIMBRE_DATA_DIR``
(voice library and other user data), ``TIMBRE_LOG_DIR`` (the rotating log files), ``TIMBRE_CACHE_DIR`` (what can be
measured again, such as the kernel choices of :mod:`engines.music.speed`).

Apart from :mod:`engines.paths` so that :mod:`engines.settings` can find its file without
importing the module whose model folder is itself a setting (an import cycle).
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "TimbreStudio"
APP_AUTHOR = "Timbre"


def _dir(env: str, kind: str) -> Path:
    override = os.environ.get(env)
    if override:
        path = Path(override).expanduser()
    else:
        import platformdirs

        path = Path(getattr(platformdirs, kind)(APP_NAME, APP_AUTHOR))
    return path


def config_dir() -> Path:
    return _dir("TIMBRE_CONFIG_DIR", "user_config_dir")


def data_dir() -> Path:
    return _dir("TIMBRE_DATA_DIR", "user_data_dir")


def log_dir() -> Path:
    """The rotating log files (``TIMBRE_LOG_DIR`` overrides; see :mod:`engines.logs`)."""
    return _dir("TIMBRE_LOG_DIR", "user_log_dir")


def cache_dir() -> Path:
    """Things worth keeping but safe to lose (``TIMBRE_CACHE_DIR`` overrides)."""
    return _dir("TIMBRE_CACHE_DIR", "user_cache_dir")
