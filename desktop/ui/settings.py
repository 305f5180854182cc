"""The studio's own settings, declared with their types (see ``engines.settings``).

They live here, not in the engine layer: themes, fonts and window layout mean nothing to
an engine or to the command line.
"""

from __future__ import annotations

from desktop.ui.theme import THEMES
from engines.settings import Setting, declare

declare(
    Setting("theme", "dark", str, choices=THEMES),
    Setting("font_scale", 1.0, (int, float), low=0.5, high=3.0),
    Setting("last_project", None, str),
    Setting("window_geometry", None, str),
    Setting("window_docks", None, str),
    Setting("clip_overlap", "track", str, choices=("track", "fit")),
)
