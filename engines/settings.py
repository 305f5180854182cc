"""User settings: a small JSON file under the platformdirs config folder.

Unknown keys are kept (a newer app's settings survive an older app), bad JSON is set aside
rather than crashing the app, and writes are atomic.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engines.files import write_text
from engines.paths import config_dir

DEFAULTS: dict[str, Any] = {
    "device": "auto",  # auto | cpu | cuda | cuda:N | mps
    "theme": "dark",  # dark | light | high-contrast
    "font_scale": 1.0,
    "watermark": True,
    "allow_downloads": False,
}


def settings_path() -> Path:
    return config_dir() / "settings.json"


def load_settings() -> dict[str, Any]:
    values = dict(DEFAULTS)
    path = settings_path()
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(stored, dict):
            values.update(stored)
    except FileNotFoundError:
        pass
    except (OSError, ValueError):
        # Keep the broken file for the user to inspect; run on defaults.
        try:
            path.replace(path.with_suffix(".json.broken"))
        except OSError:
            pass
    return values


def save_settings(values: dict[str, Any]) -> None:
    write_text(settings_path(), json.dumps(values, indent=2, sort_keys=True))


def get_setting(key: str) -> Any:
    return load_settings().get(key, DEFAULTS.get(key))


def set_setting(key: str, value: Any) -> None:
    values = load_settings()
    values[key] = value
    save_settings(values)
