"""One-line notifications with details on demand, and the persistent warning banner.

Errors from engines and the store are written for people already (one sentence: what, which
file, what to do), so the bar shows ``str(error)`` as is; a traceback or long text goes
behind "Details…". An optional action button carries offers such as "Retry on CPU".
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMessageBox, QPushButton, QToolButton

from desktop.ui.widgets import let_shrink


class Banner(QFrame):
    """A persistent strip for conditions that last (no audio device, read-only project)."""

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self.setObjectName("banner")
        self.label = QLabel(text)
        self.label.setWordWrap(True)
        let_shrink(self.label)
        self.setAccessibleName("Warning")
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 2, 4, 2)
        row.addWidget(self.label, 1)
        close = QToolButton()
        close.setText("✕")
        close.setAccessibleName("Dismiss warning")
        close.clicked.connect(self.hide)
        row.addWidget(close)
        self.setVisible(bool(text))

    def show_text(self, text: str) -> None:
        self.label.setText(text)
        self.setAccessibleDescription(text)
        self.show()


class NotificationBar(QFrame):
    """Shows the latest message; errors stay until dismissed, info fades after a while."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("notice")
        self.setAccessibleName("Notification")
        self.label = QLabel()
        self.label.setWordWrap(True)  # a long message wraps instead of widening the window
        let_shrink(self.label)
        self.details_button = QPushButton("Details…")
        self.details_button.setAccessibleName("Show error details")
        self.details_button.clicked.connect(self._show_details)
        self.action_button = QPushButton()
        self.action_button.setAccessibleName("Notification action")
        self.action_button.clicked.connect(self._run_action)
        close = QToolButton()
        close.setText("✕")
        close.setAccessibleName("Dismiss notification")
        close.clicked.connect(self.hide)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 2, 4, 2)
        row.addWidget(self.label, 1)
        row.addWidget(self.action_button)
        row.addWidget(self.details_button)
        row.addWidget(close)
        self._details = ""
        self._action: Callable[[], None] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)
        self.history: list[str] = []
        self.hide()

    def notify(
        self,
        message: str,
        details: str = "",
        error: bool = False,
        action: tuple[str, Callable[[], None]] | None = None,
    ) -> None:
        line = message.strip().splitlines()[0] if message.strip() else "Something went wrong."
        self.history.append(line)
        if error:  # what went wrong goes to the log file too (engines.logs), for a bug report
            logging.getLogger("desktop.ui").warning("%s%s", message, f"\n{details}" if details else "")
        self.label.setText(("⚠ " if error else "") + line)
        self.label.setToolTip(message)
        self.setAccessibleDescription(line)
        self._details = details
        self.details_button.setVisible(bool(details))
        self._action = action[1] if action else None
        self.action_button.setVisible(action is not None)
        if action:
            self.action_button.setText(action[0])
            self.action_button.setAccessibleName(action[0])
        self.show()
        if error or action:
            self._timer.stop()
        else:
            self._timer.start(6000)

    def task_failed(self, exc: BaseException, details: str) -> None:
        """A background task's failure (run_task's ``failed``): the studio's own errors say
        themselves; anything else is unexpected, so its type is kept in the words."""
        from engines.errors import TimbreError

        known = isinstance(exc, TimbreError)
        self.notify(str(exc) if known else f"{type(exc).__name__}: {exc}", details=details, error=True)

    def _show_details(self) -> None:
        box = QMessageBox(self.window())
        box.setWindowTitle("Details")
        box.setText(self.label.text())
        box.setDetailedText(self._details)
        box.open()

    def _run_action(self) -> None:
        action, self._action = self._action, None
        self.hide()
        if action is not None:
            action()
