"""Preferences (Ctrl+,): the devices chosen are the ones playback and recording open, an
unplugged one falls back with a sentence, no devices is a state and not a crash, the
export defaults start the export dialogs, and theme, text size and model folder apply.
The sound system is faked at the sounddevice boundary only (tests/ui/fake_sound.py)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog

from engines.settings import get_setting, set_setting
from tests.ui import fake_sound
from tests.ui.conftest import RATE, tone

YETI = fake_sound.LAPTOP[2]["name"]
HDMI = fake_sound.LAPTOP[1]["name"]


@pytest.fixture
def laptop(monkeypatch):
    """Installed before the window (ask for it first): the window probes at first paint."""
    return fake_sound.install(monkeypatch, fake_sound.LAPTOP)


def opened(streams, output: bool):
    return [s for s in streams.opened if s.output == output]


def open_preferences(window, qtbot):
    window.act_preferences.trigger()
    dialog = window.preferences_dialog
    qtbot.waitExposed(dialog)
    return dialog


def test_chosen_devices_are_used_by_playback_recording_and_banking(laptop, window, qtbot, monkeypatch):
    qtbot.waitUntil(lambda: window.audio.available)
    assert window.act_preferences.shortcut().toString() == "Ctrl+,"
    dialog = open_preferences(window, qtbot)
    outputs = [dialog.output_box.itemData(i) for i in range(dialog.output_box.count())]
    inputs = [dialog.input_box.itemData(i) for i in range(dialog.input_box.count())]
    assert outputs[:2] == [None, "default"]  # "System default", then PortAudio's default device
    assert HDMI in outputs and HDMI not in inputs and YETI in inputs
    dialog.output_box.setCurrentIndex(dialog.output_box.findData(HDMI))
    dialog.input_box.setCurrentIndex(dialog.input_box.findData(YETI))
    dialog.accept()
    assert get_setting("audio/output_device") == HDMI and get_setting("audio/input_device") == YETI

    p, tl = window.project, window.timeline
    tl.add_clip(tl.add_track("A"), p.add_take(tone(0.5), "tone", "import").id, 0)
    window.projects.refresh()
    window.act_play.trigger()
    qtbot.waitUntil(lambda: opened(laptop, True) and not window.audio.playing, timeout=10_000)
    assert opened(laptop, True)[-1].kw["device"] == 1  # HDMI's number, found by its name

    window.act_record.trigger()
    qtbot.waitUntil(lambda: window.audio.position > RATE // 10)
    window.act_record.trigger()
    assert opened(laptop, False)[-1].kw["device"] == 2

    window.show_banking()  # the banking window has its own AudioIO: the same choice
    window.banking.audio.record()
    window.banking.audio.stop()
    assert opened(laptop, False)[-1].kw["device"] == 2

    fake_sound.install(monkeypatch, fake_sound.LAPTOP[:2] + fake_sound.LAPTOP[3:])
    window.act_record.trigger()  # the microphone was unplugged
    qtbot.waitUntil(lambda: window.audio.recording)
    said = window.notice.label.text()
    window.act_record.trigger()
    assert opened(laptop, False)[-1].kw["device"] == 3  # the system default
    assert YETI in said and "not connected" in said and "system default" in said


def test_no_sound_devices_is_a_state_not_a_crash(monkeypatch, qtbot):
    from desktop.ui.audio import AudioIO
    from desktop.ui.preferences import PreferencesDialog

    fake_sound.install(monkeypatch, [], default=(-1, -1))
    set_setting("audio/input_device", YETI)  # chosen once, on another day
    dialog = PreferencesDialog()
    qtbot.addWidget(dialog)
    assert "No sound devices were found" in dialog.devices_note.text()
    assert "everything else works" in dialog.devices_note.text()
    assert [dialog.output_box.itemText(i) for i in range(dialog.output_box.count())] == ["System default"]
    assert dialog.input_box.currentText() == f"{YETI} — not connected"  # kept, and said
    dialog.accept()
    assert get_setting("audio/input_device") == YETI
    audio = AudioIO()
    assert not audio.probe() and "No audio output device" in audio.reason

    import sounddevice as sd

    restarts = []
    monkeypatch.setattr(sd, "_terminate", lambda: restarts.append("stop"))
    monkeypatch.setattr(sd, "_initialize", lambda: restarts.append("start"))
    fake_sound.install(monkeypatch, fake_sound.LAPTOP)  # plugged in: Refresh finds it
    dialog.refresh_button.click()
    assert restarts == ["stop", "start"]  # PortAudio lists devices only when it starts
    assert dialog.input_box.currentData() == YETI and dialog.input_box.currentText().startswith(YETI)


def test_export_dialogs_start_with_the_preferred_format_and_loudness(window, monkeypatch):
    p, tl = window.project, window.timeline
    tl.add_clip(tl.add_track("A"), p.add_take(tone(0.5), "tone", "import").id, 0)
    set_setting("export/format", "mp3")
    set_setting("export/loudness_preset", "ebu-r128")
    asked = {}

    def save_name(_parent, _title, suggested, filters, chosen=""):
        asked.update(suggested=suggested, chosen=chosen)
        return suggested, chosen

    def item(_parent, _title, _label, choices, current, _editable):
        asked.update(loudness=choices[current])
        return choices[current], False  # cancelled: nothing is exported

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_name)
    monkeypatch.setattr(QInputDialog, "getItem", item)
    window.act_export.trigger()
    assert asked["suggested"].endswith(".mp3") and asked["chosen"] == "MP3 (*.mp3)"
    assert asked["loudness"] == "Broadcast, EBU R128 (−23 LUFS)"


def test_theme_text_size_and_model_folder_apply(window, qtbot, monkeypatch, tmp_path):
    from desktop.ui.theme import apply_theme
    from engines.paths import models_dir

    monkeypatch.delenv("TIMBRE_MODELS_DIR", raising=False)
    app = QApplication.instance()
    base = float(app.property("timbre_base_point_size"))
    dialog = open_preferences(window, qtbot)
    try:
        dialog.theme_box.setCurrentIndex(dialog.theme_box.findData("light"))
        dialog.text_size.setValue(130)
        dialog.models_edit.setText(str(tmp_path / "my models"))
        assert sorted(dialog.apply()) == ["font_scale", "models_dir", "theme"]
        assert window.theme_actions["light"].isChecked()
        assert app.font().pointSizeF() == pytest.approx(base * 1.3, abs=0.05)
        assert models_dir() == tmp_path / "my models"
        dialog.models_edit.clear()  # Default: the data folder again
        dialog.accept()
        assert get_setting("models_dir") is None and models_dir().name == "models"
    finally:
        apply_theme(app, "dark", 1.0)  # the session's theme, for the tests after this one


def test_a_device_plugged_in_later_turns_audio_on(window, qtbot, monkeypatch):
    import sounddevice as sd

    fake_sound.install(monkeypatch, [], default=(-1, -1))
    window.after_first_paint()  # as at start-up, on a machine with no sound device
    assert not window.audio.available and window.banner.isVisible()
    assert not window.act_record.isEnabled()
    dialog = open_preferences(window, qtbot)
    monkeypatch.setattr(sd, "_terminate", lambda: None)
    monkeypatch.setattr(sd, "_initialize", lambda: None)
    fake_sound.install(monkeypatch, fake_sound.LAPTOP)  # a USB headset, plugged in
    dialog.refresh_button.click()
    assert dialog.input_box.findData(YETI) > 0
    dialog.accept()
    assert window.audio.available and not window.banner.isVisible() and window.act_record.isEnabled()
    assert window.notice.label.text() == "Sound devices found: playback is on."


def test_music_speed_preference_reaches_the_music_engines_unless_a_speed_is_given(window, qtbot):
    """Preferences › Models › Music speed: the studio's MusicGen/AudioGen jobs (which give no
    speed) and `timbre music` without --speed (which gives None) take it; an explicit speed
    still wins. Engines are made the one way jobs make them (desktop.session.jobs)."""
    from desktop.session.jobs import create_engine

    studio, cli = {"model": "debug"}, {"model": "debug", "speed": None}
    assert create_engine("musicgen", studio).speed == "fast"  # the default: float32's audio
    dialog = open_preferences(window, qtbot)
    faster = dialog.speed_box.findData("reduced")
    assert faster >= 0 and "Faster" in dialog.speed_box.itemText(faster)
    dialog.speed_box.setCurrentIndex(faster)
    assert dialog.apply() == ["music/speed"]
    dialog.accept()
    assert get_setting("music/speed") == "reduced"
    assert create_engine("musicgen", studio).speed == "reduced"
    assert create_engine("audiogen", studio).speed == "reduced"
    assert create_engine("musicgen", cli).speed == "reduced"
    assert create_engine("musicgen", {**studio, "speed": "fast"}).speed == "fast"
    dialog = open_preferences(window, qtbot)  # shown as stored when opened again
    assert dialog.speed_box.currentData() == "reduced"
    dialog.reject()
