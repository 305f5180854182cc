"""Master a podcast episode from the project's tracks (issue 7).

The studio front end of ``timbre podcast master``: each track gets a role (voice, music
bed, intro, outro, or left out), and the same ``engines.podcast.master`` pipeline runs on
them. A track's audio is that track alone through ``engines.mixing.mix_stream`` (clip gains,
fades and track gain kept; mute/solo ignored, since the role says what is heard), so the
episode hears what the timeline plays. Markers become chapters as in Export mix (chapter markers,
else all markers).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.bridge import run_task
from desktop.project.store import Project
from engines.cancel import CancelToken, Progress
from engines.errors import Cancelled
from engines.podcast.presets import PRESETS

ROLES = {"voice": "Voice", "music": "Music bed", "intro": "Intro", "outro": "Outro", "skip": "Leave out"}
MUSIC_KINDS = {"music", "sfx"}
MASTER_SHARE = 0.8  # of the progress bar; writing the episode (one more pass) takes the rest
FILTERS = "WAV (*.wav);;FLAC (*.flac);;MP3 (*.mp3);;OGG (*.ogg)"


def _tip(widget: QWidget, name: str, tip: str) -> QWidget:
    """Screen readers read the name; the tooltip says what the control does."""
    widget.setAccessibleName(name)
    widget.setToolTip(tip)
    return widget


def default_role(project: Project, track_id: int) -> str:
    """Generated music or effects on a track make it the bed; anything else is a voice."""
    kinds = {t.id: t.kind for t in project.takes()}
    clips = project.clips(track_id)
    return "music" if clips and all(kinds[c.take_id] in MUSIC_KINDS for c in clips) else "voice"


def render_tracks(project: Project, indices: list[int], channels: int):
    """The given tracks (positions in ``project.tracks()``) mixed without the rest, as a
    stream (``engines.mixing.mix_stream``: rendered block by block, so an episode of any
    length is never held whole), or None when no track has the role; two intro tracks,
    say, play together as one intro."""
    from engines.mixing import mix_stream

    if not indices:
        return None
    mix = project.mix_tracks()
    chosen = [replace(mix[i], mute=False, solo=False) for i in indices]
    return mix_stream(chosen, project.sample_rate, channels)


class PodcastDialog(QDialog):
    """Roles per track, loudness preset, ducking, pauses, output file; renders off the GUI
    thread. ``finished_master`` carries the MasterResult (or None on cancel/failure), closed:
    its numbers and chapters stay, its spooled audio is gone once the file is written."""

    progressed = Signal(float, str)  # emitted on the worker thread; delivered queued
    finished_master = Signal(object)

    def __init__(self, project: Project, parent: QWidget | None = None, notify=None) -> None:
        super().__init__(parent)
        self.project, self.notify = project, notify
        self.token: CancelToken | None = None
        self.result = None
        self.setWindowTitle("Master episode")
        self.setAccessibleName("Master episode")

        tracks_box = QGroupBox("Tracks")
        form = QFormLayout(tracks_box)
        self.roles: list[QComboBox] = []
        for track in project.tracks():
            combo = QComboBox()
            for key, label in ROLES.items():
                combo.addItem(label, key)
            combo.setCurrentIndex(list(ROLES).index(default_role(project, track.id)))
            _tip(combo, f"Role of track {track.name}",
                 "Voices are cleaned and levelled; the music bed is ducked under speech; "
                 "intro and outro play before and after")
            self.roles.append(combo)
            form.addRow(track.name, combo)

        settings = QFormLayout()
        self.preset = QComboBox()
        for p in PRESETS.values():
            self.preset.addItem(p.label, p.name)
        _tip(self.preset, "Loudness preset", "Target loudness of the episode; true peak stays ≤ −1 dBTP")
        self.duck = QDoubleSpinBox(decimals=1, minimum=0.0, maximum=40.0, value=12.0, suffix=" dB")
        _tip(self.duck, "Duck music by", "How far the music bed drops while someone speaks")
        self.pause = QDoubleSpinBox(decimals=1, minimum=0.0, maximum=10.0, value=1.0, suffix=" s",
                                    singleStep=0.1)
        self.pause.setSpecialValueText("Keep pauses")
        _tip(self.pause, "Longest pause", "Pauses longer than this are shortened to it; 0 keeps them")
        self.denoise = QComboBox()
        from engines.podcast.cleanup import DENOISERS

        for key, label in DENOISERS.items():
            self.denoise.addItem(label.split(":")[0], key)
        self.denoise.addItem("Off", "off")
        _tip(self.denoise, "Noise reduction",
             "; ".join(DENOISERS.values()) + ". Off keeps the voices' noise as recorded")
        self.output = QLineEdit(str(Path.home() / f"{project.name} episode.mp3"))
        self.output.setMinimumWidth(320)  # long paths stay readable
        _tip(self.output, "Output file", "Where the episode is written: .wav, .flac, .mp3 or .ogg")
        browse = _tip(QPushButton("Choose…"), "Choose output file", "Pick the file to write")
        browse.clicked.connect(self.choose_output)
        out_row = QHBoxLayout()
        out_row.addWidget(self.output, 1)
        out_row.addWidget(browse)
        settings.addRow("Loudness", self.preset)
        settings.addRow("Duck music by", self.duck)
        settings.addRow("Longest pause", self.pause)
        settings.addRow("Noise reduction", self.denoise)
        settings.addRow("Output", out_row)

        self.progress = _tip(QProgressBar(), "Mastering progress", "How far mastering has got")
        self.progress.setRange(0, 1000)
        self.status = _tip(QLabel(self._chapter_note()), "Mastering status",
                           "What mastering is doing, then the measured loudness")
        self.status.setWordWrap(True)
        self.start = _tip(QPushButton("Master"), "Master episode", "Render and export the episode")
        self.start.setDefault(True)
        self.cancel = _tip(QPushButton("Cancel"), "Cancel mastering", "Stop mastering; nothing is written")
        self.cancel.setEnabled(False)
        close = _tip(QPushButton("Close"), "Close", "Close this dialog")
        self.start.clicked.connect(self.begin)
        self.cancel.clicked.connect(self.stop)
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.start, self.cancel, close):
            buttons.addWidget(b)

        layout = QVBoxLayout(self)
        layout.addWidget(tracks_box)
        layout.addLayout(settings)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.progressed.connect(self._show_progress)

    def _chapter_note(self) -> str:
        n = len(self.chapters())
        return f"{n} marker(s) on the timeline become chapters." if n else "No markers, so no chapters."

    def chapters(self):
        """The same chapters as Export mix (chapter markers, else all markers)."""
        from desktop.project.export import project_chapters

        return project_chapters(self.project)

    def choose_output(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Episode file", self.output.text(), FILTERS)
        if path:
            self.output.setText(path)

    def cleanup_settings(self):
        """The voices' clean-up with the chosen noise reduction (as ``--denoise``)."""
        from engines.podcast.cleanup import CleanupSettings

        choice = self.denoise.currentData()
        if choice == "off":
            return CleanupSettings(noise_reduction=False)
        return CleanupSettings(denoiser=choice)

    def role_indices(self, role: str) -> list[int]:
        return [i for i, combo in enumerate(self.roles) if combo.currentData() == role]

    def begin(self) -> None:
        """Read the controls here (GUI thread); render, master and export on the worker."""
        from engines.audio_io import format_for
        from engines.errors import BadInput
        from engines.podcast.master import MasterRequest, export_episode, master

        path = Path(self.output.text()).expanduser()
        try:
            format_for(path)  # a bad extension fails before minutes of rendering
        except BadInput as exc:
            self.status.setText(str(exc))
            return
        if not self.role_indices("voice"):
            self.status.setText("Give at least one track the Voice role.")
            return
        preset = PRESETS[self.preset.currentData()]
        project, ch = self.project, preset.channels
        voices = self.role_indices("voice")
        others = {r: self.role_indices(r) for r in ("music", "intro", "outro")}
        duck, pause, chapters = self.duck.value(), self.pause.value() or None, self.chapters()
        cleanup = self.cleanup_settings()
        token = self.token = CancelToken()

        def report(share: float, start: float):
            """Mastering fills the first MASTER_SHARE of the bar, writing the rest."""

            def sink(p: Progress) -> None:
                self.progressed.emit(start + share * p.fraction, p.stage)

            return sink

        def work():
            request = MasterRequest(
                voices=[render_tracks(project, [i], 1) for i in voices],
                music=render_tracks(project, others["music"], ch),
                intro=render_tracks(project, others["intro"], ch),
                outro=render_tracks(project, others["outro"], ch),
                preset=preset, duck_db=duck, max_pause_s=pause, chapters=chapters,
                cleanup=cleanup,
            )
            with master(request, report(MASTER_SHARE, 0.0), token) as result:
                token.check()
                written = export_episode(result, path, title=project.name,
                                         progress=report(1 - MASTER_SHARE, MASTER_SHARE),
                                         cancel=token)
            return result, written

        self.start.setEnabled(False)
        self.cancel.setEnabled(True)
        self.progress.setValue(0)
        self.status.setText("Rendering tracks…")
        run_task(work, self._done, self._failed, owner=self)

    def stop(self) -> None:
        if self.token is not None:
            self.token.cancel()
            self.status.setText("Cancelling…")

    def _show_progress(self, fraction: float, stage: str) -> None:
        if self.token is not None and not self.token.cancelled:
            self.progress.setValue(int(fraction * 1000))
            self.status.setText(f"{stage.capitalize()}…")

    def _end(self) -> None:
        self.token = None
        self.start.setEnabled(True)
        self.cancel.setEnabled(False)

    def _done(self, outcome) -> None:
        result, path = outcome
        self._end()
        self.result = result
        self.progress.setValue(1000)
        summary = (f"Wrote {path.name}: {result.lufs:.1f} LUFS, true peak {result.true_peak_db:.1f} dBTP, "
                   f"{result.duration:.1f} s, {len(result.chapters)} chapter(s).")
        self.status.setText(summary)
        if self.notify is not None:
            self.notify(summary)
        self.finished_master.emit(result)

    def _failed(self, exc: BaseException, details: str) -> None:
        self._end()
        self.progress.setValue(0)
        message = "Mastering cancelled; nothing was written." if isinstance(exc, Cancelled) else str(exc)
        self.status.setText(message)
        if self.notify is not None and not isinstance(exc, Cancelled):
            self.notify(message, details=details, error=True)
        self.finished_master.emit(None)

    def reject(self) -> None:
        """Closing while mastering cancels it, so no worker writes after the dialog is gone."""
        self.stop()
        super().reject()
