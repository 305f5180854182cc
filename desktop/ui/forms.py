"""A parameter form built from an engine's request dataclass.

Why generated: each engine owns its request dataclass (``engines.*``), and new parameters
must appear in the panel without GUI changes. A field's widget follows its type; its label,
range and tooltip come from ``engines.fields`` — the field's own ``metadata`` first, else the
shared explanations there — the same source the command line's ``timbre run`` flags use.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engines.audio import AudioClip
from engines.audio_io import import_filter
from engines.errors import BadInput
from engines.fields import (
    AUDIO_FILE_FIELDS,
    TEXT_FIELDS,
    default_of,
    editable_fields,
    help_for,
    label_for,
    range_for,
)

DEFAULT_CHOICE = "Default"  # an optional pick-list's "let the engine choose"
FIELD_CHARS = 10  # the narrowest a form field gets, in characters


def add_choices(box: QComboBox, options: list) -> None:
    """Pick-list entries: a plain value, or (value, label) to show words for a code
    (Kokoro's "jf_alpha" shows as "jf_alpha — Japanese, female")."""
    for option in options:
        value, label = option if isinstance(option, tuple) else (option, option)
        box.addItem(str(label), str(value))


def choose(box: QComboBox, value: Any) -> None:
    """Select the entry whose value (else whose label) is ``value``; an editable box takes
    any other text as typed."""
    index = box.findData(str(value))
    if index < 0:
        index = box.findText(str(value))
    if index >= 0:
        box.setCurrentIndex(index)
    elif box.isEditable():
        box.setCurrentText(str(value))


class RequestForm(QWidget):
    """Widgets for every init field of ``request_type``; ``request()`` builds the dataclass."""

    def __init__(
        self,
        request_type: type,
        choices: dict[str, list[str]] | None = None,
        clip_provider: Callable[[], AudioClip | None] | None = None,
        hidden: frozenset[str] = frozenset(),
        helps: dict[str, str] | None = None,
    ) -> None:
        """``hidden``: fields this panel does not offer (Sound effects has no melody);
        ``helps``: the panel's own words for a field (its placeholder and tooltip)."""
        super().__init__()
        self.request_type = request_type
        self.helps = helps or {}
        self.clip_provider = clip_provider
        self.layout_ = QFormLayout()
        self.layout_.setContentsMargins(0, 0, 0, 0)
        outer = QVBoxLayout(self)  # the rows stay together at the top of a tall panel
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(self.layout_)
        outer.addStretch(1)
        self.readers: dict[str, Callable[[], Any]] = {}
        self.widgets: dict[str, QWidget] = {}
        choices = choices or {}
        for f, hint, optional in editable_fields(request_type):
            if f.name in hidden:
                continue
            widget, reader = self._widget_for(f, hint, optional, choices.get(f.name))
            if widget is None:
                continue
            # a field asks for a few characters at least, not its whole range ("2147483647"):
            # the panel, and so the window, stays narrow enough for a 1280 px screen
            widget.setMinimumWidth(min(widget.minimumSizeHint().width(),
                                       widget.fontMetrics().averageCharWidth() * FIELD_CHARS))
            words = self.helps.get(f.name) or help_for(f)
            if isinstance(widget, QPlainTextEdit):
                widget.setPlaceholderText(words)
            widget.setToolTip(words)
            widget.setAccessibleName(label_for(f))
            widget.setAccessibleDescription(words)
            self.layout_.addRow(label_for(f), widget)
            self.readers[f.name] = reader
            self.widgets[f.name] = widget

    def _widget_for(self, f: dataclasses.Field, hint: Any, optional: bool, extra: list[str] | None):
        default = default_of(f)
        meta = f.metadata
        options = meta.get("choices") or extra
        if typing.get_origin(hint) is typing.Literal:
            options = [str(a) for a in typing.get_args(hint)]
        if options:
            box = QComboBox()
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(8)
            box.setEditable(bool(extra) and not meta.get("choices"))
            if optional:
                box.addItem(DEFAULT_CHOICE)
            add_choices(box, options)
            if default is not None:
                choose(box, default)

            def read_choice() -> str | None:
                text = box.currentText().strip()
                index = box.findText(text)
                value = box.itemData(index) if index >= 0 and box.itemData(index) is not None else text
                return None if optional and text in ("", DEFAULT_CHOICE) else value

            return box, read_choice
        if hint is bool:
            check = QCheckBox(label_for(f))
            if optional:  # None = "use my setting": the third, partly-checked state
                check.setTristate(True)
                check.setCheckState(Qt.CheckState.PartiallyChecked if default is None else
                                    Qt.CheckState.Checked if default else Qt.CheckState.Unchecked)
                check.setToolTip(help_for(f) + " (half-checked: use the setting)")
                return check, lambda: {Qt.CheckState.PartiallyChecked: None,
                                       Qt.CheckState.Checked: True}.get(check.checkState(), False)
            check.setChecked(bool(default))
            return check, check.isChecked
        if hint is AudioClip and f.name in AUDIO_FILE_FIELDS:
            return self._file_picker(f, AudioClip, optional, None)
        if hint is AudioClip:
            check = QCheckBox("Use the selected clip")
            return check, lambda: self._selected_clip() if check.isChecked() else None
        if hint is int:
            lo, hi, step = range_for(f, int)
            spin = QSpinBox()
            spin.setRange(int(lo), int(hi))
            spin.setSingleStep(int(step))
            if f.name == "seed" or optional:
                spin.setMinimum(-1)
                spin.setSpecialValueText("random")
            spin.setValue(int(default) if default is not None else spin.minimum())
            return spin, lambda: (None if optional and spin.value() == -1 else spin.value())
        if hint is float:
            lo, hi, step = range_for(f, float)
            dspin = QDoubleSpinBox()
            dspin.setDecimals(2)
            dspin.setRange(float(lo), float(hi))
            dspin.setSingleStep(float(step))
            dspin.setValue(float(default) if default is not None else dspin.minimum())
            return dspin, dspin.value
        if hint is Path or (hint is str and any(k in f.name for k in ("path", "file", "melody"))):
            return self._file_picker(f, hint, optional, default)
        if hint is str:
            if f.name in TEXT_FIELDS:
                edit = QPlainTextEdit(str(default or ""))
                edit.setTabChangesFocus(True)
                edit.setPlaceholderText(help_for(f))
                edit.setMinimumHeight(70)
                edit.setMaximumHeight(140)
                return edit, edit.toPlainText
            line = QLineEdit(str(default or ""))
            return line, lambda: (line.text() or None) if optional else line.text()
        return None, None  # a type the form cannot edit keeps the engine's default

    def _file_picker(self, f: dataclasses.Field, hint: Any, optional: bool, default: Any):
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        line = QLineEdit(str(default or ""))
        line.setAccessibleName(label_for(f))
        browse = QPushButton("Browse…")
        browse.setAccessibleName(f"Choose a file for {label_for(f)}")
        browse.clicked.connect(lambda: line.setText(
            QFileDialog.getOpenFileName(self, label_for(f), "", import_filter("Audio"))[0]
            or line.text()))
        row.addWidget(line, 1)
        row.addWidget(browse)

        def read() -> Any:
            text = line.text().strip()
            if not text:
                return None if optional else ("" if hint is str else None)
            if hint is AudioClip:
                from engines.audio_io import read_audio

                return read_audio(text)
            return Path(text) if hint is Path else text

        return box, read

    def _selected_clip(self) -> AudioClip:
        clip = self.clip_provider() if self.clip_provider else None
        if clip is None:
            raise BadInput("Select a clip on the timeline to continue from, or untick "
                           "'Use the selected clip'.")
        return clip

    def values(self) -> dict[str, Any]:
        return {name: read() for name, read in self.readers.items()}

    def set_value(self, name: str, value: Any) -> None:
        """Set a field from code (used by tests and by 'Examples')."""
        w = self.widgets[name]
        if isinstance(w, QPlainTextEdit):
            w.setPlainText(str(value))
        elif isinstance(w, QComboBox):
            choose(w, value)
        elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
            w.setValue(value)
        elif isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QLineEdit):
            w.setText(str(value))
        else:
            w.findChild(QLineEdit).setText(str(value))

    def state(self) -> dict[str, Any]:
        """What the user typed and picked, as plain values (kept across an engine switch and
        saved with the project), not the request: a file field keeps its path, not its audio."""
        out: dict[str, Any] = {}
        for name, w in self.widgets.items():
            if isinstance(w, QPlainTextEdit):
                out[name] = w.toPlainText()
            elif isinstance(w, QComboBox):
                if w.currentText() == DEFAULT_CHOICE:
                    continue  # "let the engine choose" is no value to carry to another form
                index = w.findText(w.currentText())
                data = w.itemData(index) if index >= 0 else None
                out[name] = data if data is not None else w.currentText()
            elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
                out[name] = w.value()
            elif isinstance(w, QCheckBox):
                out[name] = w.checkState().value
            elif isinstance(w, QLineEdit):
                out[name] = w.text()
            elif w.findChild(QLineEdit) is not None:
                out[name] = w.findChild(QLineEdit).text()
        return out

    def restore(self, state: dict[str, Any]) -> None:
        """Put back the values of fields this form shares with ``state``; a pick-list keeps
        its own choice when the saved one is not on it (another engine's voice)."""
        for name, value in state.items():
            w = self.widgets.get(name)
            try:
                if w is None or value == DEFAULT_CHOICE:  # saved by an older form: no value
                    continue
                if isinstance(w, QComboBox):
                    if w.findData(str(value)) >= 0 or w.findText(str(value)) >= 0:
                        choose(w, value)
                elif isinstance(w, QCheckBox):
                    w.setCheckState(Qt.CheckState(int(value)))
                elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
                    w.setValue(type(w.value())(value))
                else:
                    self.set_value(name, value)
            except (TypeError, ValueError):
                continue  # a value saved by an older form: the field keeps its default

    def request(self) -> Any:
        try:
            return self.request_type(**self.values())
        except TypeError as exc:
            raise BadInput(f"These settings do not make a valid request: {exc}.") from exc
