"""QApplication set-up and the studio's entry point (filled in by the studio-window work)."""

from __future__ import annotations

import sys


def run_app(project: str | None = None, screenshot: str | None = None) -> int:
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication.instance() or QApplication(sys.argv[:1])
    label = QLabel("Timbre Studio")
    label.resize(640, 400)
    if screenshot:
        label.grab().save(screenshot)
        return 0
    label.show()
    return app.exec()
