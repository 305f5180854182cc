"""Run by test_audio_io.py in a fresh process whose ALSA default device writes to a file:
build a 20-minute project of a few short clips far apart, press Play, stop after a few
seconds, and print JSON: peak memory before and after, and the position reached. The mix's
first seconds, for comparing with what the device got, go to ``<folder>/reference.npy``."""

from __future__ import annotations

import json
import resource
import sys
import threading
import time
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QApplication

from tests.ui.audio_session import pump

RATE = 48_000
LENGTH_S = 20 * 60
PLAY_S = 5


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def build(path: Path):
    """Three tracks; their clips start at 0.5 s, 10 min and near the end (20 min)."""
    from desktop.project.store import Project
    from desktop.project.timeline import Timeline
    from engines.audio import AudioClip

    project = Project.create(path, RATE, 2)
    timeline = Timeline(project)
    rng = np.random.default_rng(7)
    for i, (at, pan, gain) in enumerate([(0.5, 0.0, 0.0), (1.25, 0.6, -6.0), (600.0, -0.4, 0.0)]):
        track = timeline.add_track()
        timeline.set_track(track, pan=pan, gain_db=gain)
        noise = (0.2 * rng.standard_normal((2, 3 * RATE))).astype(np.float32)
        project.add_take(AudioClip(noise, RATE), f"t{i}", "import", place_on_track=track,
                         at_frame=int(at * RATE))
    end = AudioClip(np.full((2, RATE), 0.1, np.float32), RATE)
    project.add_take(end, "end", "import", place_on_track=track, at_frame=(LENGTH_S - 1) * RATE)
    return project


def main(folder: str) -> None:
    app = QApplication(sys.argv[:1])
    from desktop.ui.main_window import MainWindow

    window = MainWindow(build(Path(folder) / "p"))
    window.show()
    pump(app, 10, lambda: window.audio.reason != "Audio has not been checked yet.")
    out: dict = {"available": window.audio.available, "reason": window.audio.reason,
                 "length": window.view.length_frames}
    # A jump: play from just before the clip at 10 min, stop after a second of audio.
    # (The output file keeps the last playback only: that is the one from 0, below.)
    window.view.set_playhead(600 * RATE - RATE // 2)
    window.act_play.trigger()
    pump(app, 10, lambda: window.audio.position >= RATE)
    window.act_play.trigger()
    out["jump_position"], out["jump_stopped"] = window.audio.position, not window.audio.playing
    window.view.set_playhead(0)
    pump(app, 0.5)
    out["rss_before_mb"] = peak_rss_mb()
    pressed = time.monotonic()
    window.act_play.trigger()
    pump(app, 600, lambda: window.audio.position > 0)
    out["first_sound_s"] = time.monotonic() - pressed
    # ALSA's file plugin is not paced in real time: stop once a few seconds have played
    pump(app, 60, lambda: window.audio.position >= PLAY_S * RATE)
    window.act_play.trigger()  # Space again: stop
    out["stopped"] = not window.audio.playing
    out["position"] = window.audio.position
    out["playhead"] = window.view.state.playhead
    out["rss_after_mb"] = peak_rss_mb()
    out["producers_left"] = sum(t.name == "playback-producer" for t in threading.enumerate())
    from engines.mixing import mixdown  # after measuring: a few seconds, in memory

    reference = mixdown(window.project.mix_tracks(), RATE, 2, start=0, end=PLAY_S * RATE)
    np.save(Path(folder) / "reference.npy", reference.samples)
    window.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
