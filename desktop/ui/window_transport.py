"""The main window's transport: play and stop, record, and following them on screen.

A mixin of :class:`desktop.ui.main_window.MainWindow` (it uses the window's audio, timeline
view, spectrogram and notifications); kept apart so the window module stays about layout.
Playback renders the mix from the playhead in the thread pool, then streams it through
:class:`desktop.ui.audio.AudioIO`; recording feeds a live spectrogram and ends as a take.
"""

from __future__ import annotations

import time

from desktop.bridge import run_task
from desktop.ui.spectrogram import GrowingSource, Placement


class TransportMixin:
    def _audio_ready(self) -> bool:
        if not self.audio.available:  # said once, in the banner: show it again, not a second copy
            self.banner.show_text(self.audio.reason)
            self.statusBar().showMessage("No audio device: see the banner above the timeline.", 4000)
            return False
        return True

    def toggle_play(self) -> None:
        if self.audio.playing or self.audio.recording:
            self.stop_audio()
            return
        project, view = self.project, self.view
        if project is None or view is None or not self._audio_ready():
            return
        start, end = view.state.playhead, None
        if view.selection is not None:  # as in Audacity: a selection plays just that range
            start, end = view.selection
            view.set_playhead(start)
        elif start >= view.length_frames:
            start = 0
            view.set_playhead(0)
        from engines.mixing import mixdown

        tracks = project.mix_tracks()
        run_task(
            lambda: mixdown(tracks, project.sample_rate, project.channels, start=start, end=end),
            lambda clip: self._start_playback(clip, start), self._task_failed)

    def _start_playback(self, clip, origin: int) -> None:
        self._play_origin = origin
        self._play_clip(clip, follow=True)

    def _play_clip(self, clip, follow: bool) -> None:
        if not self._audio_ready():
            return
        try:
            self.audio.play(clip)
        except Exception as exc:  # noqa: BLE001 - device errors become a notification
            self.notice.notify(f"Could not start playback: {exc}", error=True)
            return
        self._play_ratio = self.project.sample_rate / clip.sample_rate if self.project else 1.0
        if follow:
            self._play_timer.start()

    def _follow_playback(self) -> None:
        if self.view is not None and self.audio.playing:
            self.view.set_playhead(self._play_origin + int(self.audio.position * self._play_ratio), follow=True)

    def _playback_finished(self) -> None:
        self._play_timer.stop()

    def stop_audio(self) -> None:
        self._play_timer.stop()
        self.audio.stop()

    def toggle_record(self) -> None:
        if self.audio.recording:
            self.stop_audio()
            return
        if not self._audio_ready() or self.project is None:
            return
        try:
            self.audio.record(self.project.sample_rate)
        except Exception as exc:  # noqa: BLE001 - no input device etc.
            self.notice.notify(f"Could not start recording: {exc}", error=True)
            return
        self._record_origin = self.view.state.playhead if self.view else 0
        self._live = GrowingSource(self.project.sample_rate, f"recording-{time.monotonic()}")
        self._spectrogram_key = None
        self.spectrogram.set_placement(Placement(self._live, self._record_origin / self.project.sample_rate,
                                                 title="Spectrogram · recording…"))
        self._live_timer.start()
        self.statusBar().showMessage("Recording… press R or Space to stop")

    def _follow_recording(self) -> None:
        """Feed what was recorded since the last tick to the live spectrogram."""
        if not self.audio.recording:
            self._live_timer.stop()
            return
        seconds = self._live.pull(self.audio, self.spectrogram.cache)
        if seconds is None:
            return
        now = self._record_origin / self.project.sample_rate + seconds
        self.spectrogram.set_view(max(0.0, now - 10.0), max(10.0, now))
        self.spectrogram.set_playhead(now)
        self.spectrogram.redraw()

    def record_to(self, sink) -> None:
        """Record for a panel (voice references): ``sink(clip)`` gets the audio, or None
        when recording cannot start; ``record_to(None)`` stops."""
        if sink is None:
            self.stop_audio()
            return
        self._record_sink = sink
        self.toggle_record()
        if not self.audio.recording:
            self._record_sink = None
            sink(None)

    def _recording_done(self, clip) -> None:
        self._live_timer.stop()
        sink, self._record_sink = self._record_sink, None
        if sink is not None:
            self.update_spectrogram()
            sink(clip)
            return
        if self.project is None or self.timeline is None or self.view is None:
            return
        take = self.project.add_take(clip, f"Recording {time.strftime('%H:%M:%S')}", "import")
        self.refresh()
        self.place_take(take.id, at=getattr(self, "_record_origin", 0))
