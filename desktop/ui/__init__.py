"""The Qt studio window (PySide6 + pyqtgraph). Only this package imports Qt."""

from desktop.ui import settings as _settings  # noqa: E402,F401 - declares the studio's settings
