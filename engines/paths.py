"""Where Timbre keeps user-level things, under platformdirs.

Each location can be redirected by an environment variable so that tests, portable installs
and CI never touch the real user folders:

- ``TIMBRE_MODELS_DIR``: model store (Hugging Face cache layout)
- ``TIMBRE_CONFIG_DIR``: settings
- ``TIMBRE_DATA_DIR``: voice library and other user data
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
    override = os.environ.get("TIMBRE_MODELS_DIR")
    if override:
        return Path(override).expanduser()
    return data_dir() / "models"


def config_dir() -> Path:
    return _dir("TIMBRE_CONFIG_DIR", "user_config_dir")


def data_dir() -> Path:
    return _dir("TIMBRE_DATA_DIR", "user_data_dir")
