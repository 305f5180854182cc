""""Train my voice": the banking panel's box that turns the bank into the person's voice.

It shows readiness (minutes of accepted speech against what a good voice needs) and how long
training would take here, runs :func:`engines.banking.training.voice.make_voice` off the GUI
thread with step/loss/time-left progress and a Stop that saves (a later Train continues
from the saved step), then shows the check's verdict and lets the person hear the result.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.bridge import run_task
from engines.banking.bank import VoiceBank
from engines.cancel import Progress

PREVIEW_TEXT = "Hello, this is my own voice. I recorded it so I can keep speaking like me."


def _duration(seconds: float) -> str:
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class TrainVoiceBox(QGroupBox):
    def __init__(self, audio, parent: QWidget | None = None) -> None:
        super().__init__("Train my voice", parent)
        self.setAccessibleName("Train my voice")
        self.audio = audio
        self.bank: VoiceBank | None = None
        self.handle = None
        self.result = None
        root = QVBoxLayout(self)

        top = QHBoxLayout()
        self.readiness = QLabel("")
        self.readiness.setWordWrap(True)
        self.readiness.setAccessibleName("Training readiness")
        self.ready_bar = QProgressBar()
        self.ready_bar.setAccessibleName("Minutes recorded of what a good voice needs")
        self.ready_bar.setMaximumWidth(180)
        top.addWidget(self.ready_bar)
        top.addWidget(self.readiness, 1)
        root.addLayout(top)

        row = QHBoxLayout()
        self.base = QComboBox()
        self.base.setAccessibleName("Base voice")
        self.steps = QSpinBox()
        self.steps.setAccessibleName("Training steps")
        self.steps.setRange(1, 200_000)
        self.steps.setSingleStep(500)
        self.steps.setValue(2000)
        self.steps.setPrefix("steps ")
        self.steps.valueChanged.connect(self._show_estimate)
        self.estimate = QLabel("")
        self.estimate.setAccessibleName("Training time estimate")
        self.train_button = QPushButton("Train my voice")
        self.stop_button = QPushButton("Stop (keeps progress)")
        self.preview_button = QPushButton("Hear it")
        for button in (self.train_button, self.stop_button, self.preview_button):
            button.setMinimumHeight(40)
        self.train_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.preview_button.clicked.connect(self.preview)
        row.addWidget(self.base)
        row.addWidget(self.steps)
        row.addWidget(self.estimate, 1)
        row.addWidget(self.train_button)
        row.addWidget(self.stop_button)
        row.addWidget(self.preview_button)
        root.addLayout(row)

        self.progress = QProgressBar()
        self.progress.setAccessibleName("Training progress")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Training status")
        root.addWidget(self.progress)
        root.addWidget(self.status)
        self._fill_bases()
        self._set_running(False)

    def _fill_bases(self) -> None:
        from engines.banking.training.bases import BASES, installed_checkpoint

        self.base.addItem("Best installed for the language", "auto")
        for base in BASES:
            mark = "" if installed_checkpoint(base) else " (downloads once)"
            self.base.addItem(f"{base.name}{mark}", base.name)
        self.base.addItem("debug: tiny test model (noise)", "debug")

    def set_bank(self, bank: VoiceBank) -> None:
        self.bank = bank
        self.refresh()

    def refresh(self, describe_run: bool = True) -> None:
        if self.bank is None:
            return
        from engines.banking.training.plan import readiness
        from engines.banking.training.run import load_state

        ready = readiness(self.bank)
        self.ready_bar.setValue(int(ready.fraction * 100))
        self.ready_bar.setFormat(f"{ready.minutes:.1f} / {ready.needed_minutes:.0f} min")
        self.readiness.setText(ready.message)
        state = load_state(self.bank)
        if state is not None and self.handle is None and describe_run:
            self.progress.setMaximum(state.steps)
            self.progress.setValue(state.steps_done)
            self.status.setText(
                f"Last run: {state.steps_done} of {state.steps} steps from {state.base}"
                + (" — press Train to continue." if not state.finished else ".")
            )
        self._show_estimate()
        self._set_running(self.handle is not None)

    def _options(self):
        from engines.banking.training.run import TrainOptions

        return TrainOptions(base=str(self.base.currentData()), steps=self.steps.value())

    def _show_estimate(self) -> None:
        if self.bank is None:
            return
        from engines.banking.training.plan import estimate_seconds

        seconds, source = estimate_seconds(self.bank, self._options())
        self.estimate.setText(f"≈ {_duration(seconds)} on this computer — {source}")

    def _set_running(self, running: bool) -> None:
        from engines.banking.training.plan import readiness

        ready = self.bank is not None and readiness(self.bank).can_train
        self.train_button.setEnabled(ready and not running)
        self.stop_button.setEnabled(running)
        self.base.setEnabled(not running)
        self.steps.setEnabled(not running)
        self.preview_button.setEnabled(not running and self._voice_file() is not None)

    def _voice_file(self):
        if self.bank is None:
            return None
        from engines.banking.training.run import training_dir

        onnx = training_dir(self.bank) / "voice" / "voice.onnx"
        return onnx if onnx.is_file() else None

    # ---- actions ----------------------------------------------------------------------
    def start(self) -> None:
        if self.bank is None or self.handle is not None:
            return
        from engines.banking.training.voice import make_voice

        bank, opts = self.bank, self._options()
        self.status.setText("Preparing the recordings…")

        def work(progress, cancel):
            return make_voice(bank, opts, say=lambda _line: None, progress=progress, cancel=cancel)

        self.handle = run_task(work, self._finished, self._failed, progress=self._progressed,
                               owner=self)
        self._set_running(True)

    def stop(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.status.setText("Stopping after this step; progress is saved…")

    def _progressed(self, p: Progress) -> None:
        if p.stage.startswith("training"):
            self.progress.setMaximum(max(1, int(p.total)))
            self.progress.setValue(int(p.done))
            self.status.setText(f"Step {int(p.done)} of {int(p.total)} · {p.stage.removeprefix('training: ')}")
        else:
            self.status.setText(p.stage[:1].upper() + p.stage[1:] + "…")

    def _finished(self, result) -> None:
        self.handle, self.result = None, result
        lines = result.gate.lines() if result.gate is not None else []
        added = (f"Added to your voices as '{result.added}'." if result.added
                 else "Not added yet: it did not pass its check. Train longer or record more.")
        self.status.setText(" · ".join([*lines, added]))
        self.refresh(describe_run=False)

    def _failed(self, exc: BaseException, _details: str) -> None:
        self.handle = None
        self.status.setText(str(exc))
        self.refresh(describe_run=False)

    def preview(self) -> None:
        onnx = self._voice_file()
        if onnx is None:
            return
        import numpy as np

        from engines.audio import AudioClip

        def work():
            from engines.speech.piper_engine import PiperEngine
            from engines.speech.request import SpeechRequest

            piper = PiperEngine()  # fresh: the file is replaced by each training run
            audio = piper.raw(PREVIEW_TEXT, SpeechRequest(PREVIEW_TEXT, voice=str(onnx), seed=0))
            return AudioClip(np.asarray(audio, np.float32), piper.sample_rate)

        def play(clip) -> None:
            self.last_preview = clip
            try:
                self.audio.play(clip)
            except RuntimeError as exc:  # no sound card
                self.status.setText(str(exc))

        self.status.setText("Speaking a sentence in the trained voice…")
        run_task(work, play, self._failed, owner=self)
