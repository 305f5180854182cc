"""The transcript panel: the words of the mix (or a track), following the playhead.

Clicking a word moves the playhead there; selecting words and pressing Delete removes
exactly their audio from every track (ripple, one undo step); words Whisper was unsure of
are underlined with dots; "Remove fillers…" lists every
"um" and "uh" with its time before removing them all in one step. Transcribing runs as a
job on the jobs machinery (progress and Cancel here and in the Jobs panel). The words and
the edits are :mod:`desktop.project.transcripts`; this panel only shows them.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QKeySequence, QMouseEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.project import transcripts as tr
from desktop.project.store import Project
from desktop.project.timeline import Timeline
from desktop.ui.timeline_canvas import format_time
from desktop.ui.widgets import ElidedLabel
from desktop.ui.workers import Job, JobManager
from engines.errors import TimbreError

MIX = -1  # the scope box's value for the whole mix
UNSURE = 0.5  # a word heard with less confidence than this is underlined
OWN_KEYS = (Qt.Key.Key_Delete, Qt.Key.Key_Backspace, Qt.Key.Key_Return, Qt.Key.Key_Enter)
FILTER = "Subtitles (*.srt);;WebVTT subtitles (*.vtt);;Plain text (*.txt)"


class WordText(QPlainTextEdit):
    """Read-only, selectable text: Delete/Backspace and a plain click are reported."""

    delete_pressed = Signal()
    clicked = Signal(int)  # the character clicked (no drag)

    def __init__(self) -> None:
        super().__init__()
        self.setReadOnly(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                     | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.setAccessibleName("Transcript words")
        self.setToolTip("Click a word (or Enter) to move the playhead there; select words "
                        "and press Delete to remove their audio")

    def event(self, event: QEvent) -> bool:
        """Ctrl+A and Ctrl+C act on the words while they have focus, not on the timeline
        (the window's Select all and Copy are window-wide shortcuts)."""
        if (event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent)
                and (event.matches(QKeySequence.StandardKey.SelectAll)
                     or event.matches(QKeySequence.StandardKey.Copy)
                     or (event.key() in OWN_KEYS and not event.modifiers()))):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.textCursor().hasSelection():
            self.delete_pressed.emit()
            event.accept()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):  # the keyboard's click
            self.clicked.emit(self.textCursor().selectionStart())
            event.accept()
            return
        super().keyPressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        super().mouseReleaseEvent(event)
        if event.button() == Qt.MouseButton.LeftButton and not self.textCursor().hasSelection():
            self.clicked.emit(self.cursorForPosition(event.position().toPoint()).position())


class TranscriptPanel(QWidget):
    seek_requested = Signal(int)  # a timeline frame
    told = Signal(str, bool)  # a message for the notification bar, and whether it is an error

    def __init__(self, jobs: JobManager, project: Callable[[], Project | None],
                 timeline: Callable[[], Timeline | None]) -> None:
        super().__init__()
        self.setAccessibleName("Transcript")
        self.jobs, self._project, self._timeline = jobs, project, timeline
        self.info: tr.TranscriptInfo | None = None
        self.words: list[tr.PlacedWord] = []
        self._chars: list[int] = []  # where each word starts in the text
        self._starts: list[int] = []  # each word's first frame (for following the playhead)
        self.current: int | None = None  # the word under the playhead
        self.job: Job | None = None
        self.preview: QMessageBox | None = None

        self.scope = QComboBox()
        self.scope.setAccessibleName("Transcribe what")
        self.scope.setToolTip("Transcribe the whole mix, or one track")
        # a long track name must not widen the panel (and the window) to fit it
        self.scope.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.scope.setMinimumContentsLength(10)
        self.scope.currentIndexChanged.connect(lambda _i: self.refresh())
        self.transcribe_button = QPushButton("Transcribe")
        self.transcribe_button.setToolTip("Hear the words with Whisper (on this computer), with their times")
        self.transcribe_button.clicked.connect(self.transcribe)
        self.fillers_button = QPushButton("Remove fillers…")
        self.fillers_button.setToolTip("List every um, uh and er, then remove them all (one undo step)")
        self.fillers_button.clicked.connect(self.ask_remove_fillers)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save as SRT or WebVTT subtitles, or plain text")
        self.export_button.clicked.connect(self.export_dialog)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setAccessibleName("Transcription progress")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel transcription")
        self.cancel_button.clicked.connect(self.cancel)
        self.status = ElidedLabel()
        self.text = WordText()
        self.text.delete_pressed.connect(self.delete_selected)
        self.text.clicked.connect(self._clicked)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.scope, 1)
        top.addWidget(self.transcribe_button)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.fillers_button)
        buttons.addWidget(self.export_button)
        buttons.addStretch(1)
        running = QHBoxLayout()
        running.setContentsMargins(0, 0, 0, 0)
        running.addWidget(self.progress, 1)
        running.addWidget(self.cancel_button)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addLayout(top)
        box.addLayout(buttons)
        box.addLayout(running)
        box.addWidget(self.status)
        box.addWidget(self.text, 1)
        jobs.job_updated.connect(self._job_moved)
        jobs.job_finished.connect(self._job_finished)
        self._show_running(False)
        self.refresh()

    # ---- what is shown -------------------------------------------------------------
    def track_choice(self) -> int | None:
        value = self.scope.currentData()
        return None if value in (None, MIX) else int(value)

    def _fill_scope(self, project: Project | None) -> None:
        keep = self.scope.currentData()
        items = [("Whole mix", MIX)] + ([(f"Track: {t.name}", t.id) for t in project.tracks()]
                                        if project is not None else [])
        if [(self.scope.itemText(i), self.scope.itemData(i)) for i in range(self.scope.count())] == items:
            return
        self.scope.blockSignals(True)
        self.scope.clear()
        for label, value in items:
            self.scope.addItem(label, value)
        found = self.scope.findData(keep)
        self.scope.setCurrentIndex(max(0, found))
        self.scope.blockSignals(False)

    def refresh(self) -> None:
        """Re-read the transcript and where its words play now (after any edit)."""
        project = self._project()
        self._fill_scope(project)
        self.info = tr.of_scope(project, self.track_choice()) if project is not None else None
        self.words = tr.placed_words(project, self.info.id) if project and self.info else []
        self._render()
        ready = project is not None and self.job is None
        self.transcribe_button.setEnabled(ready)
        self.transcribe_button.setText("Transcribe again" if self.info else "Transcribe")
        self.fillers_button.setEnabled(ready and bool(self.words))
        self.export_button.setEnabled(bool(self.words))
        if self.job is not None:
            return
        if project is None:
            self.status.setText("Open a project to transcribe it.")
        elif self.info is None:
            self.status.setText(f"No transcript of the {self.scope.currentText().lower()} yet: press Transcribe.")
        else:
            self.status.setText(f"{len(self.words)} words · {self.info.language} · Whisper {self.info.model}")

    def _render(self) -> None:
        parts: list[str] = []
        self._chars, self._starts = [], []
        at, segment = 0, None
        for w in self.words:
            if parts:
                sep = "\n\n" if w.segment != segment else " "
                parts.append(sep)
                at += len(sep)
            segment = w.segment
            self._chars.append(at)
            self._starts.append(w.start)
            parts.append(w.text)
            at += len(w.text)
        scroll = self.text.verticalScrollBar().value()
        self.text.setPlainText("".join(parts))
        unsure = QTextCharFormat()  # words Whisper was unsure of: check them by ear
        unsure.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DotLine)
        for i, w in enumerate(self.words):
            if w.probability < UNSURE:
                cursor = QTextCursor(self.text.document())
                cursor.setPosition(self._chars[i])
                cursor.setPosition(self._chars[i] + len(w.text), QTextCursor.MoveMode.KeepAnchor)
                cursor.mergeCharFormat(unsure)
        self.text.verticalScrollBar().setValue(scroll)
        self.current = None
        self._highlight()

    def word_at_char(self, pos: int) -> int | None:
        i = bisect.bisect_right(self._chars, pos) - 1
        if i < 0 or pos > self._chars[i] + len(self.words[i].text):
            return None
        return i

    def selected_words(self) -> list[int]:
        """The words the text selection touches."""
        cursor = self.text.textCursor()
        if not cursor.hasSelection():
            return []
        a, b = cursor.selectionStart(), cursor.selectionEnd()
        return [i for i, c in enumerate(self._chars) if c < b and c + len(self.words[i].text) > a]

    def select_words(self, first: int, last: int) -> None:
        """Select words ``first``..``last`` in the text (as a drag across them does)."""
        cursor = self.text.textCursor()
        cursor.setPosition(self._chars[first])
        cursor.setPosition(self._chars[last] + len(self.words[last].text), QTextCursor.MoveMode.KeepAnchor)
        self.text.setTextCursor(cursor)

    # ---- following the playhead ------------------------------------------------------
    def follow(self, frame: int) -> None:
        """Light up the word being heard at ``frame`` and keep it in view."""
        i = bisect.bisect_right(self._starts, frame) - 1
        word = i if i >= 0 and frame < self.words[i].end else None
        if word != self.current:
            self.current = word
            self._highlight()

    def _highlight(self) -> None:
        marks = []
        if self.current is not None:
            sel = QTextEdit.ExtraSelection()
            fmt = QTextCharFormat()
            fmt.setBackground(QColor("#f5c542"))
            fmt.setForeground(QColor("#111111"))
            sel.format = fmt
            cursor = QTextCursor(self.text.document())
            start = self._chars[self.current]
            cursor.setPosition(start)
            cursor.setPosition(start + len(self.words[self.current].text), QTextCursor.MoveMode.KeepAnchor)
            sel.cursor = cursor
            marks.append(sel)
            rect = self.text.cursorRect(cursor)
            if not self.text.viewport().rect().contains(rect):
                bar = self.text.verticalScrollBar()
                bar.setValue(bar.value() + rect.center().y() - self.text.viewport().height() // 2)
        self.text.setExtraSelections(marks)

    def _clicked(self, pos: int) -> None:
        i = self.word_at_char(pos)
        if i is not None:
            self.seek_requested.emit(self.words[i].start)

    # ---- edits -----------------------------------------------------------------------
    def _edit(self, fn, *args) -> object:
        try:
            return fn(*args)
        except TimbreError as exc:
            self.told.emit(str(exc), True)
            return None

    def delete_selected(self) -> None:
        chosen = self.selected_words()
        timeline = self._timeline()
        if chosen and timeline is not None:
            self._edit(tr.delete_words, timeline, self.words, chosen)

    def filler_list(self) -> list[tr.PlacedWord]:
        language = self.info.language if self.info else "en"
        return [self.words[i] for i in tr.filler_indexes(self.words, language)]

    def ask_remove_fillers(self) -> None:
        """Show every filler and its time; Remove applies them all in one undo step."""
        found = self.filler_list()
        project = self._project()
        if not found or project is None:
            self.told.emit("No filler words (um, uh, er …) in this transcript.", False)
            return
        rate = project.sample_rate
        seconds = sum(w.end - w.start for w in found) / rate
        box = QMessageBox(QMessageBox.Icon.Question, "Remove filler words",
                          f"Remove {len(found)} filler word(s), {seconds:.1f} s in all?", parent=self)
        box.setDetailedText("\n".join(f"{format_time(w.start / rate)}  {w.text}" for w in found))
        box.setInformativeText(", ".join(f"“{w.text.strip(',.?!…')}” at {format_time(w.start / rate)}"
                                         for w in found[:8]) + (" …" if len(found) > 8 else ""))
        remove = box.addButton("Remove", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        remove.setAccessibleName("Remove the filler words")
        box.finished.connect(lambda _r: self._fillers_answered(box.clickedButton() is remove))
        self.preview = box
        box.open()

    def _fillers_answered(self, yes: bool) -> None:
        self.preview = None
        timeline = self._timeline()
        if yes and timeline is not None and self.info is not None:
            n = self._edit(tr.remove_fillers, timeline, self.words, self.info.language)
            if n:
                self.told.emit(f"Removed {n} filler word(s). Undo (Ctrl+Z) brings them back.", False)

    def export_dialog(self) -> None:
        project = self._project()
        name = project.name if project else "transcript"
        path, _ = QFileDialog.getSaveFileName(self, "Export transcript", str(Path.home() / f"{name}.srt"), FILTER)
        if path:
            self.export_to(path)

    def export_to(self, path: str) -> None:
        from engines.files import write_text
        from engines.transcripts.subtitles import format_for, render

        project = self._project()
        if project is None or self.info is None:
            return
        rate = project.sample_rate
        try:
            write_text(Path(path), render([w.as_word(rate) for w in self.words], format_for(path, None)))
        except (TimbreError, OSError) as exc:
            self.told.emit(str(exc), True)
            return
        self.told.emit(f"Saved the transcript to {path}.", False)

    # ---- transcribing ------------------------------------------------------------------
    def transcribe(self) -> Job | None:
        """Transcribe the chosen scope as a job: progress and Cancel here and in Jobs."""
        project = self._project()
        if project is None or self.job is not None:
            return None
        track = self.track_choice()
        what = self.scope.currentText()

        def work(progress, cancel) -> int:
            return tr.transcribe_project(project, track, None, "base", progress, cancel)

        self.job = self.jobs.submit_task("transcribe", f"Transcribe {what.lower()}", work)
        self.job.project = project  # kept open for the job if the window moves on
        self._show_running(True)
        self.status.setText(f"Transcribing the {what.lower()}…")
        self.refresh()
        return self.job

    def cancel(self) -> None:
        if self.job is not None:
            self.jobs.cancel(self.job)

    def _show_running(self, on: bool) -> None:
        self.progress.setVisible(on)
        self.cancel_button.setVisible(on)
        if on:
            self.progress.setValue(0)

    def _job_moved(self, job: Job) -> None:
        if job is self.job:
            self.progress.setValue(int(job.progress * 1000))
            self.progress.setFormat(f"%p%  {job.stage}")

    def _job_finished(self, job: Job) -> None:
        if job is not self.job:
            return
        self.job = None
        self._show_running(False)
        if job.state == "failed":
            self.told.emit(job.error, True)
        elif job.state == "cancelled":
            self.told.emit("Transcription cancelled; the transcript you had is kept.", False)
        self.refresh()
