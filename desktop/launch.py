"""Starting the studio window, safely.

With no display and no ``QT_QPA_PLATFORM``, ``QApplication()`` aborts the process with no
traceback; we check first and print one line instead.
"""

from __future__ import annotations

import os
import sys


def has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def launch_studio(project: str | None = None, screenshot: str | None = None) -> int:
    if screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if not has_display():
        print(
            "timbre: no display found (DISPLAY is not set), so the studio window cannot open; "
            "use the command line instead (timbre --help), or run under Xvfb "
            "(xvfb-run timbre).",
            file=sys.stderr,
        )
        return 2
    from desktop.ui.app import run_app

    return run_app(project=project, screenshot=screenshot)
