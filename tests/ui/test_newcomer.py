"""Issue 17: the studio as a new user meets it. Each test drives the real window the way a
newcomer would (long names, the keyboard, Place, export) and checks what they would see."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.ui.conftest import RATE, tone

LONG = "Welcome to Timbre Studio, where every newcomer names their takes at great length"
MAX_MIN_WIDTH = 1280


def fake_library(name: str = "Ada Lovelace, recorded in the big studio downstairs"):
    """A voice library with one voice and no consent, without cleaning real recordings."""
    report = SimpleNamespace(snr_db=31.0, original_duration=12.0, speech_ratio=0.9, clipped_fraction=0.0,
                             peak_dbfs=-3.0, input_lufs=-20.0, output_lufs=-23.0,
                             warnings=["the reference recording has a long and winding warning about it"])
    voice = SimpleNamespace(
        name=name, language="en-us", speech_duration=11.0, consent=None, clone_kinds=[], has_consent=False,
        notes="", tags=[], clips=[SimpleNamespace(source_name="a_long_reference_file_name_from_the_studio.wav",
                                                  report=report)])
    noise = np.random.default_rng(0).standard_normal(RATE).astype(np.float32) * 0.1

    def require_consent(voice_name: str) -> None:
        from engines.errors import EngineError

        raise EngineError(f"no consent recorded for '{voice_name}': record the statement with "
                          f"`timbre voice statement {voice_name}`, then `timbre voice consent {voice_name} FILE`.")

    from engines.audio import AudioClip

    return SimpleNamespace(names=lambda: [name], voices=lambda: [voice], get=lambda _n: voice,
                           reference_audio=lambda _n: AudioClip(noise, RATE), require_consent=require_consent,
                           get_clone=lambda *_a: None, statement=lambda _n: SimpleNamespace(text="I agree."))


def use_library(window, library) -> None:
    window.voices.library, window.voices.reason = library, ""
    window.voices._opened = True
    window.voices.refresh()


@pytest.fixture
def font_scale(request, window, qtbot):
    """The app font at the given scale for one test (the session's theme is put back after)."""
    from desktop.ui.theme import apply_theme

    scale = request.param
    apply_theme(QApplication.instance(), "dark", scale)
    yield scale
    apply_theme(QApplication.instance(), "dark", 1.0)


@pytest.mark.parametrize("font_scale", [1.0, 1.5], indirect=True)
def test_window_minimum_width_stays_under_1280_px(window, qtbot, font_scale):
    """Long undo labels, one-line errors and a selected voice's details do not raise the
    window's minimum width (they used to push it to 2176 px on a 1600 px screen)."""
    p, tl = window.project, window.timeline
    take = p.add_take(tone(1.0), LONG, "speech")
    clip = tl.add_clip(tl.add_track(LONG), take.id, 0)
    window.view.select_clip(clip)
    window.notice.notify("Cloning is refused: " + "a very long reason that goes on " * 8, error=True)
    window.banner.show_text("No audio output device was found " * 5)
    use_library(window, fake_library())
    window.voices.list.setCurrentRow(0)
    qtbot.waitUntil(lambda: window.voices.preview is not None)
    window.spectrogram.title.setText(LONG * 2)
    assert LONG in window.act_undo.text() or "…" in window.act_undo.text()
    qtbot.waitUntil(lambda: window.minimumSizeHint().width() > 0)
    QApplication.processEvents()
    assert window.minimumSizeHint().width() < MAX_MIN_WIDTH
    assert window.docks["voices"].minimumSizeHint().width() < 320
    # the toolbar keeps one word for Undo; the menu says what (cut short)
    assert window.toolbar.widgetForAction(window.act_undo).text() == "Undo"
    assert len(window.act_undo.text()) <= 50


def speech_engines(window) -> list[str]:
    panel = window.panels["speech"]
    panel.refresh_engines()
    return [panel.engine_box.itemData(i) for i in range(panel.engine_box.count())]


def test_switching_the_speech_engine_keeps_text_emotion_and_rate(window):
    panel = window.panels["speech"]
    names = [n for n in speech_engines(window) if n in ("piper", "kokoro", "espeak")]
    assert len(names) >= 2, names
    panel.select_engine(names[0])
    panel.form.set_value("text", "Keep every word I typed.")
    panel.form.set_value("emotion", "sad")
    panel.form.set_value("rate", 1.25)
    panel.select_engine(names[1])
    assert panel.engine.name == names[1]
    state = panel.form.state()
    assert state["text"] == "Keep every word I typed."
    assert state["emotion"] == "sad" and state["rate"] == pytest.approx(1.25)


def test_forms_come_back_after_a_restart(window, qtbot, project):
    from desktop.project.store import Project
    from desktop.ui.main_window import MainWindow

    panel = window.panels["speech"]
    names = speech_engines(window)
    panel.select_engine(names[-1])
    panel.form.set_value("text", "Said before the restart.")
    path = project.path
    window.close()  # saves the forms with the project
    again = MainWindow(Project.open(path))
    qtbot.addWidget(again)
    speech = again.panels["speech"]
    speech.refresh_engines()  # as when the panel is first shown
    assert speech.engine.name == names[-1]
    assert speech.form.state()["text"] == "Said before the restart."
    again.close()


def test_an_example_replaces_the_prompt_undoably(window):
    panel = window.panels["music"]
    panel.refresh_engines()
    edit = panel.text_edit()
    edit.setPlainText("my own careful prompt")
    panel.examples.setCurrentIndex(1)
    panel._use_example(1)
    assert edit.toPlainText() == panel.examples.itemText(1)
    edit.undo()
    assert edit.toPlainText() == "my own careful prompt"


def runnable_speech_engine(window) -> str:
    panel = window.panels["speech"]
    panel.refresh_engines()
    ready = [i.name for i in panel.infos if i.available]
    if not ready:
        pytest.skip("no speech engine can run here")
    return ready[0]


def test_speech_is_generated_from_the_keyboard_in_a_handful_of_keys(window, qtbot):
    """Alt+3 puts the cursor in the Speech text; typing and Ctrl+Enter queue the take."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    panel = window.panels["speech"]
    panel.select_engine(runnable_speech_engine(window))
    panel.generate_requested.disconnect(window.generation.submit_request)  # the request is what is checked
    window.focus_timeline()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.view.canvas)
    QTest.keyClick(window.view.canvas, Qt.Key.Key_3, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is panel.text_edit())
    QTest.keyClicks(panel.text_edit(), "Hello from the keyboard.")
    with qtbot.waitSignal(panel.generate_requested) as got:
        QTest.keyClick(panel.text_edit(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert got.args[2].text == "Hello from the keyboard."
    assert panel.text_edit().toPlainText() == "Hello from the keyboard."  # no newline typed


def test_space_presses_the_focused_button_instead_of_playing(window, qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    played: list[bool] = []
    window.act_play.triggered.connect(lambda *_: played.append(True))
    window.focus_panel("music")
    loop = window.panels["music"].form.widgets["loop"]
    loop.setFocus()
    qtbot.waitUntil(loop.hasFocus)
    before = loop.isChecked()
    QTest.keyClick(loop, Qt.Key.Key_Space)
    assert loop.isChecked() != before and played == []
    window.focus_timeline()
    qtbot.waitUntil(window.view.canvas.hasFocus)
    QTest.keyClick(window.view.canvas, Qt.Key.Key_Space)
    assert played == [True]  # on the timeline Space still plays


def ring_drawn_on(widget) -> bool:
    """The 2 px ring is over ``widget``: on it, as big as it, and painted in the highlight."""
    from desktop.ui.theme import FOCUS_RING_PX, colors, focus_ring

    ring = focus_ring()
    if not (ring.isVisible() and ring.parent() is widget and ring.geometry() == widget.rect()):
        return False
    image = widget.grab().toImage()
    y = image.height() // 2
    want = colors().highlight.lower()
    return all(image.pixelColor(x, y).name() == want for x in range(FOCUS_RING_PX))


def test_every_control_tab_reaches_shows_a_2px_focus_ring(two_clips, qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    window, _ids = two_clips
    window.focus_timeline()
    qtbot.waitUntil(window.view.canvas.hasFocus)
    kinds: set[str] = set()
    for _ in range(40):
        focused = QApplication.focusWidget()
        qtbot.waitUntil(lambda w=focused: ring_drawn_on(w))
        kinds.add(type(focused).__name__)
        QTest.keyClick(focused, Qt.Key.Key_Tab)
    assert {"TimelineCanvas", "QDoubleSpinBox", "QLineEdit", "QCheckBox"} <= kinds
    assert kinds & {"QPushButton", "QToolButton"}


def test_tabbing_onto_the_voice_list_selects_no_voice(window, qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    use_library(window, fake_library())
    panel = window.voices
    panel.search.setFocus()
    qtbot.waitUntil(panel.search.hasFocus)
    QTest.keyClick(panel.search, Qt.Key.Key_Tab)
    qtbot.waitUntil(panel.list.hasFocus)
    assert panel.current is None and panel.preview is None
    QTest.keyClick(panel.list, Qt.Key.Key_Space)  # choosing it is a deliberate key
    qtbot.waitUntil(lambda: panel.current is not None)


def visible_everywhere(view) -> bool:
    """No two clips on one track share a moment."""
    by_track: dict[int, list] = {}
    for c in view.clips:
        by_track.setdefault(c.track_id, []).append(c)
    for clips in by_track.values():
        clips.sort(key=lambda c: c.start_frame)
        if any(a.end_frame > b.start_frame for a, b in zip(clips, clips[1:], strict=False)):
            return False
    return True


def test_place_inside_a_clip_goes_to_a_free_track_by_default(two_clips):
    window, ids = two_clips
    view = window.view
    view.select_track(ids["t1"])
    view.set_playhead(RATE)  # inside the 0–2 s clip on track One
    clip_id = window.projects.place_take(ids["b"])
    placed = window.project.clip(clip_id)
    assert placed.track_id == ids["t2"] and placed.start_frame == RATE  # Two is free at 1–3 s
    assert visible_everywhere(view) and "already has audio" in window.notice.label.text()
    view.set_playhead(RATE)
    again = window.project.clip(window.projects.place_take(ids["b"]))
    assert again.track_id not in (ids["t1"], ids["t2"])  # a new track
    assert visible_everywhere(view)


def test_place_can_fit_into_the_free_space_instead(two_clips):
    from engines.settings import set_setting

    window, ids = two_clips
    set_setting("clip_overlap", "fit")
    window.view.select_track(ids["t2"])  # its clip lies at 3–5 s
    window.view.set_playhead(2 * RATE)
    placed = window.project.clip(window.projects.place_take(ids["a"]))
    assert placed.track_id == ids["t2"]
    assert (placed.start_frame, placed.end_frame) == (2 * RATE, 3 * RATE)  # shortened to fit
    assert visible_everywhere(window.view) and "shortened" in window.notice.label.text()


def test_dragging_a_clip_onto_another_never_hides_either(two_clips, qtbot):
    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest

    from desktop.ui.timeline_canvas import RULER_H, TRACK_H

    window, ids = two_clips
    view, canvas = window.view, window.view.canvas
    view.state.pps, view.state.scroll = 100.0, 0.0
    canvas.update()
    one = view.clip(ids["c1"])
    grab = canvas.clip_rect(one).center().toPoint()
    target = QPoint(int(canvas.x_of(3.5 * RATE)), RULER_H + TRACK_H + TRACK_H // 2)  # over Two's clip
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, pos=grab)
    QTest.mouseMove(canvas, target)
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=target)
    qtbot.waitUntil(lambda: view.clip(ids["c1"]).start_frame != 0)
    moved = view.clip(ids["c1"])
    assert moved.track_id != ids["t2"] and visible_everywhere(view)
    assert view.clip(ids["c2"]).track_id == ids["t2"]


def test_a_time_selection_shows_over_the_clips(two_clips, qtbot):
    window, ids = two_clips
    view, canvas = window.view, window.view.canvas
    view.state.pps, view.state.scroll = 100.0, 0.0
    view.select_clip(None)
    clip = canvas.clip_rect(view.clip(ids["c1"]))
    y = int(clip.top() + 6)  # the clip's body, above its waveform's middle
    inside, outside = int(canvas.x_of(0.5 * RATE)), int(canvas.x_of(1.5 * RATE))
    before = canvas.grab().toImage()
    assert before.pixelColor(inside, y) == before.pixelColor(outside, y)
    view.set_selection((int(0.25 * RATE), RATE))
    qtbot.waitUntil(lambda: canvas.grab().toImage().pixelColor(inside, y) != before.pixelColor(inside, y))
    after = canvas.grab().toImage()
    assert after.pixelColor(outside, y) == before.pixelColor(outside, y)


def test_refusing_to_clone_points_to_the_consent_dialog_in_words_that_wrap(window, qtbot, monkeypatch):
    use_library(window, fake_library("Ada"))
    window.voices.list.setCurrentRow(0)
    opened: list[str] = []
    monkeypatch.setattr(window.voices, "consent_dialog", lambda: opened.append(window.voices.current))
    window.generation.clone_voice()
    text = window.notice.label.text()
    assert "Consent…" in text and "timbre voice" not in text and "`" not in text
    assert window.notice.label.wordWrap()
    assert window.notice.action_button.isVisible() and window.notice.action_button.text() == "Consent…"
    window.notice.action_button.click()
    assert opened == ["Ada"]
    # speaking as the voice is refused the same way, in the same words
    speech = window.panels["speech"]
    speech.refresh_engines()
    speech.select_engine("kokoro")
    speech.form.set_value("voice", "Ada")
    speech.form.set_value("text", "Hello.")
    speech.generate_button.setEnabled(True)
    speech.generate_button.click()
    assert "Consent…" in window.notice.label.text() and window.notice.action_button.isVisible()
    assert window.jobs.jobs == []


def test_panels_say_what_is_true_here(window, monkeypatch):
    """Music with only the test model runs without an "(unavailable)" label or an orange
    paragraph; Sound effects has its own placeholder, no Melody, and uncut labels; the
    Watermark box is ticked when takes will be watermarked."""
    music = window.panels["music"]
    music.refresh_engines()
    music.select_engine("musicgen")
    music.select_model("debug")
    if music.model is not None and music.model[1] and "debug" in music.model[0]:
        assert "(unavailable)" not in music.engine_box.currentText()
        assert "cannot run here" not in music.reason.text() and "timbre " not in music.reason.text()
        assert music.generate_button.isEnabled()
    sfx = window.panels["sfx"]
    sfx.refresh_engines()
    if sfx.form is not None:
        assert "melody" not in sfx.form.widgets
        prompt = sfx.text_edit()
        assert prompt.placeholderText() != music.text_edit().placeholderText()
        assert sfx.form_area.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
        box = sfx.form.widgets["watermark"]
        assert not box.isTristate() and box.isChecked() == window.generation.watermark_default()
        window.change_setting("watermark", False)
        assert not box.isChecked()


def test_settings_and_voices_offer_only_what_this_computer_has(window, monkeypatch):
    import desktop.ui.main_window as mw

    present = mw.devices_present()
    for name in ("cuda", "mps"):
        action = window.device_actions[name]
        assert action.isEnabled() == (present[name] or action.isChecked())
    window.audio.available, window.audio.has_input = True, False  # speakers, no microphone
    use_library(window, fake_library())
    assert not window.voices.buttons["record"].isEnabled()
    window.audio.has_input = True
    window.voices.refresh()
    assert window.voices.buttons["record"].isEnabled()


def test_the_models_dialog_lists_the_speech_engines_that_work(window):
    from desktop.ui.model_manager import ModelManager
    from engines.registry import engine_infos

    working = [i.label for i in engine_infos("speech") if i.available]
    dialog = ModelManager(window)
    listed = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]
    assert all(any(label in row for row in listed) for label in working)
    dialog.close()


def test_export_shows_progress_and_finishes(two_clips, qtbot, tmp_path):
    window, _ids = two_clips
    out = tmp_path / "mix.flac"
    window.projects.export_to(str(out))
    dialog = window.projects.export_progress
    assert dialog.isVisible() and dialog.labelText().startswith("Exporting mix.flac")
    qtbot.waitUntil(lambda: out.exists() and not dialog.isVisible(), timeout=20_000)
    assert dialog.value() == dialog.maximum()
    assert "cancel" not in window.notice.label.text().lower()


def test_export_can_be_cancelled(two_clips, qtbot, tmp_path, monkeypatch):
    """The GUI side: the bar moves with the export's progress and Cancel stops it (a fake
    export stands in for a five-minute one, reporting progress until it is cancelled)."""
    import time

    from desktop.project import export as exporting
    from engines.cancel import Progress

    def slow_export(project, out, progress=None, cancel=None, **_kw):
        for step in range(10_000):
            progress(Progress(step, 10_000, "mixing"))
            cancel.check()
            time.sleep(0.005)
        raise AssertionError("the export was not cancelled")

    monkeypatch.setattr(exporting, "export_project", slow_export)
    window, _ids = two_clips
    window.projects.export_to(str(tmp_path / "long.flac"))
    dialog = window.projects.export_progress
    qtbot.waitUntil(lambda: dialog.value() > 0, timeout=10_000)
    assert "mixing" in dialog.labelText()
    from PySide6.QtWidgets import QPushButton

    dialog.findChild(QPushButton).click()  # its Cancel button
    qtbot.waitUntil(lambda: "Export cancelled" in window.notice.label.text(), timeout=10_000)
    assert not dialog.isVisible()


def test_takes_are_told_apart(window, qtbot):
    """Variations keep their "(2 of 3)" however narrow the list; the list shows at least
    four takes; Kokoro's voices say their language and sex."""
    from desktop.ui.takes_dock import VISIBLE_ROWS

    p = window.project
    for i in range(3):
        p.add_take(tone(1.0), f"{LONG} ({i + 1} of 3)", "music")
    window.projects.refresh()
    window.docks["takes"].resize(220, 500)
    row = window.takes.row(p.takes()[-1].id)
    qtbot.waitUntil(lambda: row.label.shown_text() != row.label.text())  # elided, it is that narrow
    assert row.label.shown_text().endswith("(3 of 3)") and "…" in row.label.shown_text()
    row_height = window.takes.list.sizeHintForRow(0)
    assert window.takes.list.minimumHeight() >= VISIBLE_ROWS * row_height
    speech = window.panels["speech"]
    speech.refresh_engines()
    speech.select_engine("kokoro")
    if speech.form is not None and "voice" in speech.form.widgets:
        box = speech.form.widgets["voice"]
        labels = [box.itemText(i) for i in range(box.count())]
        assert "jf_alpha — Japanese, female" in labels and "jm_kumo — Japanese, male" in labels
        speech.form.set_value("voice", "jm_kumo")
        assert speech.form.values()["voice"] == "jm_kumo"  # the engine still gets the code


def test_variations_are_jobs_of_their_own(window, monkeypatch):
    from engines.music.engine import MusicRequest

    submitted: list[tuple[str, object]] = []
    monkeypatch.setattr(window.generation, "submit_job", lambda e, k, r, label, o=None: submitted.append((label, r)))
    window.generation.submit_request("musicgen", "music", MusicRequest(prompt="rain", variations=3, seed=5), "rain", {})
    assert [label for label, _r in submitted] == ["rain (1 of 3)", "rain (2 of 3)", "rain (3 of 3)"]
    assert [(r.variations, r.seed) for _l, r in submitted] == [(1, 5), (1, 6), (1, 7)]


def test_a_job_past_100_percent_says_what_it_is_doing(window):
    from desktop.ui.jobs_dock import JobRow
    from desktop.ui.workers import Job

    job = Job("kokoro", "speech", "Hello", None)
    job.state, job.progress, job.stage = "running", 1.0, "speaking"
    row = JobRow(job, window.jobs)
    assert "finishing" in row.bar.format()


def test_small_things_a_newcomer_meets(two_clips, qtbot, monkeypatch):
    """Undo speaks the user's words; Ctrl+Q asks; the first project says where it is saved."""
    from PySide6.QtWidgets import QMessageBox

    window, ids = two_clips
    window.view.select_clip(ids["c1"])
    window.view.fade_in.setValue(0.5)
    assert window.act_undo.text() == "&Undo Change clip fade-in"
    asked: list[str] = []

    def answer(box):
        asked.append(box.text())
        return next(b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.RejectRole).click()

    monkeypatch.setattr(QMessageBox, "exec", answer)
    window.act_quit.trigger()
    assert asked == ["Quit Timbre Studio?"] and window.isVisible()  # Cancel keeps it open
    window.tell_where_saved()
    assert str(window.project.path) in window.notice.label.text()
    assert window.notice.action_button.text() == "Show folder"
