"""The voice library manager: search, add, quality report, consent, similarity, exchange.

It talks to :mod:`engines.voices.library` only. Adding a voice and checking consent clean
the audio and compute speaker embeddings (Silero VAD, Resemblyzer), so those run in the
thread pool; the list and the report are plain reads of the library's database.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QGridLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop.bridge import run_task
from desktop.ui.widgets import let_shrink
from engines.audio_io import import_filter
from engines.errors import EngineError

# The buttons' short labels keep the panel narrow; screen readers get the longer names.
SPOKEN = {"add": "Add voice from file", "record": "Record new voice", "play": "Play reference",
          "similarity": "Similarity map"}


def open_voice_library() -> tuple[Any | None, str]:
    """The user's library, or None and the reason it cannot be used here."""
    try:
        from engines.voices.library import open_library
    except ImportError as exc:
        return None, f"The voice library is not available in this build ({exc})."
    try:
        return open_library(), ""
    except EngineError as exc:
        return None, str(exc)


def report_html(voice: Any) -> str:
    """The quality report of a voice's reference clips, for the details pane."""
    consent = ("<span style='color:#3cb371'>✔ consent recorded</span> "
               f"(similarity {voice.consent.similarity:.2f}, {voice.consent.recorded[:10]})"
               if voice.consent else "<span style='color:#e8a33d'>✘ no consent recorded — "
               "cloning is refused until the speaker records the consent statement</span>")
    rows = [f"<h3>{voice.name}</h3>",
            f"<p>{voice.language or 'language not set'} · {len(voice.clips)} reference clip(s) · "
            f"{voice.speech_duration:.1f} s of speech</p>", f"<p>{consent}</p>"]
    for clip in voice.clips:
        r = clip.report
        snr = f"{r.snr_db:.0f} dB" if r.snr_db is not None else "n/a"
        rows.append(
            f"<p><b>{clip.source_name}</b>: {r.original_duration:.1f} s, speech "
            f"{100 * r.speech_ratio:.0f}%, SNR {snr}, clipped {100 * r.clipped_fraction:.2f}%, "
            f"peak {r.peak_dbfs:.1f} dBFS, {r.input_lufs:.1f} → {r.output_lufs:.1f} LUFS</p>")
        rows += [f"<p style='color:#e8a33d'>⚠ {w}</p>" for w in r.warnings]
    if voice.clone_kinds:
        rows.append(f"<p>Clones: {', '.join(voice.clone_kinds)}</p>")
    return "".join(rows)


class SimilarityDialog(QDialog):
    """A heat-map of cosine similarity between every pair of library voices."""

    def __init__(self, names: list[str], matrix: np.ndarray, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        import pyqtgraph as pg

        self.setWindowTitle("Voice similarity")
        self.setAccessibleName("Voice similarity heat-map")
        plot = pg.PlotWidget()
        plot.setAccessibleName("Similarity heat-map")
        image = pg.ImageItem(matrix.T if pg.getConfigOption("imageAxisOrder") == "row-major" else matrix)
        cmap = pg.colormap.get("viridis")
        image.setColorMap(cmap)
        image.setLevels((0.5, 1.0))
        plot.addItem(image)
        ticks = [(i + 0.5, n) for i, n in enumerate(names)]
        for axis in ("bottom", "left"):
            plot.getPlotItem().getAxis(axis).setTicks([ticks, []])
        for i in range(len(names)):
            for j in range(len(names)):
                text = pg.TextItem(f"{matrix[i, j]:.2f}", anchor=(0.5, 0.5), color="w")
                text.setPos(i + 0.5, j + 0.5)
                plot.addItem(text)
        bar = pg.ColorBarItem(values=(0.5, 1.0), colorMap=cmap, label="cosine", interactive=False)
        bar.setImageItem(image, insert_in=plot.getPlotItem())
        box = QVBoxLayout(self)
        box.addWidget(QLabel("Cosine similarity of speaker embeddings (Resemblyzer): "
                             "the same speaker usually scores above 0.8."))
        box.addWidget(plot, 1)
        self.matrix = matrix
        self.resize(620, 520)


class VoicePreview(QWidget):
    """Waveform and spectrogram of a voice's cleaned reference speech."""

    def __init__(self) -> None:
        super().__init__()
        import pyqtgraph as pg

        from desktop.ui.spectrogram import SpectrogramPanel
        from desktop.ui.theme import colors

        self.wave = pg.PlotWidget(background=colors().base)
        self.wave.setAccessibleName("Reference waveform")
        self.wave.setMenuEnabled(False)
        self.wave.setMouseEnabled(x=False, y=False)
        self.wave.hideButtons()
        self.wave.setFixedHeight(70)
        self.wave.getPlotItem().hideAxis("left")
        self.spectrogram = SpectrogramPanel()
        self.spectrogram.setMinimumHeight(150)
        self.spectrogram.ensure_plot()
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.wave)
        box.addWidget(self.spectrogram, 1)

    def show_clip(self, clip: Any, name: str) -> None:
        import pyqtgraph as pg

        from desktop.ui.spectrogram import ArraySource, Placement
        from desktop.ui.theme import colors

        mono = clip.mono().samples[0]
        buckets = max(1, len(mono) // 1500)
        n = len(mono) // buckets * buckets
        blocks = mono[:n].reshape(-1, buckets)
        t = np.arange(blocks.shape[0]) * buckets / clip.sample_rate
        self.wave.clear()
        pen = pg.mkPen(colors().wave)
        top = self.wave.plot(t, blocks.max(axis=1), pen=pen)
        bottom = self.wave.plot(t, blocks.min(axis=1), pen=pen)
        self.wave.addItem(pg.FillBetweenItem(top, bottom, brush=colors().clip_selected))
        self.spectrogram.set_placement(Placement(ArraySource(mono, clip.sample_rate, f"voice:{name}:{len(mono)}"),
                                                 title=f"Reference speech · {name}"))
        self.spectrogram.set_view(0.0, clip.duration)


class VoicesPanel(QWidget):
    play_requested = Signal(object)  # AudioClip
    notify = Signal(str, str, bool)  # message, details, error
    voices_changed = Signal()

    def __init__(self, record: Callable[[Callable[[Any], None]], None] | None = None,
                 can_record: Callable[[], bool] = lambda: True) -> None:
        super().__init__()
        self.record = record  # record(sink): start recording; the clip goes to sink on stop
        self.can_record = can_record  # False without a microphone: Record… is then off
        self.setAccessibleName("Voice library")
        self.library, self.reason = None, "not opened yet"
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search voices")
        self.search.setAccessibleName("Search voices")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.refresh)
        self.list = QListWidget()
        self.list.setAccessibleName("Voices")
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # long names elide
        # Selection, not the current item, picks a voice: tabbing onto the list makes its
        # first row current without selecting it, and must not open a voice (and its preview)
        self.list.itemSelectionChanged.connect(self._show_selected)
        self.details = QTextBrowser()
        self.details.setAccessibleName("Voice details and quality report")
        self.status = QLabel()
        self.status.setWordWrap(True)
        let_shrink(self.status)
        grid = QGridLayout()
        self.buttons: dict[str, QPushButton] = {}
        specs = [
            ("add", "Add file…", "Add a voice from one or more reference recordings", self.add_dialog),
            ("record", "Record…", "Record a reference with the microphone (press again to stop)",
             self.record_dialog),
            ("play", "Play", "Listen to the cleaned reference speech", self.play_selected),
            ("rename", "Rename…", "Rename the selected voice", self.rename_selected),
            ("delete", "Delete", "Delete the selected voice", self.delete_selected),
            ("consent", "Consent…", "Show the consent statement and add the speaker's recording of it",
             self.consent_dialog),
            ("similarity", "Compare…", "Heat-map of how alike the library's voices sound",
             self.similarity_dialog),
            ("export", "Export…", "Write the voice, its recordings and consent to one file", self.export_selected),
            ("import", "Import…", "Add a voice from an exported file", self.import_dialog),
        ]
        for i, (key, text, tip, slot) in enumerate(specs):
            b = QPushButton(text)
            b.setToolTip(tip)
            b.setAccessibleName(SPOKEN.get(key, text.rstrip("…")))
            b.clicked.connect(slot)
            grid.addWidget(b, i // 2, i % 2)
            self.buttons[key] = b
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addWidget(self.status)
        box.addWidget(self.search)
        box.addWidget(self.list, 2)
        box.addLayout(grid)
        # The report and the preview scroll together: their heights no longer add up to a
        # window taller than a 900 px screen once a voice is selected.
        self.details.setMinimumHeight(90)
        self.more = QWidget()
        self.more_box = QVBoxLayout(self.more)
        self.more_box.setContentsMargins(0, 0, 0, 0)
        self.more_box.addWidget(self.details, 3)
        self.more_area = QScrollArea()
        self.more_area.setWidgetResizable(True)
        self.more_area.setFrameShape(QScrollArea.Shape.NoFrame)
        self.more_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.more_area.setMinimumHeight(70)
        self.more_area.setWidget(self.more)
        box.addWidget(self.more_area, 3)
        self.preview: VoicePreview | None = None
        self._opened = False

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if not self._opened:
            self.open()

    def open(self) -> None:
        self._opened = True
        self.library, self.reason = open_voice_library()
        self.refresh()

    def names(self) -> list[str]:
        return self.library.names() if self.library is not None else []

    def refresh(self) -> None:
        available = self.library is not None
        self.status.setText("" if available else f"Voice library: not available yet. {self.reason}")
        self.status.setVisible(not available)
        for key, b in self.buttons.items():
            b.setEnabled(available and (key in ("add", "record", "import", "similarity") or self.current is not None))
        microphone = self.record is not None and self.can_record()
        self.buttons["record"].setEnabled(available and microphone)
        self.buttons["record"].setToolTip(
            "Record a reference with the microphone (press again to stop)" if microphone
            else "No microphone was found: connect one, or add a recording with Add file…")
        if not available:
            return
        needle = self.search.text().strip().lower()
        current = self.current
        self.list.blockSignals(True)
        self.list.clear()
        for voice in self.library.voices():
            hay = f"{voice.name} {voice.language} {voice.notes} {' '.join(voice.tags)}".lower()
            if needle and needle not in hay:
                continue
            item = QListWidgetItem(f"{voice.name}{'' if voice.has_consent else '  (no consent)'}")
            item.setData(Qt.ItemDataRole.UserRole, voice.name)
            self.list.addItem(item)
            if voice.name == current:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        self._show_selected()

    def select(self, name: str) -> None:
        """Select a voice by name (clearing the search if it hides it)."""
        if not any(self.list.item(i).data(Qt.ItemDataRole.UserRole) == name for i in range(self.list.count())):
            self.search.clear()
        for i in range(self.list.count()):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole) == name:
                self.list.setCurrentRow(i)

    @property
    def current(self) -> str | None:
        items = self.list.selectedItems()
        return items[0].data(Qt.ItemDataRole.UserRole) if items else None

    def _show_selected(self) -> None:
        name = self.current
        for key in ("play", "rename", "delete", "consent", "export"):
            self.buttons[key].setEnabled(self.library is not None and name is not None)
        if name is None or self.library is None:
            self.details.setHtml("<p>Select a voice to see its quality report and consent.</p>")
            return
        self.details.setHtml(report_html(self.library.get(name)))
        if self.preview is None:
            self.preview = VoicePreview()
            self.more_box.addWidget(self.preview, 3)
        try:
            self.preview.show_clip(self.library.reference_audio(name), name)
        except EngineError as exc:
            self.notify.emit(str(exc), "", True)

    def _run(self, work: Callable[[], Any], done_message: str) -> None:
        def done(_result: Any) -> None:
            self.refresh()
            self.voices_changed.emit()
            self.notify.emit(done_message, "", False)

        def failed(exc: BaseException, details: str) -> None:
            self.notify.emit(str(exc), details, True)

        run_task(work, done, failed)

    def add_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Reference recordings", "",
                                                import_filter("Audio"))
        if not files:
            return
        name, ok = QInputDialog.getText(self, "New voice", "Name of the voice:")
        if ok and name.strip():
            self.add_voice(name.strip(), files)

    def add_voice(self, name: str, files: list[str]) -> None:
        lib = self.library
        self.notify.emit(f"Cleaning {len(files)} recording(s) for '{name}'…", "", False)
        self._run(lambda: lib.add(name, files), f"Added voice '{name}'.")

    def record_dialog(self) -> None:
        """Record a reference now; pressing the button (or R) again stops and names it."""
        if self.record is None:
            return
        button = self.buttons["record"]
        if button.text() == "Stop recording":
            self.record(None)
            return
        button.setText("Stop recording")
        self.record(self._recorded_reference)

    def _recorded_reference(self, clip: Any) -> None:
        self.buttons["record"].setText("Record…")
        if clip is None:
            return
        import tempfile

        from engines.audio_io import write_audio

        path = write_audio(Path(tempfile.mkdtemp(prefix="timbre-voice-")) / "reference.wav", clip)
        name, ok = QInputDialog.getText(self, "New voice", "Name of the recorded voice:")
        if ok and name.strip():
            self.add_voice(name.strip(), [str(path)])

    def play_selected(self) -> None:
        if self.current and self.library is not None:
            self.play_requested.emit(self.library.reference_audio(self.current))

    def rename_selected(self) -> None:
        old = self.current
        if old is None or self.library is None:
            return
        new, ok = QInputDialog.getText(self, "Rename voice", "New name:", text=old)
        if ok and new.strip() and new.strip() != old:
            self._guard(lambda: self.library.rename(old, new.strip()))

    def delete_selected(self) -> None:
        name = self.current
        if name is None or self.library is None:
            return
        answer = QMessageBox.question(self, "Delete voice", f"Delete the voice '{name}' and its recordings?")
        if answer == QMessageBox.StandardButton.Yes:
            self._guard(lambda: self.library.remove(name))

    def _guard(self, fn: Callable[[], Any]) -> None:
        try:
            fn()
        except EngineError as exc:
            self.notify.emit(str(exc), "", True)
        self.refresh()
        self.voices_changed.emit()

    def consent_dialog(self) -> None:
        name = self.current
        if name is None or self.library is None:
            return
        statement = self.library.statement(name)
        box = QMessageBox(self)
        box.setWindowTitle(f"Consent for {name}")
        box.setText(f"Have {name} read this aloud, record it, then choose the recording:\n\n"
                    f"“{statement.text}”")
        choose = box.addButton("Choose recording…", QMessageBox.ButtonRole.AcceptRole)
        record = box.addButton("Record now", QMessageBox.ButtonRole.ActionRole) if self.record else None
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        if record is not None and box.clickedButton() is record:
            self.notify.emit(f"Recording {name}'s consent statement… press R to stop.", "", False)
            self.record(lambda clip: self._recorded_consent(name, clip))
        elif box.clickedButton() is choose:
            path, _ = QFileDialog.getOpenFileName(self, "Consent recording", "", import_filter("Audio"))
            if path:
                self.check_consent(name, path)

    def _recorded_consent(self, name: str, clip: Any) -> None:
        if clip is None:
            return
        import tempfile

        from engines.audio_io import write_audio

        path = write_audio(Path(tempfile.mkdtemp(prefix="timbre-consent-")) / "consent.wav", clip)
        self.check_consent(name, str(path))

    def check_consent(self, name: str, path: str) -> None:
        lib = self.library
        self._run(lambda: lib.record_consent(name, path), f"Consent for '{name}' recorded.")

    def similarity_matrix(self) -> tuple[list[str], np.ndarray]:
        from engines.voices.embedding import cosine

        voices = self.library.voices() if self.library is not None else []
        names = [v.name for v in voices]
        emb = [v.embedding for v in voices]
        matrix = np.array([[cosine(a, b) for b in emb] for a in emb], dtype=np.float32)
        return names, matrix.reshape(len(names), len(names))

    def similarity_dialog(self) -> None:
        names, matrix = self.similarity_matrix()
        if len(names) < 2:
            self.notify.emit("Add at least two voices to compare them.", "", False)
            return
        SimilarityDialog(names, matrix, self).open()

    def export_selected(self) -> None:
        name = self.current
        if name is None or self.library is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export voice", f"{name}.timbrevoice")
        if path:
            from engines.voices.exchange import export_voice
            self._guard(lambda: export_voice(self.library, name, path))

    def import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import voice", "", "Voices (*.timbrevoice *.zip);;All files (*)")
        if path and self.library is not None:
            lib = self.library
            # A dropped consent is told at once (signals cross threads safely).
            def notice(message: str) -> None:
                self.notify.emit(message, "", True)

            from engines.voices.exchange import import_voice
            self._run(lambda: import_voice(lib, path, notice=notice), "Voice imported.")
