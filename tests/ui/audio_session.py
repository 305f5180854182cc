"""Run by test_audio_io.py in a fresh process whose ALSA default device is a file pair:
record (R) from a WAV-like raw file, then play (Space) into another. Prints JSON results."""

from __future__ import annotations

import json
import sys
import time

from PySide6.QtWidgets import QApplication


def pump(app: QApplication, seconds: float, until=lambda: False) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end and not until():
        app.processEvents()
        time.sleep(0.005)


def main(project_path: str) -> None:
    app = QApplication(sys.argv[:1])
    from desktop.project.store import Project
    from desktop.ui.main_window import MainWindow

    window = MainWindow(Project.create(project_path))
    window.show()
    pump(app, 10, lambda: window.audio.reason != "Audio has not been checked yet.")
    out: dict = {"available": window.audio.available, "reason": window.audio.reason,
                 "banner": window.banner.isVisible()}
    levels = []
    window.act_record.trigger()
    # ALSA's file plugin is not paced in real time: stop after one second of audio
    pump(app, 10, lambda: levels.append(window.audio.level) or window.audio.position >= 48_000)
    pump(app, 10, lambda: window.transport.live is not None and window.transport.live.frames > 0)  # the live spectrogram's 200 ms tick
    out["live_title"] = window.spectrogram.title.text()
    out["live_frames"] = window.transport.live.frames
    window.act_record.trigger()
    pump(app, 5, lambda: bool(window.project.clips()))
    clips = window.project.clips()
    out["recorded_clips"] = [(c.start_frame, c.length_frames) for c in clips]
    out["record_peak"] = max(levels, default=0.0)
    window.view.set_selection((0, 4_800))  # a selection plays just that range
    window.act_play.trigger()
    pump(app, 5, lambda: window.audio.playing)
    pump(app, 10, lambda: not window.audio.playing)
    out["selection_position"] = window.audio.position
    window.view.set_selection(None)
    window.view.set_playhead(0)
    window.act_play.trigger()  # the whole timeline: this is what the output file keeps
    pump(app, 5, lambda: window.audio.playing)
    out["played"] = window.audio.playing or window.audio.position > 0
    pump(app, 10, lambda: not window.audio.playing)
    out["play_position"] = window.audio.position
    window.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
