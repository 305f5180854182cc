"""The main window's project: open, new, close, undo and redo, placing takes, import and export.

:class:`ProjectController` is made by :class:`desktop.ui.main_window.MainWindow` and holds the
open project, its :class:`Timeline` and its :class:`TimelineView`; what it needs from the
window (the layout the view goes in, the panels whose forms are kept with the project, the
notifications) is passed in, and what the window shows of a project (title, undo labels,
spectrogram) it is told through three callbacks. Every edit goes through the Timeline
(autosaved, undoable); reading, storing and exporting audio run in the thread pool.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QInputDialog,
    QProgressDialog,
    QStatusBar,
    QVBoxLayout,
    QWidget,
)

from desktop.bridge import run_task
from desktop.project.store import Project
from desktop.project.timeline import Timeline
from desktop.ui.generation import GenerationPanel
from desktop.ui.notifications import NotificationBar
from desktop.ui.timeline_view import TimelineView, spot_words
from desktop.ui.waveforms import PeakCache
from engines.audio_io import import_filter
from engines.errors import TimbreError
from engines.settings import set_setting

EXPORT_STEPS = 1000  # the export bar's resolution
AUDIO_FILTER = f"{import_filter()};;All files (*)"  # every format import reads (PyAV too)
VIEW_INDEX = 1  # the timeline view's place in the centre column: under the banner


class ProjectController(QObject):
    """The open project and the edits, imports and exports made on it."""

    def __init__(
        self,
        window: QWidget,
        centre: QVBoxLayout,
        peaks: PeakCache,
        panels: dict[str, GenerationPanel],
        notice: NotificationBar,
        status: QStatusBar,
        opened: Callable[[Project, TimelineView], None],
        closing: Callable[[], None],
        after_edit: Callable[[str], None],
        retire: Callable[[Project], None] = Project.close,
    ) -> None:
        """``window`` parents the file and progress dialogs; ``centre`` is the column the
        timeline view goes in; ``panels`` is the window's dict (filled after this exists),
        whose forms are kept with the project. ``opened(project, view)`` lets the window
        connect to a new view, ``closing()`` stop what plays before the project goes, and
        ``after_edit(label)`` show each edit (a timeline listener, also run after a refresh);
        ``retire(project)`` closes a project the window leaves (later, if jobs still write to it)."""
        super().__init__(window)
        self.window = window
        self.centre = centre
        self.peaks = peaks
        self.panels = panels
        self.notice = notice
        self.status = status
        self.opened = opened
        self.closing = closing
        self.after_edit = after_edit
        self.retire = retire
        self.project: Project | None = None
        self.timeline: Timeline | None = None
        self.view: TimelineView | None = None
        self.export_progress: QProgressDialog | None = None  # the last export's bar

    # ---- open and close ------------------------------------------------------------
    def open_project(self, project: Project) -> None:
        self.close_project()
        self.project = project
        self.timeline = Timeline(project)
        self.view = TimelineView(project, self.timeline, self.peaks)
        self.centre.insertWidget(VIEW_INDEX, self.view, 1)
        self.timeline.listeners.append(self.after_edit)
        self.opened(project, self.view)
        set_setting("last_project", str(project.path))
        forms = project.get_state("forms")
        for kind, panel in self.panels.items():  # what was typed in the panels last time
            panel.restore_state(forms.get(kind) if isinstance(forms, dict) else None)
        self.after_edit("")
        if project.damaged:
            self.notice.notify(project.damaged, error=True)

    def save_forms(self) -> None:
        """Keep what is typed in the panels with the project, for the next session."""
        if self.project is not None and not self.project.damaged:
            forms = {kind: panel.saved_state() for kind, panel in self.panels.items()}
            self.guard(self.project.set_state, "forms", forms)

    def close_project(self) -> None:
        if self.project is None:
            return
        self.closing()
        self.save_forms()
        if self.view is not None:
            self.view.detach()
            self.centre.removeWidget(self.view)
            self.view.hide()
            self.view.deleteLater()
        self.retire(self.project)
        self.project = self.timeline = self.view = None

    def new_project_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "New project", str(Path.home() / "Untitled.timbre"))
        if path:
            project = self.guard(Project.create, path)
            if project is not None:
                self.open_project(project)

    def open_project_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self.window, "Open project (a .timbre folder)")
        if path:
            project = self.guard(Project.open, path)
            if project is not None:
                self.open_project(project)

    # ---- edits ---------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the store after changes made outside the timeline (imports, new takes)."""
        if self.view is not None:
            self.view.reload()
        self.after_edit("")

    def guard(self, fn, *args) -> object:
        """Run an edit; a refused edit becomes a notification, not a crash."""
        try:
            return fn(*args)
        except TimbreError as exc:
            self.notice.notify(str(exc), error=True)
            return None

    def undo(self) -> None:
        if self.timeline is not None and self.guard(self.timeline.undo) is None:
            self.status.showMessage("Nothing to undo", 2000)

    def redo(self) -> None:
        if self.timeline is not None and self.guard(self.timeline.redo) is None:
            self.status.showMessage("Nothing to redo", 2000)

    # ---- takes ---------------------------------------------------------------------
    def place_take(self, take_id: int, track_id: int | None = None, at: int | None = None) -> int | None:
        """One click: the take goes on the selected track (a new one if none) at the playhead,
        or, where that would cover a clip, where Settings › When clips would overlap says."""
        if self.view is None or self.timeline is None or self.project is None:
            return None
        track = track_id or self.view.state.track or self.guard(self.timeline.add_track)
        if track is None:  # the new track was refused (already said in the notice)
            return None
        start = self.view.state.playhead if at is None else at
        length = self.project.take_frames(self.project.take(take_id))
        spot = self.view.free_spot(track, start, length)
        where = spot.track if spot.track is not None else self.guard(self.timeline.add_track)
        if where is None:
            return None
        self.view.reload()
        clip_id = self.guard(self.timeline.add_clip, where, take_id, spot.start, 0, spot.length)
        if clip_id is not None:
            self.view.select_clip(clip_id)
            said = spot_words(self.view, spot, where, track, start, length)
            if said:
                self.notice.notify(said)
        return clip_id

    def add_recording(self, clip, origin: int) -> None:
        """A recording made with R becomes a take, placed where the playhead was."""
        if self.project is None or self.timeline is None or self.view is None:
            return
        take = self.project.add_take(clip, f"Recording {time.strftime('%H:%M:%S')}", "import")
        self.refresh()
        self.place_take(take.id, at=origin)

    # ---- import / export -----------------------------------------------------------
    def import_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self.window, "Import audio", "", AUDIO_FILTER)
        self.import_files(files)

    def import_files(self, files: list[str], track_id: int | None = None, at: int = 0) -> None:
        """Read and store the files in the background, then place them with undoable edits:
        on ``track_id`` at frame ``at`` (a drop on the timeline), else each on a new track."""
        project = self.project
        if project is None or not files:
            return
        self.status.showMessage(f"Importing {len(files)} file(s)…")

        def work() -> tuple[list, list[str]]:
            takes, failed = [], []
            for f in files:
                try:  # streamed into the store: any length in bounded memory
                    takes.append(project.import_take(f))
                except TimbreError as exc:
                    failed.append(str(exc))
            return takes, failed

        def done(result: tuple[list, list[str]]) -> None:
            takes, failed = result
            if project is self.project and self.timeline is not None:
                start = at
                for take in takes:
                    if track_id is None:
                        track = self.guard(self.timeline.add_track, take.name)
                        self.guard(self.timeline.add_clip, track, take.id, start)
                        continue
                    clip_id = self.place_take(take.id, track_id, start)  # covers no clip there
                    if clip_id is not None:  # one after another on that track
                        start = self.project.clip(clip_id).end_frame
            self.refresh()
            if failed:
                self.notice.notify(failed[0], details="\n".join(failed), error=True)
            else:
                self.status.showMessage(f"Imported {len(takes)} file(s)", 3000)

        run_task(work, done, self.notice.task_failed)

    def has_audio(self, to_do: str, remedy: str) -> bool:
        """False (and says why) when there is no project or nothing on its timeline."""
        if self.project is None:
            return False
        if not self.project.clips():
            self.notice.notify(f"There is nothing on the timeline to {to_do} yet. {remedy}", error=True)
            return False
        return True

    def export_dialog(self) -> None:
        if not self.has_audio("export", "Import or generate audio first.") or self.project is None:
            return
        from engines.settings import get_setting

        fmt = str(get_setting("export/format"))  # Preferences' defaults start the dialogs
        filters = "WAV (*.wav);;FLAC (*.flac);;OGG (*.ogg);;MP3 (*.mp3);;Opus (*.opus);;M4A (*.m4a)"
        chosen = next((f for f in filters.split(";;") if f"*.{fmt})" in f), "")
        path, _ = QFileDialog.getSaveFileName(
            self.window, "Export mix", str(Path.home() / f"{self.project.name}.{fmt}"), filters, chosen)
        if not path:
            return
        from engines.podcast.presets import PRESETS

        keep = "Keep the mix's levels"
        choices = [keep, *(p.label for p in PRESETS.values())]
        preset = str(get_setting("export/loudness_preset"))
        first = list(PRESETS).index(preset) + 1 if preset in PRESETS else 0
        choice, ok = QInputDialog.getItem(
            self.window, "Export loudness", "Loudness of the exported file (true peak ≤ −1 dBTP):",
            choices, first, False)
        if ok:
            preset = next((p for p in PRESETS.values() if p.label == choice), None)
            from desktop.ui.export_quality import ask_encoding

            fmt = Path(path).suffix.lstrip(".").lower()
            preferred = int(get_setting("export/mp3_bitrate")) if fmt == "mp3" else None
            encoding = ask_encoding(self.window, fmt, preferred)
            if encoding is not None:
                self.export_to(path, preset, encoding)

    def export_to(self, path: str, preset: object | None = None, encoding: object | None = None) -> None:
        """Export the mix (the same path as `timbre export`); ``preset`` is a loudness
        preset from engines.podcast.presets (target LUFS and channel count), or None."""
        import shiboken6

        from desktop.project import export as exporting
        from engines.errors import Cancelled

        project = self.project
        lufs = getattr(preset, "lufs", None)
        channels = getattr(preset, "channels", None)
        dialog = QProgressDialog(f"Exporting {Path(path).name}…", "Cancel", 0, EXPORT_STEPS, self.window)
        dialog.setWindowTitle("Export mix")
        dialog.setAccessibleName("Export progress")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)  # the mix must not change under it
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)

        def moved(p) -> None:
            if shiboken6.isValid(dialog) and not task.cancelled:  # the window may be gone
                dialog.setValue(round(p.fraction * EXPORT_STEPS))
                dialog.setLabelText(f"Exporting {Path(path).name}… {p.stage}".rstrip())

        def export(progress, cancel) -> object:
            return exporting.export_project(project, path, lufs=lufs, channels=channels,
                                            cancel=cancel, progress=progress, encoding=encoding)

        def done(result) -> None:
            dialog.setValue(EXPORT_STEPS)
            dialog.hide()  # not close(): a closed progress dialog reports itself cancelled
            summary = result.summary()  # capitalize() would lower "LUFS" and "CBR" too
            self.notice.notify(summary[:1].upper() + summary[1:])

        def failed(exc: BaseException, details: str) -> None:
            dialog.hide()
            if isinstance(exc, Cancelled):
                self.notice.notify(f"Export cancelled: {Path(path).name} was not finished.")
            else:
                self.notice.task_failed(exc, details)

        self.status.showMessage(f"Exporting {Path(path).name}…")
        task = run_task(export, done, failed, progress=moved, owner=self.window)
        dialog.canceled.connect(task.cancel)
        dialog.canceled.connect(lambda: dialog.setLabelText("Cancelling…"))
        dialog.show()
        self.export_progress = dialog
