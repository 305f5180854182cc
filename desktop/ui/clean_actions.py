"""Edit › "Separate stems…", "Denoise…" and "Convert voice…" on the selected clip (the
first two else on the selected track).

The slow half (rendering, demucs, RNNoise or noisereduce, storing the takes) runs on a
worker through ``run_task`` with a progress dialog that can cancel; the edit itself (stems
as new tracks, or the denoised audio in place) is made on the GUI thread through the
project's Timeline, so it is one Undo step like every other edit
(``desktop.session.stems`` and ``desktop.session.convert`` hold both halves; ``timbre
stems`` and ``timbre convert`` use the same ones).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QInputDialog, QProgressDialog, QWidget

from desktop.bridge import run_task

STEPS = 1000
STEM_CHOICES = {
    "All four stems: drums, bass, other, vocals": None,
    "Vocals and the rest (dialogue isolation)": "vocals",
    "Drums and the rest": "drums",
    "Bass and the rest": "bass",
}


class CleanActions(QObject):
    """Owns the two actions; ``project``/``view``/``timeline`` are getters (the open
    project changes), ``notice`` the window's notification bar."""

    def __init__(self, window: QWidget, project: Callable[[], Any], view: Callable[[], Any],
                 timeline: Callable[[], Any], notice: Any, refresh: Callable[[], None]) -> None:
        super().__init__(window)
        self.window, self.project, self.view, self.timeline = window, project, view, timeline
        self.notice, self.refresh = notice, refresh
        self.progress_dialog: QProgressDialog | None = None
        self.model: str | None = None  # None: htdemucs; "debug" for tests and trying it out
        self.vc_model: str | None = None  # None: the installed Chatterbox; "debug" likewise
        self.act_stems = QAction("Separate &stems…", window)
        self.act_stems.setStatusTip("Split the selected clip (else track) into drums, bass, other "
                                    "and vocals, or isolate dialogue, each on a new track")
        self.act_stems.triggered.connect(lambda: self.separate_stems())
        self.act_denoise = QAction("De&noise…", window)
        self.act_denoise.setStatusTip("Lower the noise of the selected clip (else every clip on "
                                      "the selected track), in place")
        self.act_denoise.triggered.connect(lambda: self.denoise())
        self.act_convert = QAction("Con&vert voice…", window)
        self.act_convert.setStatusTip("Re-speak the selected clip in a library voice that has "
                                      "consent (Chatterbox), on a new track below it")
        self.act_convert.triggered.connect(lambda: self.convert_voice())
        self.actions = [self.act_stems, self.act_denoise, self.act_convert]

    # ---- what the action works on -------------------------------------------------------
    def target(self) -> tuple[int | None, int | None]:
        """(clip id, track id): the selected clip, else the selected track."""
        view = self.view()
        if view is None:
            return None, None
        clip = view.selected_clip
        if clip is not None:
            return clip, None
        return None, view.state.track

    def _nothing(self, what: str) -> bool:
        clip, track = self.target()
        if self.project() is None or (clip is None and track is None):
            self.notice.notify(f"Select a clip or a track to {what} first.", error=True)
            return True
        return False

    # ---- stems --------------------------------------------------------------------------
    def separate_stems(self, two_stems: str | None = None, ask: bool = True) -> None:
        from desktop.session.stems import clip_source, separate_to_takes, track_source

        if self._nothing("separate"):
            return
        if ask:
            choice, ok = QInputDialog.getItem(self.window, "Separate stems",
                                              "Separate into (each stem becomes a new track):",
                                              list(STEM_CHOICES), 0, False)
            if not ok:
                return
            two_stems = STEM_CHOICES[choice]
        project, model = self.project(), self.model
        clip, track = self.target()

        def work(progress, cancel):
            source = clip_source(project, clip) if clip is not None else track_source(project, track)
            return separate_to_takes(project, source, model, two_stems, progress, cancel)

        def done(result) -> None:
            from desktop.session.stems import place_stems

            if project is self.project() and self.timeline() is not None:
                place_stems(self.timeline(), result)
                self.refresh()
                self.notice.notify(f"Separated {result.source.name} into "
                                   f"{', '.join(result.stems)}: {len(result.stems)} new tracks.")

        self._run("Separating stems", work, done)

    # ---- denoise ------------------------------------------------------------------------
    def denoise(self, method: str | None = None) -> None:
        from desktop.session.stems import clips_of, denoise_to_takes
        from engines.podcast.cleanup import DENOISERS

        if self._nothing("denoise"):
            return
        if method is None:
            labels = {label: key for key, label in reversed(DENOISERS.items())}  # neural first
            choice, ok = QInputDialog.getItem(self.window, "Denoise", "Noise reduction:",
                                              list(labels), 0, False)
            if not ok:
                return
            method = labels[choice]
        project = self.project()
        clip, track = self.target()
        clips = clips_of(project, track, clip)
        if not clips:
            self.notice.notify("That track has no clips to denoise.", error=True)
            return
        name = project.take(project.clip(clips[0]).take_id).name if clip else project.track(track).name

        def work(progress, cancel):
            return denoise_to_takes(project, clips, method, progress, cancel)

        def done(replacements) -> None:
            if project is self.project() and self.timeline() is not None:
                self.timeline().replace_clip_audio(replacements, f"Denoise {name}")
                self.refresh()
                self.notice.notify(f"Denoised {name} ({method}); Undo brings the noise back.")

        self._run("Denoising", work, done)

    # ---- convert voice ------------------------------------------------------------------
    def convert_voice(self, voice: str | None = None) -> None:
        from desktop.session.convert import consented_voices, convert_to_take, place_converted

        clip, _track = self.target()
        if self.project() is None or clip is None:
            self.notice.notify("Select the clip to convert first (click it on the timeline).",
                               error=True)
            return
        if voice is None:
            voices = consented_voices()
            if not voices:
                self.notice.notify("No library voice has a consent recording yet: add a voice "
                                   "and record its consent in the Voices panel first.", error=True)
                return
            voice, ok = QInputDialog.getItem(self.window, "Convert voice",
                                             "Re-speak the clip in (a new track below it):",
                                             voices, 0, False)
            if not ok:
                return
        project, model = self.project(), self.vc_model

        def work(progress, cancel):
            return convert_to_take(project, clip, voice, model, progress, cancel)

        def done(result) -> None:
            if project is self.project() and self.timeline() is not None:
                place_converted(self.timeline(), result)
                self.refresh()
                self.notice.notify(f"Converted {result.source.name} to {voice}'s voice: a new "
                                   "track below it. Undo removes it.")

        self._run("Converting voice", work, done)

    # ---- running ------------------------------------------------------------------------
    def _run(self, title: str, work, done) -> None:
        import shiboken6

        from engines.errors import Cancelled

        dialog = QProgressDialog(f"{title}…", "Cancel", 0, STEPS, self.window)
        dialog.setWindowTitle(title)
        dialog.setAccessibleName(f"{title} progress")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)  # the timeline must not change under it
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)

        def moved(p) -> None:
            if shiboken6.isValid(dialog) and not task.cancelled:
                dialog.setValue(round(p.fraction * STEPS))
                dialog.setLabelText(f"{title}… {p.stage}".rstrip())

        def finished(result) -> None:
            dialog.hide()
            done(result)

        def failed(exc: BaseException, details: str) -> None:
            dialog.hide()
            if isinstance(exc, Cancelled):
                self.notice.notify(f"{title} cancelled; nothing was changed.")
            else:
                self.notice.task_failed(exc, details)

        task = run_task(work, finished, failed, progress=moved, owner=self.window)
        dialog.canceled.connect(task.cancel)
        dialog.show()
        self.progress_dialog = dialog
        self.task = task
