"""QApplication set-up and the studio's entry point.

``run_app`` opens the project given (or the last one, or a fresh "Untitled"), shows the
window and runs the event loop. With ``screenshot`` it renders the window offscreen to a
PNG (with a demo project when none is given) and exits: the window is the product, so it
is looked at, not just tested. torch is never imported here; engines import it when a job
first needs it.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

_T0 = time.perf_counter()


def process_age() -> float:
    """Seconds since this process started (Linux), else since this module was imported."""
    try:
        with open("/proc/self/stat") as handle:
            start_ticks = int(handle.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as handle:
            uptime = float(handle.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return time.perf_counter() - _T0


def report_startup() -> None:
    """One line on stderr: time to first paint and whether torch was (wrongly) imported."""
    torch = "torch loaded" if "torch" in sys.modules else "torch not loaded"
    print(f"timbre: first paint {process_age():.2f} s after process start ({torch})", file=sys.stderr)


def default_project():
    """The last project if it still opens, else a new Untitled project in the data folder."""
    return default_project_and_whether_new()[0]


def default_project_and_whether_new():
    """``default_project`` and True when it was just made (the window then says where)."""
    from desktop.project.errors import ProjectError
    from desktop.project.store import Project
    from engines.paths import data_dir
    from engines.settings import get_setting

    last = get_setting("last_project")
    if last:
        try:
            return Project.open(last), False
        except ProjectError:
            pass
    folder = data_dir() / "projects"
    folder.mkdir(parents=True, exist_ok=True)
    n = 1
    while (folder / f"Untitled {n}.timbre").exists():
        n += 1
    return Project.create(folder / f"Untitled {n}"), True


def open_or_create(path: str):
    from desktop.project.store import Project, project_path

    if (project_path(path) / "project.db").exists() or (Path(path) / "project.db").exists():
        return Project.open(path)
    return Project.create(path)


def make_demo_project(folder: Path):
    """A small project with music, a voice-like line and effects, all synthesised here."""
    import numpy as np

    from desktop.project.store import Project
    from desktop.project.timeline import Timeline
    from engines.audio import AudioClip

    rate = 48_000
    project = Project.create(folder / "Demo", sample_rate=rate)
    tl = Timeline(project)
    rng = np.random.default_rng(7)

    def tone(freqs: list[float], seconds: float, env_rate: float = 0.0) -> np.ndarray:
        t = np.arange(int(seconds * rate)) / rate
        sig = sum(np.sin(2 * np.pi * f * t) / (k + 1) for k, f in enumerate(freqs))
        if env_rate:
            sig *= 0.55 + 0.45 * np.sin(2 * np.pi * env_rate * t) ** 2
        return sig.astype(np.float32)

    chords = [[220, 277.2, 329.6, 440], [196, 246.9, 293.7, 392], [174.6, 220, 261.6, 349.2],
              [196, 246.9, 293.7, 392]]
    music = np.concatenate([tone(c, 2.0, 2.0) * np.hanning(2 * rate).astype(np.float32) for c in chords])
    t = np.arange(int(5.5 * rate)) / rate
    pitch = 120 + 25 * np.sin(2 * np.pi * 0.7 * t) + 10 * np.sin(2 * np.pi * 3.1 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    voice = sum(np.sin(k * phase) * np.exp(-((k * pitch - 700) / 500) ** 2 - ((k * pitch - 1200) / 700) ** 2)
                for k in range(1, 30))
    syllables = np.clip(3 * np.sin(2 * np.pi * 2.3 * t) + 0.6, 0, 1).astype(np.float32)
    voice = (voice * syllables * 0.5).astype(np.float32)
    noise = rng.standard_normal(int(1.2 * rate)).astype(np.float32)
    whoosh = noise * np.hanning(len(noise)).astype(np.float32) * 0.4
    ping = tone([1760, 2637], 0.8) * np.exp(-np.arange(int(0.8 * rate)) / (0.15 * rate)).astype(np.float32)

    def take(samples: np.ndarray, name: str, kind: str, prompt: str):
        from engines.provenance import Provenance

        clip = AudioClip(samples / max(1e-6, float(np.abs(samples).max())) * 0.8, rate)
        return project.add_take(clip, name, kind, Provenance("demo", prompt=prompt))

    t_music = take(music, "Warm pad in A minor", "music", "warm analog pad, slow chords")
    t_voice = take(voice, "Narrator line 1", "speech", "Welcome to Timbre Studio.")
    t_whoosh = take(whoosh, "Whoosh", "sfx", "soft whoosh")
    t_ping = take(ping, "Bell ping", "sfx", "small bell ping")
    music_track = tl.add_track("Music bed")
    voice_track = tl.add_track("Narration")
    fx_track = tl.add_track("Effects")
    m1 = tl.add_clip(music_track, t_music.id, 0)
    tl.set_clip(m1, fade_in_frames=rate, fade_out_frames=2 * rate)
    tl.add_clip(voice_track, t_voice.id, int(1.0 * rate))
    tl.add_clip(fx_track, t_whoosh.id, int(0.3 * rate))
    tl.add_clip(fx_track, t_ping.id, int(6.6 * rate))
    tl.set_track(music_track, gain_db=-6.0)
    project.set_state("view", {"pps": 150.0, "scroll": 0.0, "playhead": int(3.2 * rate),
                               "track": voice_track, "snapping": True})
    return project


ICONS_DIR = Path(__file__).resolve().parents[2] / "resources" / "icons"


def app_icon():
    """The project's icon at every drawn size (taskbar, title bar, Alt+Tab pick theirs)."""
    from PySide6.QtGui import QIcon

    icon = QIcon()
    for png in sorted(ICONS_DIR.glob("timbre-studio-*.png")):
        icon.addFile(str(png))
    return icon


def _make_app():
    from PySide6.QtWidgets import QApplication

    from desktop.ui.theme import apply_theme
    from engines.settings import get_setting

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Timbre Studio")
    app.setOrganizationName("Timbre")
    app.setDesktopFileName("timbre-studio")  # Wayland/X11 match the window to its .desktop entry
    app.setWindowIcon(app_icon())
    apply_theme(app, str(get_setting("theme")), float(get_setting("font_scale")))
    return app


def render_screenshot(window, path: str, settle_s: float = 8.0) -> None:
    """Let background work (waveforms, spectrogram) arrive, then grab the window to a PNG."""
    from PySide6.QtWidgets import QApplication

    deadline = time.perf_counter() + settle_s
    while time.perf_counter() < deadline:
        QApplication.processEvents()
        if window.is_settled():
            break
        time.sleep(0.02)
    QApplication.processEvents()
    if not window.grab().save(path):
        raise OSError(f"Could not write the screenshot to {path}.")


def run_app(project: str | None = None, screenshot: str | None = None) -> int:
    app = _make_app()
    from engines.logs import log, setup_logging
    from engines.provenance import app_version

    setup_logging("studio")  # Help › Show log file opens its folder
    log.info("studio %s started (project: %s)", app_version(), project or "last or new")
    from desktop.project.errors import ProjectError
    from desktop.ui.main_window import MainWindow

    created = False
    try:
        if project:
            proj = open_or_create(project)
        elif screenshot:
            proj = make_demo_project(Path(tempfile.mkdtemp(prefix="timbre-demo-")))
        else:
            proj, created = default_project_and_whether_new()
    except ProjectError as exc:
        print(f"timbre: {exc}", file=sys.stderr)
        return 1
    window = MainWindow(proj)
    from PySide6.QtCore import Qt

    if os.environ.get("TIMBRE_REPORT_STARTUP"):
        window.first_painted.connect(lambda _s: report_startup())
    if screenshot:
        window.resize(1280, 860)  # a common laptop screen: the window must fit it
        window.resizeDocks([window.docks["spectrogram"]], [240], Qt.Orientation.Vertical)
        window.show()
        render_screenshot(window, screenshot)
        window.close()
        print(f"wrote {screenshot}")
        return 0
    window.show()
    if created:  # the user was never asked where: say it
        window.tell_where_saved()
    app.aboutToQuit.connect(window.shutdown)
    return app.exec()
