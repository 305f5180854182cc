"""Mouse and keyboard gestures on the timeline, as a user makes them (QTest events)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest


def clip_point(window, clip_id: int, dx: float = 0.5) -> QPoint:
    view = window.view
    r = view.canvas.clip_rect(view.clip(clip_id))
    return QPoint(int(r.left() + dx * r.width()), int(r.center().y()))


def drag(canvas, start: QPoint, end: QPoint, steps: int = 5) -> None:
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for i in range(1, steps + 1):
        p = start + (end - start) * (i / steps)
        QTest.mouseMove(canvas, p)
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)


def shortcut(window, keys: str) -> None:
    seq = QKeySequence(keys)
    combo = seq[0]
    QTest.keyClick(window, combo.key(), combo.keyboardModifiers())
