"""The main window's transport: play and stop, record, and following them on screen.

:class:`TransportController` is made by :class:`desktop.ui.main_window.MainWindow` with
everything it touches passed in, so what the transport depends on is its constructor, not
whichever window attributes happen to exist. Playback streams the mix from the playhead
through :class:`desktop.ui.audio.AudioIO`, rendered block by block just ahead of the device
(never the whole range first: a three-hour project would take gigabytes and a long wait);
recording feeds a live spectrogram and ends as a take (or in a panel's sink, for voice
references).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QStatusBar

from desktop.bridge import run_task
from desktop.project.store import Project
from desktop.ui.audio import AudioIO
from desktop.ui.notifications import Banner, NotificationBar
from desktop.ui.spectrogram import GrowingSource, Placement, SpectrogramPanel
from desktop.ui.timeline_view import TimelineView

PLAY_TICK_MS = 30  # how often the playhead follows playback
# The mix is rendered for playback in blocks this long: sound starts once one is mixed,
# and stopping or jumping throws away at most a few of them.
PLAY_BLOCK_SECONDS = 0.2
LIVE_TICK_MS = 200  # how often the live spectrogram takes in what was recorded


class TransportController(QObject):
    """Space and R: the window's one audio device, the playhead and the live spectrogram."""

    def __init__(
        self,
        parent: QObject,
        audio: AudioIO,
        project: Callable[[], Project | None],
        view: Callable[[], TimelineView | None],
        banner: Banner,
        notice: NotificationBar,
        status: QStatusBar,
        spectrogram: SpectrogramPanel,
        take_recorded: Callable[[object, int], None],
        show_followed_clip: Callable[[], None],
        forget_followed_clip: Callable[[], None],
    ) -> None:
        """``project`` and ``view`` are asked each time (the window opens and closes
        projects); ``take_recorded(clip, origin)`` stores a recording made for the timeline;
        the two spectrogram callables give the spectrogram back to the clip the window follows."""
        super().__init__(parent)
        self.audio = audio
        self.project = project
        self.view = view
        self.banner = banner
        self.notice = notice
        self.status = status
        self.spectrogram = spectrogram
        self.take_recorded = take_recorded
        self.show_followed_clip = show_followed_clip
        self.forget_followed_clip = forget_followed_clip
        self.play_origin = 0  # the frame playback started from
        self.play_ratio = 1.0  # project frames per frame of the clip playing
        self.record_origin = 0  # the frame a recording goes to
        self.record_sink: Callable[[object], None] | None = None  # a panel's recording, not a take
        self.live: GrowingSource | None = None  # the recording so far, for the spectrogram
        self.play_timer = QTimer(self)
        self.play_timer.setInterval(PLAY_TICK_MS)
        self.play_timer.timeout.connect(self._follow_playback)
        self.live_timer = QTimer(self)
        self.live_timer.setInterval(LIVE_TICK_MS)
        self.live_timer.timeout.connect(self._follow_recording)
        audio.finished.connect(self._playback_finished)
        audio.failed.connect(lambda text: self.notice.notify(text, error=True))
        audio.recorded.connect(self._recording_done)

    def can_record(self) -> bool:
        return self.audio.available and self.audio.has_input

    def _audio_ready(self) -> bool:
        if not self.audio.available:  # said once, in the banner: show it again, not a second copy
            self.banner.show_text(self.audio.reason)
            self.status.showMessage("No audio device: see the banner above the timeline.", 4000)
            return False
        return True

    def toggle_play(self) -> None:
        if self.audio.playing or self.audio.recording:
            self.stop()
            return
        project, view = self.project(), self.view()
        if project is None or view is None or not self._audio_ready():
            return
        start, end = view.state.playhead, None
        if view.selection is not None:  # as in Audacity: a selection plays just that range
            start, end = view.selection
            view.set_playhead(start)
        elif start >= view.length_frames:
            start = 0
            view.set_playhead(0)
        from engines.mixing import mix_stream

        try:
            tracks = project.mix_tracks()
        except Exception as exc:  # noqa: BLE001 - a damaged project becomes a notification
            self.notice.notify(f"Could not play: {exc}", error=True)
            return
        rate = project.sample_rate
        stream = mix_stream(tracks, rate, project.channels, start=start, end=end,
                            block=int(PLAY_BLOCK_SECONDS * rate))
        try:
            self.audio.play_stream(stream)
        except Exception as exc:  # noqa: BLE001 - device errors become a notification
            self.notice.notify(f"Could not start playback: {exc}", error=True)
            return
        self.play_origin, self.play_ratio = start, 1.0
        self.play_timer.start()

    def audition_take(self, take_id: int) -> None:
        """Play a take from the list; its audio is read off the GUI thread."""
        project = self.project()
        if project is None:
            return
        sha = project.take(take_id).audio_sha256
        run_task(lambda: project.load_audio(sha), lambda clip: self.play_clip(clip, follow=False),
                 self.notice.task_failed, owner=self)

    def play_clip(self, clip, follow: bool) -> None:
        """Play a clip; ``follow`` moves the playhead with it (the mix, not a take's audition)."""
        if not self._audio_ready():
            return
        try:
            self.audio.play(clip)
        except Exception as exc:  # noqa: BLE001 - device errors become a notification
            self.notice.notify(f"Could not start playback: {exc}", error=True)
            return
        project = self.project()
        self.play_ratio = project.sample_rate / clip.sample_rate if project else 1.0
        if follow:
            self.play_timer.start()

    def _follow_playback(self) -> None:
        view = self.view()
        if view is not None and self.audio.playing:
            view.set_playhead(self.play_origin + int(self.audio.position * self.play_ratio), follow=True)

    def _playback_finished(self) -> None:
        self.play_timer.stop()

    def stop(self) -> None:
        self.play_timer.stop()
        self.audio.stop()

    def toggle_record(self) -> None:
        if self.audio.recording:
            self.stop()
            return
        project = self.project()
        if not self._audio_ready() or project is None:
            return
        try:
            self.audio.record(project.sample_rate)
        except Exception as exc:  # noqa: BLE001 - no input device etc.
            self.notice.notify(f"Could not start recording: {exc}", error=True)
            return
        view = self.view()
        self.record_origin = view.state.playhead if view else 0
        self.live = GrowingSource(project.sample_rate, f"recording-{time.monotonic()}")
        self.forget_followed_clip()
        self.spectrogram.set_placement(Placement(self.live, self.record_origin / project.sample_rate,
                                                 title="Spectrogram · recording…"))
        self.live_timer.start()
        self.status.showMessage("Recording… press R or Space to stop")

    def _follow_recording(self) -> None:
        """Feed what was recorded since the last tick to the live spectrogram."""
        project = self.project()
        if not self.audio.recording or self.live is None or project is None:
            self.live_timer.stop()
            return
        seconds = self.live.pull(self.audio, self.spectrogram.cache)
        if seconds is None:
            return
        now = self.record_origin / project.sample_rate + seconds
        self.spectrogram.set_view(max(0.0, now - 10.0), max(10.0, now))
        self.spectrogram.set_playhead(now)
        self.spectrogram.redraw()

    def record_to(self, sink: Callable[[object], None] | None) -> None:
        """Record for a panel (voice references): ``sink(clip)`` gets the audio, or None
        when recording cannot start; ``record_to(None)`` stops."""
        if sink is None:
            self.stop()
            return
        self.record_sink = sink
        self.toggle_record()
        if not self.audio.recording:
            self.record_sink = None
            sink(None)

    def _recording_done(self, clip) -> None:
        self.live_timer.stop()
        sink, self.record_sink = self.record_sink, None
        if sink is not None:
            self.show_followed_clip()
            sink(clip)
            return
        self.take_recorded(clip, self.record_origin)
