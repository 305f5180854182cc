"""Where Timbre keeps user-level things: the model store, and (from
:mod:`engines.user_dirs`) the settings, data and log folders.

- ``TIMBRE_MODELS_DIR``: model store (Hugging Face cache layout); else the folder chosen in
  Preferences; else the data folder's ``models``
- ``TIMBRE_CONFIG_DIR``, ``TIMBRE_DATA_DIR``, ``TIMBRE_LOG_DIR``: see :mod:`engines.user_dirs`
"""

from __future__ import annotations

import os
from pathlib import Path

from engines.settings import get_setting
from engines.user_dirs import APP_AUTHOR, APP_NAME, cache_dir, config_dir, data_dir, log_dir

__all__ = ["APP_AUTHOR", "APP_NAME", "cache_dir", "config_dir", "data_dir", "log_dir", "models_dir"]


def models_dir() -> Path:
    """``TIMBRE_MODELS_DIR``, else the folder chosen in Preferences, else the data folder's."""
    override = os.environ.get("TIMBRE_MODELS_DIR")
    if override:
        return Path(override).expanduser()
    chosen = get_setting("models_dir")
    if chosen:
        return Path(chosen).expanduser()
    return data_dir() / "models"
