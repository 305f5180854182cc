"""End to end with the real Piper voice (joe): new project → speech → take on the timeline →
moved and trimmed with the mouse → undo/redo → close → reopen identical; and a cancel
in the middle of a long generation."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint

from desktop.project.store import Project
from engines.registry import engine_infos
from tests.ui.conftest import reported
from tests.ui.gestures import clip_point, drag, shortcut

TEXT = "Welcome to the studio. This line was spoken by Piper."
piper = next((i for i in engine_infos("speech") if i.name == "piper"), None)
pytestmark = pytest.mark.skipif(piper is None or not piper.available,
                                reason=f"Piper is not available: {piper.reason if piper else 'not registered'}")


def speech_panel(window):
    window.docks["speech"].raise_()
    panel = window.panels["speech"]
    panel.refresh_engines()
    panel.select_engine("piper")
    return panel


def snapshot(project: Project) -> dict:
    return {
        "tracks": project.tracks(),
        "clips": project.clips(),
        "takes": [(t.id, t.name, t.kind, t.engine, t.audio_sha256, t.prompt) for t in project.takes()],
        "view": project.get_state("view"),
    }


def test_speech_to_timeline_edit_undo_redo_and_reopen_identical(window, qtbot):
    path = window.project.path
    panel = speech_panel(window)
    assert panel.form is not None and "text" in panel.form.widgets
    for name in ("voice", "language", "emotion", "stability", "rate", "pitch", "seed"):
        widget = panel.form.widgets[name]
        assert widget.toolTip() not in ("", widget.accessibleName()), name
    panel.form.set_value("text", TEXT)
    panel.generate_button.click()
    job = window.jobs.jobs[-1]
    qtbot.waitUntil(lambda: reported(window, job), timeout=60_000)
    assert job.state == "done", job.error
    [take] = window.project.takes()
    assert take.engine == "piper" and take.prompt == TEXT and 2.0 < take.duration < 10.0

    # one click on "Place" puts it on a new track at the playhead
    window.view.set_playhead(window.project.sample_rate // 2)
    window.takes.row(take.id).place.click()
    [clip] = window.project.clips()
    assert clip.start_frame == window.project.sample_rate // 2

    view = window.view
    view.set_snapping(False)
    p = clip_point(window, clip.id)
    drag(view.canvas, p, p + QPoint(60, 0))
    moved = window.project.clip(clip.id)
    assert moved.start_frame > clip.start_frame
    right = clip_point(window, clip.id, dx=1.0) - QPoint(2, 0)
    drag(view.canvas, right, right - QPoint(80, 0))
    trimmed = window.project.clip(clip.id)
    assert trimmed.start_frame == moved.start_frame and trimmed.length_frames < moved.length_frames

    shortcut(window, "Ctrl+Z")
    assert window.project.clip(clip.id) == moved
    shortcut(window, "Ctrl+Z")
    assert window.project.clip(clip.id) == clip
    shortcut(window, "Ctrl+Shift+Z")
    shortcut(window, "Ctrl+Y")
    assert window.project.clip(clip.id) == trimmed
    view.zoom(1.5)
    view.save_view()

    before = snapshot(window.project)
    window.close()

    from desktop.ui.main_window import MainWindow

    reopened = MainWindow(Project.open(path))
    qtbot.addWidget(reopened)
    reopened.show()
    qtbot.waitExposed(reopened)
    assert snapshot(reopened.project) == before
    assert reopened.view.state.to_dict() == before["view"]
    assert [c.id for c in reopened.view.clips] == [clip.id]
    assert reopened.takes.row(take.id) is not None
    reopened.close()


def test_cancel_in_the_middle_of_a_long_speech(window, qtbot):
    panel = speech_panel(window)
    panel.form.set_value("text", " ".join(f"This is sentence number {i} of a long reading." for i in range(40)))
    panel.generate_button.click()
    job = window.jobs.jobs[-1]
    qtbot.waitUntil(lambda: job.state == "running" and job.progress > 0.25, timeout=60_000)
    window.jobs_panel.rows[job.id].cancel.click()
    qtbot.waitUntil(lambda: reported(window, job), timeout=10_000)
    assert job.state == "cancelled"
    assert window.project.takes() == []
    assert window.project.jobs()[-1].state == "cancelled"
