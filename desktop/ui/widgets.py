"""Small widgets shared by the panels: a one-line label that elides instead of widening.

Why: a QLabel asks for the width of its whole text, so one long take name, undo label or
message raised the window's minimum width past the screen (issue 17). These labels ask for
a few characters and cut the rest with "…" (the full text stays in the tooltip).
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

MIN_CHARS = 6  # an elided label never asks for more room than this many characters


class ElidedLabel(QLabel):
    """Plain text on one line, elided at the right (or in the middle, to keep an ending
    such as a variation's "(2)") when the label is narrower than its text."""

    def __init__(self, text: str = "", parent: QWidget | None = None,
                 mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight) -> None:
        super().__init__(parent)
        self._full = ""
        self._mode = mode
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt API
        self._full = text
        self.setToolTip(text)
        self._elide()

    def full_text(self) -> str:
        return self._full

    def text(self) -> str:  # the whole text, as tests and screen readers expect
        return self._full

    def shown_text(self) -> str:
        """What is drawn right now (the elided text)."""
        return super().text()

    def _elide(self) -> None:
        width = max(0, self.width() - 2)
        shown = self.fontMetrics().elidedText(self._full, self._mode, width) if width else self._full
        super().setText(shown)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._elide()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(self.fontMetrics().averageCharWidth() * MIN_CHARS, super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(self.fontMetrics().horizontalAdvance(self._full) + 4, super().sizeHint().height())


def let_shrink(widget: QWidget) -> QWidget:
    """Let a word-wrapped label (or any widget) be narrower than its text asks for: the
    layout then wraps it to the width it has instead of widening the window."""
    widget.setSizePolicy(QSizePolicy.Policy.Ignored, widget.sizePolicy().verticalPolicy())
    return widget
