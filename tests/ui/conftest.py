"""Fixtures for the studio window tests (pytest-qt, offscreen).

Each test gets a fresh project and a real ``MainWindow`` on it; audio is synthesised here
(sines), except in the end-to-end test, which generates speech with the real Piper voice.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from desktop.project.store import Project
from engines.audio import AudioClip

RATE = 48_000


def tone(seconds: float, freq: float = 440.0, rate: int = RATE) -> AudioClip:
    t = np.arange(int(seconds * rate)) / rate
    return AudioClip((0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32), rate)


@pytest.fixture(scope="session", autouse=True)
def _themed_app(qapp):
    from desktop.ui.theme import apply_theme

    apply_theme(qapp, "dark", 1.0)
    return qapp


@pytest.fixture
def project(tmp_path) -> Project:
    return Project.create(tmp_path / "studio")


@pytest.fixture
def window(qtbot, project, tmp_path, monkeypatch):
    """A studio window with its own settings and voice library (nothing leaks between tests)."""
    from desktop.ui.main_window import MainWindow

    monkeypatch.setenv("TIMBRE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("TIMBRE_DATA_DIR", str(tmp_path / "data"))

    w = MainWindow(project)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitActive(w)  # shortcuts only fire in the active window
    qtbot.waitUntil(lambda: w._painted)
    yield w
    w.close()


@pytest.fixture
def two_clips(window):
    """Two tracks with one 2-second clip each (at 0 s and 3 s); returns (window, ids)."""
    p, tl = window.project, window.timeline
    a = p.add_take(tone(2.0, 220), "low tone", "import")
    b = p.add_take(tone(2.0, 880), "high tone", "import")
    t1, t2 = tl.add_track("One"), tl.add_track("Two")
    c1 = tl.add_clip(t1, a.id, 0)
    c2 = tl.add_clip(t2, b.id, 3 * RATE)
    window.projects.refresh()
    return window, {"t1": t1, "t2": t2, "c1": c1, "c2": c2, "a": a.id, "b": b.id}


def reported(window, job) -> bool:
    """True once the GUI thread has handled the job's end (its row shows the final state;
    the window stores takes in the same signal delivery). The worker sets ``job.state``
    a moment earlier, on its own thread, so waiting on that alone races."""
    row = window.jobs_panel.rows.get(job.id)
    return row is not None and not job.active and not row.cancel.isEnabled() and row.state.text() != "Running"


def pytest_collection_modifyitems(items):
    """Everything here drives Qt widgets: mark it ``gui`` (pyproject's marker)."""
    here = str(Path(__file__).parent)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.gui)
