"""The window's other views: takes, voice library, models, themes, import/export, a11y."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
)

from desktop.ui.spectrogram import row_frequencies
from desktop.ui.timeline_canvas import RULER_H, TRACK_H
from engines import modelstore
from engines.audio_io import read_audio, write_audio
from engines.settings import get_setting
from tests.ui.conftest import RATE, tone


def test_every_control_is_named_for_screen_readers(two_clips):
    window, _ids = two_clips
    for panel in window.panels.values():
        panel.refresh_engines()
    window.spectrogram.ensure_plot()
    unnamed = []
    kinds = (QAbstractButton, QLineEdit, QComboBox, QAbstractSpinBox, QPlainTextEdit)
    for w in window.findChildren(kinds[0].__base__):
        if isinstance(w, kinds) and w.isVisibleTo(window):
            text = w.accessibleName() or (w.text() if isinstance(w, QAbstractButton) else "")
            if not text.strip() and not (isinstance(w, QLineEdit) and isinstance(w.parent(), (QComboBox, QAbstractSpinBox))):
                unnamed.append(f"{type(w).__name__} in {type(w.parent()).__name__}")
    assert unnamed == []


def drop(window, paths, at: QPoint) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    window.dropEvent(QDropEvent(at.toPointF(), Qt.DropAction.CopyAction, mime,
                                Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))


def test_dropped_files_become_tracks_or_land_where_dropped_and_undo(window, qtbot, tmp_path):
    loop, hit = tmp_path / "drum loop.wav", tmp_path / "hit.wav"
    write_audio(loop, tone(1.0, 100))
    write_audio(hit, tone(0.5, 1000))
    drop(window, [loop], QPoint(400, 300))
    qtbot.waitUntil(lambda: len(window.view.clips) == 1, timeout=5000)
    assert [t.name for t in window.project.tracks()] == ["drum loop"]
    assert window.takes.row(window.project.takes()[0].id) is not None
    canvas = window.view.canvas
    track = window.project.tracks()[0]
    target = canvas.mapTo(window, QPoint(int(canvas.x_of(3 * RATE)), RULER_H + TRACK_H // 2))
    drop(window, [hit], target)
    qtbot.waitUntil(lambda: len(window.view.clips) == 2, timeout=5000)
    placed = window.project.clips(track.id)[-1]
    assert abs(placed.start_frame - 3 * RATE) <= RATE / window.view.state.pps
    window.projects.undo()  # an import is an ordinary, undoable edit
    assert len(window.project.clips()) == 1 and len(window.project.takes()) == 2


def test_export_action_writes_the_mix(two_clips, qtbot, tmp_path):
    window, _ids = two_clips
    out = tmp_path / "mix.wav"
    window.projects.export_to(str(out))
    qtbot.waitUntil(out.exists, timeout=10_000)
    mix = read_audio(out)
    assert abs(mix.duration - 5.0) < 0.01 and mix.peak > 0.4


def test_spectrogram_follows_the_selected_clip(two_clips, qtbot):
    window, ids = two_clips
    window.view.select_clip(ids["c2"])
    placement = window.spectrogram.placement
    assert "high tone" in placement.title and placement.start_s == 3.0
    assert window.spectrogram.view_range == (3.0, 5.0)
    qtbot.waitUntil(lambda: window.is_settled(), timeout=10_000)
    window.spectrogram.redraw()
    row = int(np.argmin(np.abs(row_frequencies("log", RATE) - 880)))
    _t, freq, level = window.spectrogram.readout_at(4.0, row + 0.5).split("·")
    assert abs(float(freq.split()[0].replace(",", "")) - 880) < 30 and float(level.split()[0]) > -15


def test_spectrogram_follows_the_playhead_across_clips(two_clips):
    window, ids = two_clips
    window.view.select_clip(None)
    window.view.set_playhead(RATE)
    assert "low tone" in window.spectrogram.placement.title
    window.view.set_playhead(4 * RATE)
    assert "high tone" in window.spectrogram.placement.title
    assert window.spectrogram.view_range == (3.0, 5.0) and window.spectrogram.playhead_s == 4.0


def test_theme_and_font_scale_apply_and_persist(window):
    app = QApplication.instance()
    window.set_theme("light")
    assert get_setting("theme") == "light"
    assert app.palette().window().color().lightness() > 200
    window.set_theme("high-contrast")
    assert app.palette().window().color().name() == "#000000"
    base = app.font().pointSizeF()
    window.act_font_up.trigger()
    assert app.font().pointSizeF() > base and get_setting("font_scale") > 1.0
    window.act_font_reset.trigger()
    window.set_theme("dark")
    assert app.font().pointSizeF() == base


def test_no_audio_device_shows_banner_and_play_says_why(window, qtbot):
    qtbot.waitUntil(lambda: window.audio.reason != "Audio has not been checked yet.", timeout=5000)
    if window.audio.available:  # a machine with a sound card: nothing to warn about
        assert window.banner.isHidden()
        return
    assert window.banner.isVisible() and "playback" in window.banner.label.text()
    window.banner.hide()  # dismissed; Play brings the same banner back, not a second message
    window.act_play.trigger()
    assert window.banner.isVisible() and not window.notice.isVisible()


def test_voice_library_panel_lists_and_guards(window):
    voices = window.voices
    voices.open()
    assert voices.library is not None and voices.status.isHidden()
    assert voices.list.count() == len(voices.names())
    assert voices.buttons["add"].isEnabled() and not voices.buttons["delete"].isEnabled()
    messages = []
    voices.notify.connect(lambda m, d, e: messages.append(m))
    voices.similarity_dialog()
    assert messages and "at least two voices" in messages[0]


def test_clone_button_refuses_without_a_consented_voice(window):
    window.panels["speech"].refresh_engines()
    window.generation.clone_voice()
    assert window.notice.isVisible() and "voice" in window.notice.label.text().lower()


def test_model_manager_lists_imports_removes_and_guards_downloads(window, tmp_path, qtbot):
    from desktop.ui.model_manager import ModelManager

    folder = tmp_path / "tiny-model"
    folder.mkdir()
    (folder / "weights.safetensors").write_bytes(b"\0" * 4096)
    dialog = ModelManager(window, window.jobs.loaded_engines, window.jobs.unload_all)
    before = dialog.table.rowCount()
    assert not dialog.buttons["remove"].isEnabled()
    dialog.import_folder(str(folder), "test/tiny-model")
    qtbot.waitUntil(lambda: dialog.table.rowCount() == before + 1, timeout=10_000)
    rows = {dialog.table.item(r, 0).text(): dialog.table.item(r, 2).text() for r in range(dialog.table.rowCount())}
    assert rows["test/tiny-model"] == "4.0 KB"
    dialog.table.selectRow(list(rows).index("test/tiny-model"))
    assert dialog.buttons["remove"].isEnabled()
    modelstore.remove("test/tiny-model")
    dialog.refresh()
    assert dialog.table.rowCount() == before
    # the catalogue offers released checkpoints; with downloads off it says so, offline
    names = [dialog.catalog.item(r, 0).data(Qt.ItemDataRole.UserRole) for r in range(dialog.catalog.rowCount())]
    assert "musicgen-small" in names
    dialog.catalog.selectRow(names.index("musicgen-small"))
    dialog.buttons["download"].click()
    assert "Downloads are off" in dialog.status.text() and dialog.progress.isHidden()
    dialog.close()


def test_device_setting_from_the_menu_shows_in_the_status_bar(window):
    window.device_actions["cpu"].trigger()
    assert get_setting("device") == "cpu"
    assert "cpu" in window.status_device.text()
    window.device_actions["auto"].trigger()
    assert "Memory:" in window.status_memory.text() and "MB" in window.status_memory.text()


def test_panel_layout_is_remembered(window, qtbot):
    from desktop.project.store import Project
    from desktop.ui.main_window import MainWindow

    window.docks["jobs"].hide()
    window.docks["voices"].setFloating(True)
    path = window.project.path
    window.close()
    again = MainWindow(Project.open(path))
    qtbot.addWidget(again)
    again.show()
    qtbot.waitExposed(again)
    assert again.docks["jobs"].isHidden() and again.docks["voices"].isFloating()
    assert "Selected clip" not in again.view.canvas.accessibleDescription()
    assert "Tab selects the next clip" in again.view.canvas.accessibleDescription()
    again.close()


def test_voice_banking_opens_in_its_own_window_with_its_own_audio(window):
    window.act_banking.trigger()
    panel = window.banking
    assert panel.isWindow() and panel.isVisible() and panel.accessibleName() == "Voice banking"
    assert panel.audio is not window.audio  # its recordings never land on the timeline
    window.act_banking.trigger()
    assert window.banking is panel


def test_export_dialog_offers_loudness_presets(two_clips, qtbot, tmp_path, monkeypatch):
    """A podcaster exports from the studio at −19 LUFS mono, as from `timbre export`."""
    from PySide6.QtWidgets import QFileDialog, QInputDialog

    from engines.loudness import integrated_lufs, true_peak_db

    window, _ids = two_clips
    out = tmp_path / "episode.flac"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    offered = []

    def choose(_parent, _title, _label, items, *_args):
        offered.extend(items)
        return "Podcast, mono (−19 LUFS)", True

    monkeypatch.setattr(QInputDialog, "getItem", choose)
    window.projects.export_dialog()
    qtbot.waitUntil(lambda: "Exported" in window.notice.label.text(), timeout=30_000)
    assert "Keep the mix's levels" in offered and "Podcast, stereo (−16 LUFS)" in offered
    mix = read_audio(out)
    assert mix.channels == 1
    assert abs(integrated_lufs(mix) + 19.0) <= 0.5 and true_peak_db(mix) <= -1.0


def test_a_damaged_project_opens_read_only_with_a_clear_notice(window, tmp_path):
    """The studio opens what it can read, says so, and refuses edits in one line."""
    import sqlite3

    from desktop.project.store import Project

    with Project.create(tmp_path / "hurt") as p:
        sha = p.add_take(tone(0.5), "t", "import").audio_sha256
    db = tmp_path / "hurt.timbre" / "project.db"
    con = sqlite3.connect(db)
    page = con.execute(
        "SELECT rootpage FROM sqlite_master WHERE name='sqlite_autoindex_audio_files_1'"
    ).fetchone()[0]
    size = con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    data = bytearray(db.read_bytes())
    at = data.index(sha.encode(), (page - 1) * size, page * size)
    data[at + 10 : at + 14] = b"ZZZZ"
    db.write_bytes(bytes(data))

    damaged = Project.open(tmp_path / "hurt.timbre")
    window.projects.open_project(damaged)
    assert "read-only" in window.windowTitle()
    assert "timbre project repair" in window.notice.label.text()
    assert window.projects.place_take(damaged.takes()[0].id) is None  # refused, not crashed
    assert "repair" in window.notice.label.text()


def test_switching_speech_engine_does_not_carry_default_as_a_voice(window):
    """Piper's voice box says "Default"; espeak (no own voices, no library voices) has a
    text field — the word "Default" must not arrive there as a voice name."""
    panel = window.panels["speech"]
    panel.refresh_engines()
    panel.select_engine("piper")
    panel.form.set_value("text", "Hello.")
    panel.select_engine("espeak")
    request = panel.form.request()
    assert request.text == "Hello." and request.voice is None
