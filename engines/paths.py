"""Where Timbre keeps user-level things, under platformdirs.

Each location can be redirected by an environment variable so that tests, portable installs
and CI never touch the real user folders:

- ``TIMBRE_MODELS_DIR``: model store (Hugging Face cache layout)
- ``TIMBRE_CONFIG_DIR``: settings
- ``TIMBRE_DATA_DIR``: voice library and other user data
- ``TIMBRE_LOG_DIR``: the rotating log files
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


def models_dir() -> Path:
    """``TIMBRE_MODELS_DIR``, else the folder chosen in Preferences, else the data folder's."""
    override = os.environ.get("TIMBRE_MODELS_DIR")
    if override:
        return Path(override).expanduser()
    from engines.settings import get_setting  # here: engines.settings imports this module

    chosen = get_setting("models_dir")
    if chosen:
        return Path(chosen).expanduser()
    return data_dir() / "models"


def config_dir() -> Path:
    return _dir("TIMBRE_CONFIG_DIR", "user_config_dir")


def data_dir() -> Path:
    return _dir("TIMBRE_DATA_DIR", "user_data_dir")


def log_dir() -> Path:
    """The rotating log files (``TIMBRE_LOG_DIR`` overrides; see :mod:`engines.logs`)."""
    return _dir("TIMBRE_LOG_DIR", "user_log_dir")
