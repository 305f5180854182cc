"""Voice banking panel: record a script one prompt at a time with a single key.

Made for people with limited hand movement: **Space** does the next natural thing (record →
stop and check → accept and move on), **R** redoes, **N** skips to the next prompt, **P**
plays the take back; every action is also a large button. The quality check (Silero VAD,
FLAC writes) runs off the GUI thread, and everything is stored in the bank at once, so
closing the window mid-session loses nothing and the next session resumes where it stopped.
"""

from __future__ import annotations

import itertools

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.bridge import run_task
from desktop.ui.audio import AudioIO, LevelMeter
from desktop.ui.spectrogram import ArraySource, GrowingSource, Placement, SpectrogramPanel
from engines.audio import AudioClip
from engines.banking.bank import Prompt, VoiceBank

VERDICT_COLOURS = {"green": "#3cb371", "amber": "#e0b000", "red": "#e04040"}
IDLE, RECORDING, CHECKING, REVIEW = "idle", "recording", "checking", "review"
NORMAL_PT, LARGE_PT = 18, 34
LIVE_SECONDS = 10.0  # the live spectrogram shows the last ten seconds
_takes = itertools.count()  # names each take's spectrogram source in the tile cache


class BankingPanel(QWidget):
    """Record a voice bank. ``audio`` is the studio's shared :class:`AudioIO`."""

    state_changed = Signal(str)

    def __init__(
        self, audio: AudioIO, bank: VoiceBank | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setAccessibleName("Voice banking")
        self.audio = audio
        self.bank: VoiceBank | None = None
        self.prompt: Prompt | None = None
        self.state = IDLE
        self.last_take = None
        self.last_clip: AudioClip | None = None
        self.message: tuple[str, list[str]] | None = None  # (text, tags) while banking a message
        self._recording_here = False  # the shared audio's recordings are ours only when we started them
        self._live: GrowingSource | None = None
        self._live_timer = QTimer(self)
        self._live_timer.setInterval(200)
        self._live_timer.timeout.connect(self._follow_recording)
        self.audio.recorded.connect(self._audio_recorded)
        self._build()
        if bank is not None:
            self.set_bank(bank)

    # ---- layout ----------------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        top = QHBoxLayout()
        self.bank_label = QLabel("No bank open")
        open_button = QPushButton("Open bank…")
        open_button.clicked.connect(self._choose_bank)
        new_button = QPushButton("New bank…")
        new_button.clicked.connect(self._new_bank)
        self.large = QCheckBox("Large text")
        self.large.setAccessibleName("Large text")
        self.large.toggled.connect(self._apply_text_size)
        top.addWidget(self.bank_label, 1)
        top.addWidget(self.large)
        top.addWidget(new_button)
        top.addWidget(open_button)
        root.addLayout(top)

        self.progress_label = QLabel("")
        self.progress_label.setAccessibleName("Banking progress")
        root.addWidget(self.progress_label)
        self.prompt_label = QLabel("")
        self.prompt_label.setWordWrap(True)
        self.prompt_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.prompt_label.setAccessibleName("Prompt to read")
        self.prompt_label.setMinimumHeight(120)
        root.addWidget(self.prompt_label, 2)

        meter_row = QHBoxLayout()
        self.meter = LevelMeter(self.audio)
        self.verdict_label = QLabel("")
        self.verdict_label.setWordWrap(True)
        self.verdict_label.setAccessibleName("Take verdict")
        meter_row.addWidget(self.meter)
        meter_row.addWidget(self.verdict_label, 1)
        root.addLayout(meter_row)
        self.spectrogram = SpectrogramPanel()  # the studio's own: live while recording, then the take
        self.spectrogram.setMinimumHeight(170)
        self.spectrogram.ensure_plot()
        self.spectrogram.title.setText("Spectrogram · shows live while you record")
        root.addWidget(self.spectrogram, 2)

        buttons = QHBoxLayout()
        self.main_button = self._button("Record  [Space]", self.primary_action)
        self.redo_button = self._button("Redo  [R]", self.redo)
        self.next_button = self._button("Next  [N]", self.next_prompt)
        self.play_button = self._button("Play take  [P]", self.play_take)
        for b in (self.main_button, self.redo_button, self.next_button, self.play_button):
            buttons.addWidget(b)
        root.addLayout(buttons)

        message_row = QHBoxLayout()
        self.message_text = QLineEdit()
        self.message_text.setPlaceholderText(
            "A message to keep in your own voice, e.g. I love you, Sam"
        )
        self.message_text.setAccessibleName("Message text")
        self.message_tags = QLineEdit()
        self.message_tags.setPlaceholderText("tags, comma separated")
        self.message_tags.setAccessibleName("Message tags")
        for field in (self.message_text, self.message_tags):  # typing here eats the letter keys
            field.returnPressed.connect(self._message_entered)
        self.message_button = self._button("Record message  [M or Enter]", self.record_message)
        message_row.addWidget(self.message_text, 3)
        message_row.addWidget(self.message_tags, 1)
        message_row.addWidget(self.message_button)
        root.addLayout(message_row)
        for key, slot in (
            ("Space", self.primary_action),
            ("R", self.redo),
            ("N", self.next_prompt),
            ("P", self.play_take),
            ("M", self.record_message),
        ):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

        self.review = QTableWidget(0, 4)
        self.review.setHorizontalHeaderLabels(["Prompt", "Mark", "SNR dB", "Why"])
        self.review.setAccessibleName("Takes, worst first")
        self.review.setSortingEnabled(True)
        self.review.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.review.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.review.cellDoubleClicked.connect(self._rerecord_row)
        root.addWidget(self.review, 1)
        from desktop.ui.banking.train_box import TrainVoiceBox

        self.train_box = TrainVoiceBox(self.audio)  # the bank becomes the person's voice
        root.addWidget(self.train_box)
        self._apply_text_size(False)

    def _button(self, text: str, slot) -> QPushButton:
        button = QPushButton(text)
        button.setMinimumHeight(48)  # big targets for limited movement
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space must reach the panel, not a button
        button.clicked.connect(slot)
        return button

    def _apply_text_size(self, large: bool) -> None:
        font = QFont(self.prompt_label.font())
        font.setPointSize(LARGE_PT if large else NORMAL_PT)
        self.prompt_label.setFont(font)

    # ---- bank and prompt -------------------------------------------------------------
    def _choose_bank(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a voice bank folder")
        if folder:
            self.set_bank(VoiceBank.open(folder))

    def _new_bank(self) -> None:
        folder, _ = QFileDialog.getSaveFileName(self, "Name the new voice bank folder")
        if folder:
            self.set_bank(VoiceBank.create(folder))

    def set_bank(self, bank: VoiceBank) -> None:
        self.bank = bank
        self.bank_label.setText(f"Bank: {bank.path.name}")
        self.show_prompt(bank.next_prompt())
        self._refresh()

    def show_prompt(self, prompt: Prompt | None) -> None:
        self.prompt = prompt
        self.prompt_label.setText(prompt.text if prompt else "Every prompt is recorded. Well done!")
        self._set_state(IDLE)

    def _refresh(self) -> None:
        if self.bank is None:
            return
        s = self.bank.status()
        ahead = (
            f"; {s.next_milestone[0] - s.recorded} to a {s.next_milestone[1]} voice"
            if s.next_milestone
            else ""
        )
        prompt = f"{self.prompt.id} · " if self.prompt else ""
        self.progress_label.setText(
            f"{prompt}{s.recorded} of {s.prompts} recorded · {s.clean_minutes:.1f} min clean speech{ahead}"
            f" (≈50 quick, 400 usable, 800+ good, 1600 best) · {s.messages} messages"
        )
        rows = self.bank.review()
        self.review.setSortingEnabled(False)
        self.review.setRowCount(len(rows))
        for r, (p, take) in enumerate(rows):
            snr = take.metrics.get("snr_db")
            cells = [
                p.id,
                take.verdict,
                "" if snr is None else f"{snr:5.1f}",
                "; ".join(take.reasons) or "clean",
            ]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 1:
                    item.setForeground(QColor(VERDICT_COLOURS[take.verdict]))
                self.review.setItem(r, c, item)
        self.review.setSortingEnabled(True)
        self.train_box.set_bank(self.bank)  # readiness follows every accepted take

    def _rerecord_row(self, row: int, _column: int) -> None:
        if self.bank is not None:
            self.show_prompt(self.bank.prompt(self.review.item(row, 0).text()))

    # ---- the one-key cycle -----------------------------------------------------------
    def _set_state(self, state: str) -> None:
        self.state = state
        self.main_button.setText(
            {
                IDLE: "Record  [Space]",
                RECORDING: "Stop  [Space]",
                CHECKING: "Checking…",
                REVIEW: "Accept and next  [Space]",
            }[state]
        )
        has_text = self.prompt is not None or self.message is not None
        self.main_button.setEnabled(state != CHECKING and has_text)
        self.redo_button.setEnabled(state == REVIEW)
        self.play_button.setEnabled(self.last_clip is not None and state in (IDLE, REVIEW))
        self.state_changed.emit(state)

    def primary_action(self) -> None:
        if self.bank is None or (self.prompt is None and self.message is None):
            return
        if self.state == IDLE:
            try:
                self.audio.record()
            except RuntimeError as exc:
                self.verdict_label.setText(str(exc))
                return
            self._recording_here = True
            self._start_live()
            self.verdict_label.setText("Recording… read the sentence, then press Space.")
            self._set_state(RECORDING)
        elif self.state == RECORDING:
            self.audio.stop()  # emits recorded → take_recorded
        elif self.state == REVIEW:
            self.accept_and_next()

    def _start_live(self) -> None:
        """Show the recording as it arrives, as the main window does (``_follow_recording``)."""
        self._live = GrowingSource(self.audio.rate, f"bank-recording-{next(_takes)}")
        self.spectrogram.set_placement(Placement(self._live, title="Spectrogram · recording…"))
        self.spectrogram.set_view(0.0, LIVE_SECONDS)
        self.spectrogram.set_playhead(0.0)
        self._live_timer.start()

    def _follow_recording(self) -> None:
        """Feed what was recorded since the last tick to the live spectrogram."""
        if self._live is None or not self.audio.recording:
            self._live_timer.stop()
            return
        now = self._live.pull(self.audio, self.spectrogram.cache)
        if now is None:
            return
        self.spectrogram.set_view(max(0.0, now - LIVE_SECONDS), max(LIVE_SECONDS, now))
        self.spectrogram.set_playhead(now)
        self.spectrogram.redraw()

    def _show_take(self, clip: AudioClip) -> None:
        mono = clip.mono().samples[0]
        source = ArraySource(mono, clip.sample_rate, f"bank-take-{next(_takes)}")
        self.spectrogram.set_placement(Placement(source, title="Spectrogram · this take"))
        self.spectrogram.set_view(0.0, max(clip.duration, 1e-3))
        self.spectrogram.set_playhead(0.0)

    def _audio_recorded(self, clip: AudioClip) -> None:
        """The shared audio finished a recording: a take only if this panel started it."""
        if not self._recording_here:
            return
        self._recording_here = False
        self.take_recorded(clip)

    def _message_entered(self) -> None:
        """Enter in a message field records it and hands the keys back to the panel."""
        self.setFocus()
        self.record_message()

    def record_message(self) -> None:
        """Start recording the typed message; Space stops, then Space banks it (R redoes)."""
        if self.bank is None or self.state != IDLE:
            return
        text = " ".join(self.message_text.text().split())
        if not text:
            self.verdict_label.setText("Type the message first, then press M to record it.")
            return
        tags = [t.strip() for t in self.message_tags.text().split(",") if t.strip()]
        self.message = (text, tags)
        self.prompt_label.setText(text)
        self._set_state(IDLE)
        self.primary_action()
        if self.state != RECORDING:  # no microphone: back to the script
            self.message = None
            self.show_prompt(self.prompt)

    def take_recorded(self, clip: AudioClip) -> None:
        """A finished recording (from the microphone, or handed in by a test or an import)."""
        if self.bank is None or (self.prompt is None and self.message is None):
            return
        self._live_timer.stop()
        self._live = None
        from engines.banking.bank import MAX_TAKE_S

        if clip.duration > MAX_TAKE_S:  # a forgotten Stop: keep the phrase, not the room tone
            clip = clip.slice_seconds(0.0, MAX_TAKE_S)
        self.last_clip = clip
        self._show_take(clip)
        self._set_state(CHECKING)
        bank, prompt_id, message = self.bank, self.prompt.id if self.prompt else "", self.message

        def work() -> tuple:
            from engines.banking.quality import check_take

            if message is not None:  # banked only when accepted
                return None, check_take(clip, message[0])
            return bank.add_take(prompt_id, clip, accept=False)

        # shown to the person, never lost silently
        run_task(work, lambda result: self._on_checked(*result),
                 lambda exc, _details: self._on_failed(str(exc)), owner=self)

    def _on_checked(self, take, report) -> None:
        self.last_take = take
        colour = VERDICT_COLOURS[report.verdict]
        self.verdict_label.setText(
            f"<b style='color:{colour}'>● {report.verdict.upper()}</b> — {report.summary()}"
        )
        self._set_state(REVIEW)

    def _on_failed(self, message: str) -> None:
        self.verdict_label.setText(message)
        self._set_state(IDLE)

    def accept_and_next(self) -> None:
        if self.bank is None:
            return
        if self.message is not None and self.last_clip is not None:
            text, tags = self.message
            self.bank.add_message(text, self.last_clip, tags)
            self.message = None
            self.message_text.clear()
            self.verdict_label.setText(f"Banked the message “{text}”.")
            self.show_prompt(self.bank.next_prompt())
            self._refresh()
            return
        if self.last_take is None:
            return
        self.bank.accept(self.last_take.id)
        self.last_take = None
        self.show_prompt(self.bank.next_prompt())
        self._refresh()

    def redo(self) -> None:
        if self.state == REVIEW:
            self.last_take = None  # a message stays in self.message, so M is not needed again
            self.verdict_label.setText("Again: press Space to record.")
            self._set_state(IDLE)

    def next_prompt(self) -> None:
        if self.bank is None or self.prompt is None or self.state in (RECORDING, CHECKING):
            return
        self.message = None
        prompts = self.bank.prompts()
        later = [p for p in prompts if p.position > self.prompt.position]
        if later:
            self.bank.skip_to(later[0].id)
            self.last_take = None
            self.show_prompt(later[0])
            self._refresh()

    def play_take(self) -> None:
        if self.last_clip is not None and self.state in (IDLE, REVIEW):
            try:
                self.audio.play(self.last_clip)
            except RuntimeError as exc:
                self.verdict_label.setText(str(exc))
