"""Render resources/icons/timbre-studio.svg to the PNG sizes desktops ask for.

Run once after editing the SVG (the PNGs are committed):
``QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/render_icons.py``
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"


def main() -> int:
    _app = QGuiApplication(sys.argv)
    renderer = QSvgRenderer(str(ICONS / "timbre-studio.svg"))
    if not renderer.isValid():
        print("timbre-studio.svg does not parse", file=sys.stderr)
        return 1
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        image.save(str(ICONS / f"timbre-studio-{size}.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
