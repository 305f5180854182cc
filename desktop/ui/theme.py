"""Themes: Fusion with a dark (default), light or high-contrast palette, and font scaling.

Why a palette and not a style sheet: Fusion draws every widget from the palette, so one
table of colours themes the whole app (and pyqtgraph follows via ``plot_colors``); the
platform colour-scheme hint does nothing without a platform theme (offscreen, Xvfb).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPen
from PySide6.QtWidgets import QApplication, QWidget

THEMES = ("dark", "light", "high-contrast")


@dataclass(frozen=True)
class Colors:
    window: str
    base: str
    alt_base: str
    text: str
    dim_text: str
    button: str
    highlight: str
    highlight_text: str
    # timeline
    track_bg: str
    track_alt_bg: str
    clip: str
    clip_selected: str
    wave: str
    playhead: str
    selection: str
    ruler: str
    grid: str
    warn_bg: str = "#6b4e16"
    warn_text: str = "#ffffff"


DARK = Colors(
    window="#24262b", base="#1b1d21", alt_base="#2a2d33", text="#e6e6e6", dim_text="#9aa0a6",
    button="#31343a", highlight="#3d8fd1", highlight_text="#ffffff",
    track_bg="#1f2126", track_alt_bg="#23262b", clip="#2f5f8a", clip_selected="#4a8fd0",
    wave="#cfe6ff", playhead="#ff5c5c", selection="#3d8fd155", ruler="#2b2e34", grid="#33363c",
)
LIGHT = Colors(
    window="#efefef", base="#ffffff", alt_base="#f5f5f5", text="#1d1d1d", dim_text="#5f6368",
    button="#e3e3e3", highlight="#2a7bd0", highlight_text="#ffffff",
    track_bg="#f7f7f7", track_alt_bg="#eeeeee", clip="#9cc3ea", clip_selected="#5a9be0",
    wave="#17406b", playhead="#d21f1f", selection="#2a7bd044", ruler="#e2e2e2", grid="#d5d5d5",
    warn_bg="#fff1c2", warn_text="#4a3500",
)
HIGH_CONTRAST = Colors(
    window="#000000", base="#000000", alt_base="#101010", text="#ffffff", dim_text="#a8a8a8",
    button="#000000", highlight="#ffff00", highlight_text="#000000",
    track_bg="#000000", track_alt_bg="#0c0c0c", clip="#003a80", clip_selected="#0060ff",
    wave="#ffffff", playhead="#ff3030", selection="#ffff0055", ruler="#1a1a1a", grid="#5a5a5a",
    warn_bg="#ffff00", warn_text="#000000",
)
_BY_NAME = {"dark": DARK, "light": LIGHT, "high-contrast": HIGH_CONTRAST}

_current = DARK


def colors() -> Colors:
    """The colours of the theme in use (custom-painted widgets read them at paint time)."""
    return _current


def _palette(c: Colors) -> QPalette:
    p = QPalette()
    role = QPalette.ColorRole
    for r, value in (
        (role.Window, c.window), (role.WindowText, c.text), (role.Base, c.base),
        (role.AlternateBase, c.alt_base), (role.ToolTipBase, c.alt_base),
        (role.ToolTipText, c.text), (role.Text, c.text), (role.Button, c.button),
        (role.ButtonText, c.text), (role.BrightText, "#ff4040"), (role.Link, c.highlight),
        (role.Highlight, c.highlight), (role.HighlightedText, c.highlight_text),
        (role.PlaceholderText, c.dim_text),
    ):
        p.setColor(r, QColor(value))
    disabled = QPalette.ColorGroup.Disabled
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(disabled, r, QColor(c.dim_text))
    return p


def apply_theme(app: QApplication, name: str = "dark", font_scale: float = 1.0) -> Colors:
    """Apply a theme by name (unknown names fall back to dark) and scale the UI font."""
    global _current
    _current = _BY_NAME.get(name, DARK)
    app.setStyle("Fusion")
    app.setPalette(_palette(_current))
    base = app.property("timbre_base_point_size")
    if base is None:
        base = app.font().pointSizeF() if app.font().pointSizeF() > 0 else 10.0
        app.setProperty("timbre_base_point_size", base)
    font = QFont(app.font())
    font.setPointSizeF(max(6.0, float(base) * max(0.5, min(3.0, float(font_scale)))))
    app.setFont(font)
    install_focus_ring(app)
    border = "#ffffff" if _current is HIGH_CONTRAST else _current.grid
    outlines = (  # high contrast: every control gets a visible white outline
        "QPushButton, QToolButton, QComboBox, QLineEdit, QAbstractSpinBox, QPlainTextEdit,"
        " QListWidget, QTextBrowser, QTableWidget { border: 1px solid #ffffff; padding: 2px; }"
        "QPushButton:focus, QToolButton:focus, QComboBox:focus, QLineEdit:focus,"
        " QAbstractSpinBox:focus, QPlainTextEdit:focus { border: 2px solid #ffff00; }"
        "QPushButton:disabled, QToolButton:disabled { border: 1px dashed #808080; }"
        if _current is HIGH_CONTRAST else ""
    )
    app.setStyleSheet(
        outlines +
        f"QDockWidget::title {{ padding: 4px; background: {_current.alt_base}; }}"
        f"QToolTip {{ color: {_current.text}; background: {_current.alt_base};"
        f" border: 1px solid {border}; }}"
        f"#banner {{ background: {_current.warn_bg}; padding: 4px; }}"
        f"#banner QLabel, #banner QToolButton {{ color: {_current.warn_text};"
        f" border-color: {_current.warn_text}; background: transparent; }}"
        f"#notice {{ background: {_current.alt_base}; border-top: 1px solid {border}; }}"
    )
    return _current


FOCUS_RING_PX = 2


class FocusRing(QWidget):
    """A 2 px ring in the theme's highlight colour over whichever control has keyboard focus.

    Why a painted ring and not a ``:focus`` style sheet: Fusion marks focus with a 1 px line,
    or not at all (lists, check boxes, text views, the timeline), so keyboard users lost
    their place (issue 17); a style sheet that draws borders takes over the whole control's
    drawing and lost the arrows of combo and spin boxes. The ring is a mouse-transparent
    child laid over the focused control's edge, so it follows it wherever it moves or scrolls.
    """

    def __init__(self) -> None:
        super().__init__()
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setObjectName("focusRing")
        self.target: QWidget | None = None
        self.hide()

    def follow(self, widget: QWidget | None) -> None:
        """Move onto ``widget`` (None: hide)."""
        import shiboken6

        if self.target is not None and shiboken6.isValid(self.target):
            self.target.removeEventFilter(self)
        self.target = widget if widget is not None and ring_wanted(widget) else None
        if self.target is None:
            self.hide()
            self.setParent(None)
            return
        self.setParent(self.target)
        self.target.installEventFilter(self)
        self.setGeometry(self.target.rect())
        self.raise_()
        self.show()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if self.target is not None and watched is self.target and event.type() in (QEvent.Type.Resize, QEvent.Type.ChildAdded):
            self.setGeometry(self.target.rect())
            self.raise_()
        return False

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.setPen(QPen(QColor(_current.highlight), FOCUS_RING_PX))
        half = FOCUS_RING_PX / 2
        p.drawRect(self.rect().toRectF().adjusted(half, half, -half, -half))
        p.end()


def ring_wanted(widget: QWidget) -> bool:
    """Controls the keyboard reaches get the ring; menus, popups and the ring do not."""
    return (widget.focusPolicy() != Qt.FocusPolicy.NoFocus and not widget.isWindow()
            and widget.objectName() != "focusRing" and widget.window().windowType() in (
                Qt.WindowType.Window, Qt.WindowType.Dialog))


_ring: FocusRing | None = None


def focus_ring() -> FocusRing:
    """The application's ring (made again if a deleted control took it along)."""
    global _ring
    import shiboken6

    if _ring is None or not shiboken6.isValid(_ring):
        _ring = FocusRing()
    return _ring


def install_focus_ring(app: QApplication) -> None:
    """One ring for the application; it follows focus from control to control."""
    if not app.property("timbre_focus_ring"):
        app.setProperty("timbre_focus_ring", True)
        app.focusChanged.connect(lambda _old, new: focus_ring().follow(new))
