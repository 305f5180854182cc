"""User settings: a small JSON file under the platformdirs config folder.

Unknown keys are kept (a newer app's settings survive an older app), bad JSON is set aside
rather than crashing the app, and writes are atomic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engines.files import write_text
from engines.user_dirs import config_dir


@dataclass(frozen=True)
class Setting:
    """One declared setting: its type, default and allowed values.

    Every key is declared where it belongs (the engine layer's here, the studio's in
    ``desktop.ui.settings``), so a typo is an error at once and a hand-edited or older
    settings file with a wrong value reads as the default instead of crashing the app.
    """

    key: str
    default: Any
    kind: type | tuple[type, ...]
    choices: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None

    def valid(self, value: Any) -> bool:
        if value is None:
            return self.default is None
        if isinstance(value, bool) and self.kind in (int, float):
            return False
        if not isinstance(value, self.kind):
            return False
        if self.choices and value not in self.choices:
            return False
        if self.low is not None and value < self.low:
            return False
        return self.high is None or value <= self.high


_DECLARED: dict[str, Setting] = {}


def declare(*settings: Setting) -> None:
    for setting in settings:
        _DECLARED[setting.key] = setting


def _declared(key: str) -> Setting:
    try:
        return _DECLARED[key]
    except KeyError:
        raise KeyError(f"the setting '{key}' is not declared (engines.settings.declare)") from None


declare(
    Setting("device", "auto", str),  # auto | cpu | cuda | cuda:N | mps (checked by engines.devices)
    Setting("watermark", True, bool),
    Setting("allow_downloads", False, bool),
    Setting("models_dir", None, str),  # the model store's folder (Preferences); None: data folder
    # MusicGen/AudioGen when no speed is given (Preferences, `timbre music` without --speed):
    # fast keeps float32's audio; reduced takes a checked reduced-precision kernel
    Setting("music/speed", "fast", str, ("fast", "reduced")),
    # Sound devices by name, not PortAudio's number (which changes when a USB microphone is
    # plugged in); None: the system default. See engines.sound_devices.
    Setting("audio/input_device", None, str),
    Setting("audio/output_device", None, str),
)


def settings_path() -> Path:
    return config_dir() / "settings.json"


def load_settings() -> dict[str, Any]:
    """Every stored value (unknown keys kept, for a newer app's sake) over the defaults."""
    values = {key: s.default for key, s in _DECLARED.items()}
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
    """The stored value when it is valid for the declaration, else the default."""
    setting = _declared(key)
    value = load_settings().get(key, setting.default)
    return value if setting.valid(value) else setting.default


def set_setting(key: str, value: Any) -> None:
    setting = _declared(key)
    if not setting.valid(value):
        raise ValueError(f"{value!r} is not a valid value for the setting '{key}'")
    values = load_settings()
    values[key] = value
    save_settings(values)
