"""The Models… dialog's Voices tab: Piper's catalog filtered by language and search, the
licence read before download, and a download that installs the voice.

Served by the local stand-in hub of tests/speech/piper_hub.py (the real hub cannot be reached).
"""

from __future__ import annotations

import pytest

from engines import modelstore
from engines.settings import set_setting
from tests.music.fake_hub import serve
from tests.speech.piper_hub import JOE_KEY, TINY_KEY, piper_hub


@pytest.fixture
def dialog(qtbot, tmp_path, monkeypatch):
    from desktop.ui.model_manager import ModelManager

    monkeypatch.setenv("TIMBRE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("TIMBRE_MODELS_DIR", str(tmp_path / "store"))
    set_setting("allow_downloads", True)
    with serve(piper_hub()) as url:
        monkeypatch.setenv("HF_ENDPOINT", url)
        manager = ModelManager()
        qtbot.addWidget(manager)
        manager.resize(1280, 640)
        manager.show()
        yield manager
    modelstore.configure_hub_env(allow_download=False)


def _keys(manager) -> list[str]:
    table = manager.voices.table
    return [table.item(r, 0).text() for r in range(table.rowCount())]


def test_voices_tab_filters_shows_licence_and_downloads(dialog, qtbot, tmp_path):
    voices = dialog.voices
    dialog.tabs.setCurrentWidget(voices)
    assert "en_US-lessac-medium" in _keys(dialog)  # offline: the built-in handful
    voices.refresh_button.click()
    qtbot.waitUntil(lambda: voices.source == "hub", timeout=10_000)
    assert _keys(dialog) == [JOE_KEY, TINY_KEY]

    voices.language.setCurrentIndex(voices.language.findData("de"))
    assert _keys(dialog) == [TINY_KEY]
    voices.language.setCurrentIndex(0)
    voices.search.setText("testjoe")
    assert _keys(dialog) == [JOE_KEY]
    voices.search.setText("nobody")
    assert _keys(dialog) == [] and not dialog.buttons["download"].isEnabled()
    voices.search.setText("")

    voices.table.selectRow(_keys(dialog).index(TINY_KEY))
    assert dialog.buttons["download"].isEnabled()
    qtbot.waitUntil(lambda: "CC-BY-4.0" in dialog.licence.text(), timeout=10_000)  # its MODEL_CARD
    dialog.grab().save(str(tmp_path / "voices-tab.png"))
    dialog.buttons["download"].click()
    qtbot.waitUntil(lambda: dialog.status.text() == f"Downloaded piper:{TINY_KEY}.", timeout=10_000)
    row = _keys(dialog).index(TINY_KEY)
    assert voices.table.item(row, 5).text() == "installed"
    assert modelstore.is_installed(f"piper-voices/{TINY_KEY}")


def test_installed_piper_voices_are_grouped_by_language_in_the_speech_panel(window, tmp_path, monkeypatch):
    from engines.speech.voices import PIPER_REPO_PREFIX

    monkeypatch.setenv("TIMBRE_MODELS_DIR", str(tmp_path / "store"))
    for key in ("fr_FR-zed-low", "en_US-bob-medium", "de_DE-anna-low", "en_GB-cal-high"):
        folder = tmp_path / key
        folder.mkdir()
        (folder / f"{key}.onnx").write_bytes(b"x")
        (folder / f"{key}.onnx.json").write_text("{}")
        modelstore.import_folder(folder, PIPER_REPO_PREFIX + key)
    voices = window.generation.form_choices("piper")["voice"]
    piper = [v for v in voices if isinstance(v, tuple)]
    assert voices[0] == "joe"
    assert [label for _v, label in piper] == [
        "en_GB — en_GB-cal-high", "en_US — en_US-bob-medium",  # English first
        "de_DE — de_DE-anna-low", "fr_FR — fr_FR-zed-low",
    ]
    assert [value for value, _l in piper][0] == "en_GB-cal-high"  # what resolve() takes
