"""The Models… dialog's Voices tab: Piper's catalog filtered by language and search, the
licence read before download, and a download that installs the voice.

Served by the local stand-in hub of tests/speech/piper_hub.py (the real hub cannot be reached).
"""

from __future__ import annotations

import numpy as np
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
    from engines.speech.kokoro_catalog import HUB_REPO

    fake = piper_hub()
    style = np.arange(510 * 256, dtype="<f4").tobytes()  # a style table's shape; never spoken
    fake.repos[HUB_REPO] = {"voices/af_testy.bin": style, "voices/bm_other.bin": style}
    with serve(fake) as url:
        monkeypatch.setenv("HF_ENDPOINT", url)
        manager = ModelManager()
        qtbot.addWidget(manager)
        manager.resize(1280, 640)
        manager.show()
        yield manager
    modelstore.configure_hub_env(allow_download=False)


def _keys(manager, tab=None) -> list[str]:
    table = (tab or manager.voices).table
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

    for code in ("ef_ana", "bf_zed"):  # downloaded from Kokoro's full set
        folder = tmp_path / code
        folder.mkdir()
        (folder / f"{code}.bin").write_bytes(b"\0" * 4)
        modelstore.import_folder(folder, f"kokoro-voices/{code}")
    kokoro = [v for v, _label in window.generation.form_choices("kokoro")["voice"][:7]]
    assert kokoro == ["bf_zed", "ef_ana", "jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo"]


def test_kokoro_tab_lists_every_language_and_downloads_a_voice(dialog, qtbot):
    kokoro = dialog.kokoro
    dialog.tabs.setCurrentWidget(kokoro)
    assert "af_heart" in _keys(dialog, kokoro) and "jf_alpha" in _keys(dialog, kokoro)  # offline
    kokoro.refresh_button.click()
    qtbot.waitUntil(lambda: kokoro.source == "hub", timeout=10_000)
    assert _keys(dialog, kokoro) == ["af_testy", "bm_other"]
    assert [kokoro.language.itemText(i)[:7] for i in (1, 2)] == ["English"] * 2  # English first
    kokoro.language.setCurrentIndex(kokoro.language.findData("en-gb"))
    assert _keys(dialog, kokoro) == ["bm_other"]
    kokoro.language.setCurrentIndex(0)
    kokoro.search.setText("female")
    assert _keys(dialog, kokoro) == ["af_testy"]
    kokoro.table.selectRow(0)
    assert "Apache-2.0" in dialog.licence.text()  # before download
    dialog.buttons["download"].click()
    qtbot.waitUntil(lambda: dialog.status.text() == "Downloaded kokoro:af_testy.", timeout=10_000)
    assert kokoro.table.item(0, 4).text() == "installed"
