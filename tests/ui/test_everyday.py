"""File › Open recent, Help › Show log file and the Loudness panel, as a user meets them."""

from __future__ import annotations

import shutil

import numpy as np
import pyloudnorm
import pytest
from PySide6.QtGui import QDesktopServices

from desktop.project.store import Project
from engines.audio import AudioClip
from engines.settings import set_setting
from tests.ui import fake_sound
from tests.ui.conftest import RATE


def entries(menu) -> list[tuple[str, bool]]:
    menu.rebuild()
    return [(a.text(), a.isEnabled()) for a in menu.actions() if not a.isSeparator()]


def test_recent_projects_open_and_missing_ones_are_said(window, tmp_path):
    first = window.project.path
    long_name = "Interview with the harbour master about the winter storms, take two"
    other = Project.create(tmp_path / long_name)
    gone = Project.create(tmp_path / "Gone")
    window.projects.open_project(gone)
    window.projects.open_project(other)  # the open one is not offered
    menu = window.recent_menu
    shown = entries(menu)
    assert shown[0][0].startswith("Gone — ") and shown[1][0].startswith(f"{first.name.removesuffix('.timbre')} — ")
    assert not any(long_name in text for text, _ in shown)

    shutil.rmtree(gone.path)  # moved away or deleted
    shown = entries(menu)
    assert ("Gone — missing (moved or deleted)", False) in shown
    removal = next(a for a in menu.actions() if a.text() == "Remove missing projects (1)")
    removal.trigger()
    assert "Removed 1 missing project(s)" in window.notice.label.text()
    assert not any(text.startswith("Gone") for text, _ in entries(menu))

    next(a for a in menu.actions() if a.text().startswith(first.name.removesuffix(".timbre"))).trigger()
    assert window.project.path == first
    assert any(long_name in text for text, _ in entries(menu))  # the one just left is first
    next(a for a in menu.actions() if a.text() == "Clear the list").trigger()
    assert entries(menu) == [("No recent projects", False)]


def test_show_log_file_opens_the_log_folder(window, monkeypatch, tmp_path):
    from engines.logs import close_logging, log_file, setup_logging

    monkeypatch.setenv("TIMBRE_LOG_DIR", str(tmp_path / "logs"))
    path = setup_logging("studio")
    try:
        assert path == tmp_path / "logs" / "studio.log" and path.exists()
        window.notice.notify("Could not export: the disk is full.", details="Traceback: …", error=True)
        assert "WARNING desktop.ui: Could not export: the disk is full.\nTraceback: …" in path.read_text("utf-8")
        asked = []
        monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: asked.append(url) or True)
        window.act_show_log.trigger()
        assert [u.toLocalFile() for u in asked] == [str(log_file("studio").parent)]
        assert "Show log file" in [a.text().replace("&", "") for a in window.help_menu.actions()]

        monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: False)  # no file manager
        window.act_show_log.trigger()
        assert str(tmp_path / "logs") in window.notice.label.text()
    finally:
        close_logging()


def reference_lufs(clip_samples: np.ndarray) -> float:
    return float(pyloudnorm.Meter(RATE).integrated_loudness(clip_samples.T.astype(np.float64)))


@pytest.fixture
def speakers(monkeypatch):
    return fake_sound.install(monkeypatch, fake_sound.LAPTOP)


def test_loudness_panel_measures_playback_and_the_selection(speakers, window, qtbot):
    """A programme whose loudness pyloudnorm knows: played, the panel's integrated value
    is the programme's; measured, the selection's is the selection's."""
    qtbot.waitUntil(lambda: window.audio.available)
    rng = np.random.default_rng(3)
    quiet = rng.standard_normal((2, 2 * RATE)) * 0.03
    loud = rng.standard_normal((2, 2 * RATE)) * 0.12
    samples = np.concatenate([quiet, loud], axis=1).astype(np.float32)
    p, tl = window.project, window.timeline
    tl.add_clip(tl.add_track("Programme"), p.add_take(AudioClip(samples, RATE), "noise", "import").id, 0)
    window.projects.refresh()
    panel = window.loudness
    assert window.docks["loudness"].isVisible()

    set_setting("export/loudness_preset", "podcast")
    window.act_play.trigger()
    qtbot.waitUntil(lambda: not window.audio.playing, timeout=15_000)
    qtbot.waitUntil(lambda: panel.meter is not None and panel.meter.seconds >= 4.0 and not window.audio.tap)
    assert panel.meter.integrated() == pytest.approx(reference_lufs(samples), abs=0.05)
    shown = panel.bars["integrated"].accessibleDescription()
    assert shown == f"{reference_lufs(samples):.1f} LUFS".replace("-", "−")
    assert panel.bars["momentary"].value == pytest.approx(reference_lufs(samples[:, -int(0.4 * RATE):]), abs=0.1)
    assert panel.bars["true_peak"].value > 20 * np.log10(np.abs(samples).max()) - 0.01
    assert "measured" in panel.state.text()
    assert panel.bars["integrated"].target == -16.0  # the export preset's line on the bar

    window.view.set_selection((RATE // 2, int(1.5 * RATE)))  # inside the quiet part
    panel.measure_button.click()
    qtbot.waitUntil(lambda: panel.result is not None, timeout=10_000)
    part = samples[:, RATE // 2 : int(1.5 * RATE)]
    assert panel.result["integrated"] == pytest.approx(reference_lufs(part), abs=0.05)
    assert panel.bars["integrated"].value == panel.result["integrated"]
    assert panel.state.text().startswith("Selection 0:00.5–0:01.5")


def test_the_studio_has_its_icon_at_every_drawn_size(qapp):
    """Title bar, taskbar and Alt+Tab show the project's icon (it was Qt's blank default)."""
    from desktop.ui.app import _make_app

    app = _make_app()
    sizes = {s.width() for s in app.windowIcon().availableSizes()}
    assert {16, 32, 48, 256} <= sizes
    assert app.desktopFileName() == "timbre-studio"  # matches packaging/linux's .desktop entry
