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

# Preferences (desktop.ui.preferences); the sound devices' keys are the engine layer's
# (engines.settings), as `timbre devices --sound` reads them too.
EXPORT_FORMATS = ("wav", "flac", "ogg", "mp3", "opus", "m4a")
MP3_BITRATES = (96, 128, 160, 192, 224, 256, 320)  # kbit/s
LOUDNESS_CHOICES = ("keep", "podcast", "podcast-mono", "ebu-r128", "streaming")  # engines.podcast.presets
declare(
    Setting("export/format", "wav", str, choices=EXPORT_FORMATS),
    Setting("export/mp3_bitrate", 192, int, choices=MP3_BITRATES),
    Setting("export/loudness_preset", "keep", str, choices=LOUDNESS_CHOICES),
    Setting("recent_projects", [], list),
)
