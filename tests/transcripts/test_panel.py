"""The transcript panel in the studio window: follow, click to seek, select + Delete,
Remove fillers with its preview, and Transcribe as a job with progress and Cancel."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCharFormat
from PySide6.QtWidgets import QMessageBox

from desktop.project.store import Project
from engines.transcripts.fillers import normalized

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch, project_copy):
    from desktop.ui.main_window import MainWindow

    monkeypatch.setenv("TIMBRE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("TIMBRE_DATA_DIR", str(tmp_path / "data"))
    w = MainWindow(Project.open(project_copy))
    qtbot.addWidget(w)
    w.resize(1280, 860)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitActive(w)
    w.show_transcript()
    yield w
    w.close()


def names(panel) -> list[str]:
    return [normalized(w.text) for w in panel.words]


def click_word(qtbot, panel, i: int) -> None:
    from PySide6.QtGui import QTextCursor

    cursor = QTextCursor(panel.text.document())
    cursor.setPosition(panel._chars[i] + 1)
    qtbot.mouseClick(panel.text.viewport(), Qt.MouseButton.LeftButton,
                     pos=panel.text.cursorRect(cursor).center())


def test_words_follow_the_playhead_and_a_click_seeks(qtbot, window):
    panel, view = window.transcript, window.view
    assert window.docks["transcript"].isVisible()
    assert "quick" in names(panel) and panel.status.text().startswith(f"{len(panel.words)} words")
    for i, word in enumerate(panel.words):  # the words Whisper was unsure of are underlined
        cursor = panel.text.textCursor()
        cursor.setPosition(panel._chars[i] + 1)
        dotted = cursor.charFormat().underlineStyle() == QTextCharFormat.UnderlineStyle.DotLine
        assert dotted == (word.probability < 0.5)
    quick = names(panel).index("quick")
    w = panel.words[quick]
    view.set_playhead((w.start + w.end) // 2)
    assert panel.current == quick
    [mark] = panel.text.extraSelections()
    assert normalized(mark.cursor.selectedText()) == "quick"
    lazy = names(panel).index("lazy")
    click_word(qtbot, panel, lazy)
    assert view.state.playhead == panel.words[lazy].start
    assert panel.current == lazy


def test_the_keyboard_selects_all_words_and_enter_seeks(qtbot, window):
    panel, view = window.transcript, window.view
    view.set_selection(None)
    panel.text.setFocus()
    qtbot.keyClick(panel.text, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert panel.selected_words() == list(range(len(panel.words)))
    assert view.selection is None  # Ctrl+A in the words did not select the timeline
    cursor = panel.text.textCursor()
    cursor.setPosition(panel._chars[3] + 1)
    panel.text.setTextCursor(cursor)
    qtbot.keyClick(panel.text, Qt.Key.Key_Return)
    assert view.state.playhead == panel.words[3].start


def test_select_words_and_delete_removes_their_audio_undoably(qtbot, window):
    panel, project = window.transcript, window.project
    before = project.mixdown().samples[0]
    i = names(panel).index("brown")
    a, b = panel.words[i].start, panel.words[i + 1].end
    panel.text.setFocus()
    panel.select_words(i, i + 1)
    assert panel.selected_words() == [i, i + 1]
    qtbot.keyClick(panel.text, Qt.Key.Key_Delete)
    after = project.mixdown().samples[0]
    assert np.array_equal(after, np.concatenate([before[:a], before[b:]]))
    assert "brown" not in names(panel) and "fox" not in names(panel)
    assert "brown" in window.act_undo.text().lower()
    window.act_undo.trigger()
    assert np.array_equal(project.mixdown().samples[0], before)
    assert names(panel)[i:i + 2] == ["brown", "fox"]


def test_remove_fillers_shows_them_first_then_removes_all_in_one_step(qtbot, window):
    panel, project = window.transcript, window.project
    frames = project.mixdown().frames
    qtbot.mouseClick(panel.fillers_button, Qt.MouseButton.LeftButton)
    box = panel.preview
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert "2 filler word(s)" in box.text()
    listed = sorted(normalized(line.split()[-1]) for line in box.detailedText().splitlines())
    assert listed == ["uh", "um"]
    [remove] = [b for b in box.buttons() if b.text() == "Remove"]
    qtbot.mouseClick(remove, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.preview is None)
    assert not {"um", "uh"} & set(names(panel))
    assert project.mixdown().frames < frames
    assert window.timeline.undo_label == "Remove 2 filler words"
    window.act_undo.trigger()
    assert sorted(n for n in names(panel) if n in ("um", "uh")) == ["uh", "um"]
    assert project.mixdown().frames == frames


def test_transcribe_is_a_job_with_progress_and_cancel(qtbot, window, said, tmp_path):
    from engines.audio import AudioClip

    panel = window.transcript
    old = list(names(panel))
    # cancelled at once: the transcript there was is kept
    job = panel.transcribe()
    assert job is not None and job.id in window.jobs_panel.rows
    assert panel.progress.isVisible() and not panel.transcribe_button.isEnabled()
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.job is None, timeout=60_000)
    assert job.state == "cancelled" and names(panel) == old
    # a track of its own, transcribed to the end (a short one: Whisper is the cost)
    short = AudioClip(said.clip.samples[:, : said.spans[5][1] + said.rate // 4], said.rate)
    take = window.project.add_take(short, "opening", "import")
    track = window.timeline.add_track("Opening")
    window.timeline.add_clip(track, take.id, 0)
    panel.scope.setCurrentIndex(panel.scope.findData(track))
    assert panel.info is None and "No transcript" in panel.status.text()
    seen = []
    window.jobs.job_updated.connect(lambda j: seen.append(j.progress))
    job = panel.transcribe()
    qtbot.waitUntil(lambda: panel.job is None, timeout=120_000)
    assert job.state == "done", job.error
    assert any(0 < p < 1 for p in seen)
    assert panel.info is not None and panel.info.scope == "track"
    assert {"quick", "fox"} <= set(names(panel)) and "lazy" not in names(panel)
    out = tmp_path / "opening.vtt"
    panel.export_to(str(out))
    assert out.read_text().startswith("WEBVTT") and "quick" in out.read_text().lower()
