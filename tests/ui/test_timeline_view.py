"""Timeline gestures a user makes, checked against what the project store holds."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from desktop.project.store import Project
from desktop.ui.timeline_canvas import RULER_H, TRACK_H
from tests.ui.conftest import RATE
from tests.ui.gestures import clip_point, drag, shortcut


def test_drag_moves_clip_and_undo_redo_restore_it(two_clips):
    window, ids = two_clips
    view = window.view
    view.set_snapping(False)
    start = view.project.clip(ids["c1"]).start_frame
    p = clip_point(window, ids["c1"])
    drag(view.canvas, p, p + QPoint(100, 0))
    moved = window.project.clip(ids["c1"]).start_frame
    assert abs(moved - (start + 100 / view.state.pps * RATE)) <= RATE / view.state.pps * 2
    shortcut(window, "Ctrl+Z")
    assert window.project.clip(ids["c1"]).start_frame == start
    shortcut(window, "Ctrl+Shift+Z")
    assert window.project.clip(ids["c1"]).start_frame == moved
    shortcut(window, "Ctrl+Z")
    shortcut(window, "Ctrl+Y")
    assert window.project.clip(ids["c1"]).start_frame == moved


def test_drag_to_other_track_row_moves_clip_there(two_clips):
    window, ids = two_clips
    view = window.view
    p = clip_point(window, ids["c1"])
    drag(view.canvas, p, p + QPoint(0, TRACK_H))
    assert window.project.clip(ids["c1"]).track_id == ids["t2"]


def test_trim_left_edge_and_snapping_to_neighbour(two_clips):
    window, ids = two_clips
    view = window.view
    view.set_snapping(False)
    left = clip_point(window, ids["c1"], dx=0.0) + QPoint(2, 0)
    drag(view.canvas, left, left + QPoint(50, 0))
    c = window.project.clip(ids["c1"])
    assert c.offset_frame > 0 and c.start_frame == c.offset_frame
    assert c.end_frame == 2 * RATE  # the right edge stays where it was
    # with snapping, the right edge dragged near the other clip's start lands exactly on it
    view.set_snapping(True)
    right = clip_point(window, ids["c1"], dx=1.0) - QPoint(2, 0)
    target = view.canvas.x_of(3 * RATE) - 4  # 4 px short of the next clip's start
    drag(view.canvas, right, QPoint(int(target), right.y()))
    # the take is only 2 s long: trimming cannot reveal audio that is not there
    assert window.project.clip(ids["c1"]).end_frame == 2 * RATE
    c2 = clip_point(window, ids["c2"])
    drag(view.canvas, c2, c2 - QPoint(int(view.canvas.x_of(3 * RATE) - view.canvas.x_of(2 * RATE)) - 3, 0))
    assert window.project.clip(ids["c2"]).start_frame == 2 * RATE  # snapped to clip 1's end


def test_split_delete_fades_gain_from_keyboard_and_inspector(two_clips):
    window, ids = two_clips
    view = window.view
    view.select_clip(ids["c1"])
    view.set_playhead(RATE)
    shortcut(window, "Ctrl+I")
    clips = window.project.clips(ids["t1"])
    assert [(c.start_frame, c.length_frames) for c in clips] == [(0, RATE), (RATE, RATE)]
    view.select_clip(clips[1].id)
    view.fade_in.setValue(0.25)
    view.fade_out.setValue(0.5)
    view.clip_gain.setValue(-3.0)
    c = window.project.clip(clips[1].id)
    assert (c.fade_in_frames, c.fade_out_frames, c.gain_db) == (RATE // 4, RATE // 2, -3.0)
    view.canvas.setFocus()
    QTest.keyClick(view.canvas, Qt.Key.Key_Delete)
    assert len(window.project.clips(ids["t1"])) == 1
    for _ in range(5):  # delete, gain, fade out, fade in, split
        window.projects.undo()
    assert [(c.start_frame, c.length_frames) for c in window.project.clips(ids["t1"])] == [(0, 2 * RATE)]


def test_track_header_controls_edit_the_store(two_clips):
    window, ids = two_clips
    header = window.view.header(ids["t1"])
    header.mute.click()
    assert window.project.track(ids["t1"]).mute
    header.solo.click()
    header.gain.setValue(-4.5)
    header.name.setText("Drums")
    header.name.editingFinished.emit()
    t = window.project.track(ids["t1"])
    assert (t.name, t.mute, t.solo, t.gain_db) == ("Drums", True, True, -4.5)
    window.act_add_track.trigger()
    assert len(window.project.tracks()) == 3
    assert window.view.header(ids["t1"]) is header  # edited in place: keyboard focus stays
    window.view.header(ids["t2"]).remove.click()
    assert [t.id for t in window.project.tracks()].count(ids["t2"]) == 0
    window.projects.undo()
    assert window.project.clip(ids["c2"]).track_id == ids["t2"]


def test_zoom_shortcuts_click_playhead_and_view_restored_on_reopen(two_clips, qtbot):
    window, ids = two_clips
    view = window.view
    pps = view.state.pps
    shortcut(window, "Ctrl+1")
    assert view.state.pps == 2 * pps
    shortcut(window, "Ctrl+3")
    shortcut(window, "Ctrl+3")
    assert view.state.pps == pps / 2
    QTest.mouseClick(view.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(int(view.canvas.x_of(RATE * 2.5)), RULER_H + 2 * TRACK_H + 10))
    assert abs(view.state.playhead - 2.5 * RATE) < RATE / view.state.pps * 2
    shortcut(window, "End")
    assert view.state.playhead == 5 * RATE
    shortcut(window, "Home")
    assert view.state.playhead == 0
    shortcut(window, "Ctrl+F")
    view.select_clip(ids["c2"])
    view.set_selection((RATE, 2 * RATE))
    fitted = view.state.to_dict()
    assert fitted["clip"] == ids["c2"] and fitted["selection"] == [RATE, 2 * RATE]
    path = window.project.path
    window.close()
    reopened = Project.open(path)
    assert reopened.get_state("view") == fitted
    reopened.close()


def test_one_click_places_take_at_playhead_on_selected_track(two_clips):
    window, ids = two_clips
    window.view.select_track(ids["t2"])
    window.view.set_playhead(6 * RATE)
    window.takes.row(ids["a"]).place.click()
    placed = [c for c in window.project.clips(ids["t2"]) if c.take_id == ids["a"]]
    assert [(c.start_frame, c.length_frames) for c in placed] == [(6 * RATE, 2 * RATE)]


def test_dragging_at_the_edge_scrolls_and_carries_the_clip(two_clips, qtbot):
    window, ids = two_clips
    view = window.view
    view.set_snapping(False)
    canvas = view.canvas
    p = clip_point(window, ids["c1"])
    edge = QPoint(canvas.width() - 5, p.y())
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, p)
    QTest.mouseMove(canvas, edge)
    qtbot.waitUntil(lambda: view.state.scroll > 1.0, timeout=5000)  # it keeps scrolling by itself
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, edge)
    moved = window.project.clip(ids["c1"]).start_frame
    assert moved / RATE > (edge.x() - p.x()) / view.state.pps  # farther than the window alone allows


def test_zoom_to_selection_and_shortcut_help(two_clips):
    window, ids = two_clips
    view = window.view
    view.select_clip(ids["c2"])
    shortcut(window, "Ctrl+E")
    assert abs(view.canvas.x_of(3 * RATE) - 10) < 1 and abs(view.canvas.x_of(5 * RATE) - (view.canvas.width() - 10)) < 2
    table = dict(window.shortcut_table())
    assert table["Play/Stop"] == "Space" and table["Redo"] == "Ctrl+Shift+Z, Ctrl+Y"
    assert table["Zoom in"] == "Ctrl+1" and table["Import audio"] == "Ctrl+Shift+I"
    shortcut(window, "F1")
    assert window.shortcuts_dialog.isVisible()


def test_range_edit_keys_each_one_undo_step(two_clips, qtbot):
    """Ctrl+A/C/V/X/L/T/D, Delete and Ctrl+B on the window, as a user presses them; every
    range edit is one undo step over all the tracks it touched."""
    window, ids = two_clips
    view, p = window.view, window.project
    view.canvas.setFocus()

    def rows():
        return sorted((c.track_id, c.start_frame, c.offset_frame, c.length_frames) for c in p.clips())

    original = rows()
    shortcut(window, "Ctrl+A")
    assert view.selection == (0, 5 * RATE) and view.range_tracks() is None
    shortcut(window, "Ctrl+L")  # silence 0–5 s everywhere: no clips left
    assert rows() == []
    shortcut(window, "Ctrl+Z")
    assert rows() == original

    view.select_track(ids["t1"])
    view.set_selection((RATE // 2, RATE))
    shortcut(window, "Ctrl+C")
    view.set_playhead(10 * RATE)
    shortcut(window, "Ctrl+V")
    assert rows() == sorted([*original, (ids["t1"], 10 * RATE, RATE // 2, RATE // 2)])
    shortcut(window, "Ctrl+Z")
    assert rows() == original

    view.set_selection((RATE // 2, RATE))
    QTest.keyClick(view.canvas, Qt.Key.Key_Delete)  # ripple delete on the selected track only
    assert rows() == sorted([(ids["t1"], 0, 0, RATE // 2), (ids["t1"], RATE // 2, RATE, RATE),
                             (ids["t2"], 3 * RATE, 0, 2 * RATE)])
    assert view.selection is None and view.state.playhead == RATE // 2
    shortcut(window, "Ctrl+Z")
    assert rows() == original

    view.set_selection((RATE // 2, RATE))
    shortcut(window, "Ctrl+X")
    assert window.timeline.clipboard is not None and len(rows()) == 3
    shortcut(window, "Ctrl+Z")
    view.set_selection((RATE // 2, RATE))
    shortcut(window, "Ctrl+T")
    assert rows() == sorted([(ids["t1"], RATE // 2, RATE // 2, RATE // 2), (ids["t2"], 3 * RATE, 0, 2 * RATE)])
    shortcut(window, "Ctrl+Z")
    shortcut(window, "Ctrl+D")  # same time, on a free track below (track Two has no audio there)
    assert rows() == sorted([*original, (ids["t2"], RATE // 2, RATE // 2, RATE // 2)])
    shortcut(window, "Ctrl+Z")
    assert rows() == original

    shortcut(window, "Ctrl+B")  # a marker at the selection start, drawn on the ruler
    assert [m.frame for m in p.markers()] == [RATE // 2]
    qtbot.waitUntil(lambda: len(view.markers) == 1)
    view.set_playhead(0)
    shortcut(window, "Ctrl+]")
    assert view.state.playhead == RATE // 2
    shortcut(window, "Ctrl+Z")
    assert p.markers() == []


def test_text_fields_keep_their_own_edit_keys(two_clips, qtbot):
    """Ctrl+A / Ctrl+C / Ctrl+V in a prompt act on the text, not on the timeline."""
    window, _ids = two_clips
    window.focus_panel("speech")
    text = window.panels["speech"].text_edit()
    qtbot.waitUntil(text.hasFocus)
    text.setPlainText("hello")
    before = sorted((c.track_id, c.start_frame, c.length_frames) for c in window.project.clips())
    for keys in ("Ctrl+A", "Ctrl+X", "Ctrl+V", "Ctrl+V"):
        QTest.keyClick(text, getattr(Qt.Key, f"Key_{keys[-1]}"), Qt.KeyboardModifier.ControlModifier)
    assert window.view.selection is None
    assert sorted((c.track_id, c.start_frame, c.length_frames) for c in window.project.clips()) == before
    assert text.toPlainText() == "hellohello"
