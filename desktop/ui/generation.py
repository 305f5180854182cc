"""Generation panels: Music, Sound effects and Speech.

Each panel lists the registry's engines of its kind, shows why an engine cannot run here
(``engines.registry.engine_infos``), and builds its parameter form from the engine's request
dataclass (``Engine.request_type``, else the annotation of ``generate``'s ``request``). The
engine module is imported only when the panel is first shown, and never torch: engines
import it when a job loads them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.forms import TEXT_FIELDS, RequestForm
from desktop.ui.widgets import let_shrink
from engines.audio import AudioClip
from engines.errors import EngineError
from engines.registry import EngineInfo, engine_infos, request_type

EXAMPLES = {
    "music": [
        "warm lo-fi hip hop beat with vinyl crackle and soft piano, 80 bpm",
        "epic orchestral trailer music with big drums and brass",
        "calm acoustic guitar and light percussion for a podcast intro",
        "upbeat synthwave with driving bass and bright arpeggios, 118 bpm",
    ],
    "sfx": [
        "footsteps on gravel, slow walk",
        "heavy rain on a tin roof with distant thunder",
        "a wooden door creaking open",
        "birds chirping in a morning forest",
    ],
    "speech": [
        "Welcome back to the show. Today we talk about sound.",
        "Thank you for calling. Please hold while we connect you.",
        "Once upon a time, in a quiet village by the sea, there lived a clockmaker.",
    ],
}
KIND_TITLES = {"music": "Music", "sfx": "Sound effects", "speech": "Speech"}
# Each panel's own words for shared fields (AudioGen takes MusicGen's request type), and the
# fields a panel does not offer: sound effects follow no melody.
HELPS = {"sfx": {"prompt": "Describe the sound: what makes it, where, how near, how long.",
                 "description": "Describe the sound: what makes it, where, how near, how long."}}
HIDDEN = {"sfx": frozenset({"melody", "melody_path"})}
WATERMARK_TIP = ("Mark the takes with an inaudible watermark that says they were generated "
                 "(starts as Settings › Watermark generated audio says).")


def request_type_for(engine_name: str) -> type | None:
    """The request dataclass of an engine (None: the engine gives no form)."""
    try:
        return request_type(engine_name)
    except EngineError:
        return None


class GenerationPanel(QWidget):
    generate_requested = Signal(str, str, object, str, object)  # engine, kind, request, label, options
    refused = Signal(str)  # why the request could not be made (bad input, no engine)

    def __init__(
        self,
        kind: str,
        choices: Callable[[str], dict[str, list[str]]] | None = None,
        clip_provider: Callable[[], AudioClip | None] | None = None,
        prepare: Callable[[str, Any], tuple[str, Any]] | None = None,
        models: Callable[[str], list[tuple[str, str, bool]]] | None = None,
    ) -> None:
        super().__init__()
        self.kind = kind
        self.title = KIND_TITLES.get(kind, kind)
        self._choices = choices or (lambda _engine: {})
        self._prepare = prepare
        self._models = models or (lambda _engine: [])
        self.clip_provider = clip_provider
        self.setAccessibleName(f"{self.title} generation")
        self.engine_box = QComboBox()
        self.engine_box.setAccessibleName(f"{self.title} engine")
        self.engine_box.setToolTip("Which engine makes the audio")
        self.engine_box.currentIndexChanged.connect(self._engine_changed)
        self.model_box = QComboBox()
        self.model_box.setAccessibleName(f"{self.title} model")
        self.model_box.setToolTip("Which model of this engine; larger sounds better and is slower")
        self.model_box.currentIndexChanged.connect(lambda _i: self._update_button())
        self.model_label = QLabel("Model")
        self.reason = QLabel()
        self.reason.setWordWrap(True)
        let_shrink(self.reason)
        self.reason.setAccessibleName(f"{self.title} engine status")
        self.examples = QComboBox()
        self.examples.setAccessibleName(f"{self.title} prompt examples")
        self.examples.setToolTip("Pick an example to start from")
        self.examples.addItem("Examples…")
        self.examples.addItems(EXAMPLES.get(kind, []))
        self.examples.activated.connect(self._use_example)
        self.form_area = QScrollArea()
        self.form_area.setWidgetResizable(True)
        # never scrolled sideways: that cut the labels' first letters ("ompt", "uration")
        self.form_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.form: RequestForm | None = None
        for box in (self.engine_box, self.model_box, self.examples):
            # long labels and examples must not widen the dock (and the window) to fit them
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(12)
        self.generate_button = QPushButton(f"Generate {self.title.lower()}")
        self.generate_button.setAccessibleName(f"Generate {self.title.lower()}")
        self.generate_button.setToolTip("Queue a job; the takes appear in the Takes list")
        self.generate_button.clicked.connect(self._clicked)
        self.extra_buttons = QHBoxLayout()
        top = QHBoxLayout()
        top.addWidget(QLabel("Engine"))
        top.addWidget(self.engine_box, 1)
        box = QVBoxLayout(self)
        box.setContentsMargins(6, 6, 6, 6)
        box.addLayout(top)
        models = QHBoxLayout()
        models.addWidget(self.model_label)
        models.addWidget(self.model_box, 1)
        box.addLayout(models)
        box.addWidget(self.reason)
        box.addWidget(self.examples)
        box.addWidget(self.form_area, 1)
        box.addWidget(self.generate_button)
        box.addLayout(self.extra_buttons)  # below Generate, so the panel stays narrow
        self.infos: list[EngineInfo] = []
        self._loaded = False
        self._pending: dict[str, Any] = {}  # a saved form waiting for the panel's first showing
        self.watermark_default: Callable[[], bool] = lambda: True  # the window's effective setting

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if not self._loaded:
            self.refresh_engines()

    def refresh_engines(self) -> None:
        """Re-read the registry (engines land, models get installed) and rebuild."""
        self._loaded = True
        current = self.engine_box.currentData()
        self.infos = engine_infos(self.kind)
        self.engine_box.blockSignals(True)
        self.engine_box.clear()
        for info in self.infos:
            runs = info.available or any(ready for _n, _l, ready in self._models(info.name))
            self.engine_box.addItem(info.label + ("" if runs else " (unavailable)"), info.name)
        index = max(0, self.engine_box.findData(current))
        self.engine_box.setCurrentIndex(index)
        self.engine_box.blockSignals(False)
        self._engine_changed()
        pending, self._pending = self._pending, {}
        if pending:
            self.restore_state(pending)

    @property
    def engine(self) -> EngineInfo | None:
        name = self.engine_box.currentData()
        return next((i for i in self.infos if i.name == name), None)

    def select_engine(self, name: str) -> None:
        if not self._loaded:
            self.refresh_engines()
        self.engine_box.setCurrentIndex(max(0, self.engine_box.findData(name)))

    def _engine_changed(self) -> None:
        """Build the new engine's form, carrying over what the user typed and picked in
        fields both engines have (text, voice, emotion, rate…)."""
        info = self.engine
        carried = self.form.state() if self.form is not None else {}
        self.form = None
        if info is None:
            self._show_reason(f"No {self.title.lower()} engine is installed in this build yet.")
            self.form_area.setWidget(QLabel(""))
            return
        try:
            request_type = request_type_for(info.name)
        except Exception as exc:  # noqa: BLE001 - a broken engine module must not break the panel
            self._show_reason(f"{info.label} could not be loaded: {exc}")
            request_type = None
        if request_type is None:
            self.form_area.setWidget(QLabel("This engine has no parameters to show."))
        else:
            self.form = RequestForm(request_type, self._choices(info.name), self.clip_provider,
                                    HIDDEN.get(self.kind, frozenset()), HELPS.get(self.kind))
            self.sync_watermark()
            self.form.restore(carried)
            self.form_area.setWidget(self.form)
        self._fill_models(info.name)
        self._update_button()

    def _fill_models(self, engine: str) -> None:
        self.model_box.blockSignals(True)
        self.model_box.clear()
        for name, label, ready in self._models(engine):
            self.model_box.addItem(label + ("" if ready else " (not installed)"), (name, ready))
        ready = [i for i in range(self.model_box.count()) if self.model_box.itemData(i)[1]]
        if ready:
            self.model_box.setCurrentIndex(ready[0])
        self.model_box.blockSignals(False)
        self.model_box.setVisible(self.model_box.count() > 0)
        self.model_label.setVisible(self.model_box.count() > 0)

    @property
    def model(self) -> tuple[str, bool] | None:
        return self.model_box.currentData() if self.model_box.count() else None

    def select_model(self, name: str) -> None:
        for i in range(self.model_box.count()):
            if self.model_box.itemData(i)[0] == name:
                self.model_box.setCurrentIndex(i)

    def _update_button(self) -> None:
        info, model = self.engine, self.model
        runnable = info is not None and (info.available if model is None else model[1])
        self.generate_button.setEnabled(bool(runnable) and self.form is not None)
        if info is None or self.form is None:  # the reason for that is already shown
            return
        if model is None:
            self._show_reason("" if info.available else f"{info.label} cannot run here: {info.reason}")
        elif not model[1]:
            self._show_reason(f"{self.model_box.currentText().removesuffix(' (not installed)')} is not "
                              "installed. Open File › Models… to download or import it, or pick "
                              "another model.")
        elif "debug" in model[0]:
            self._show_reason(f"The test model makes noise, not {self.title.lower()}: it shows how the "
                              "panel works. Install a real model with File › Models…", warn=False)
        else:
            self._show_reason("")

    def _show_reason(self, text: str, warn: bool = True) -> None:
        """Why the panel cannot generate (orange), or a note that it can (plain)."""
        self.reason.setStyleSheet("color: #e8a33d;" if warn else "")
        self.reason.setText(text)
        self.reason.setVisible(bool(text))
        self.reason.setAccessibleDescription(text)

    def sync_watermark(self) -> None:
        """Show whether takes will be watermarked: ticked or not as the setting says (the old
        half-ticked "use the setting" looked unticked while every take was watermarked)."""
        box = self.form.widgets.get("watermark") if self.form is not None else None
        if isinstance(box, QCheckBox):
            box.setTristate(False)
            box.setChecked(bool(self.watermark_default()))
            box.setToolTip(WATERMARK_TIP)

    def text_edit(self) -> QPlainTextEdit | None:
        """The form's prompt or text field (where Alt+1…3 put the cursor)."""
        if self.form is None:
            return None
        return next((w for n, w in self.form.widgets.items()
                     if n in TEXT_FIELDS and isinstance(w, QPlainTextEdit)), None)

    def _use_example(self, index: int) -> None:
        """The example replaces the text as one edit of the field, so Ctrl+Z brings back
        what was there (setPlainText would wipe the field's undo history)."""
        edit = self.text_edit()
        if index <= 0 or edit is None:
            return
        cursor = edit.textCursor()
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.insertText(self.examples.itemText(index))
        edit.setTextCursor(cursor)
        edit.setFocus()
        self.examples.setCurrentIndex(0)

    def saved_state(self) -> dict[str, Any]:
        """The engine and the form's values, to save with the project."""
        if not self._loaded:
            return self._pending
        return {"engine": self.engine_box.currentData(), "fields": self.form.state() if self.form else {}}

    def restore_state(self, state: dict[str, Any] | None) -> None:
        """Bring back a saved form (now, or when the panel is first shown)."""
        if not isinstance(state, dict):
            return
        if not self._loaded:
            self._pending = state
            return
        if state.get("engine"):
            index = self.engine_box.findData(state["engine"])
            if index >= 0:
                self.engine_box.setCurrentIndex(index)
        if self.form is not None and isinstance(state.get("fields"), dict):
            self.form.restore(state["fields"])

    def _clicked(self) -> None:
        try:
            self.generate()
        except EngineError as exc:
            self.refused.emit(str(exc))

    def generate(self) -> Any:
        """Build the request from the form and hand it to the window's job queue."""
        info = self.engine
        if info is None or self.form is None:
            raise EngineError(f"No {self.title.lower()} engine can run here.")
        request = self.form.request()
        values = self.form.values()
        words = next((str(values[n]) for n in TEXT_FIELDS if values.get(n)), self.title)
        label = words if len(words) <= 40 else words[:39] + "…"
        engine = info.name
        if self._prepare is not None:  # e.g. a library voice resolves to its clone's engine
            engine, request = self._prepare(engine, request)
        options = {"model": self.model[0]} if self.model is not None else {}
        self.generate_requested.emit(engine, self.kind, request, label, options)
        return request
