"""The voice library manager with real clean-up and embeddings (Silero VAD, Resemblyzer) on
references spoken by espeak-ng."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from engines.voices.exchange import export_voice, import_voice

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")

LINES = ("The quick brown fox jumps over the lazy dog while the sun sets slowly behind the hills. "
         "Every evening the old clock in the tower rings seven times.")


def speak(path, voice: str) -> str:
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), LINES], check=True, capture_output=True)
    return str(path)


def test_add_report_similarity_consent_refusal_export_import(window, qtbot, tmp_path):
    panel = window.voices
    panel.open()
    messages: list[tuple[str, bool]] = []
    panel.notify.connect(lambda m, _d, e: messages.append((m, e)))
    panel.add_voice("Ada", [speak(tmp_path / "ada.wav", "en-us+f3")])
    qtbot.waitUntil(lambda: panel.list.count() == 1, timeout=60_000)
    panel.add_voice("Bram", [speak(tmp_path / "bram.wav", "en-us+m3")])
    qtbot.waitUntil(lambda: panel.list.count() == 2, timeout=60_000)
    assert [panel.list.item(i).text() for i in range(panel.list.count())] == [
        "Ada  (no consent)", "Bram  (no consent)"]

    panel.list.setCurrentRow(0)
    html = panel.details.toHtml()
    assert "SNR" in html and "no consent recorded" in html
    assert panel.preview is not None and "Ada" in panel.preview.spectrogram.placement.title

    names, matrix = panel.similarity_matrix()
    assert names == ["Ada", "Bram"] and np.allclose(np.diag(matrix), 1.0, atol=1e-4)
    assert matrix[0, 1] < 0.99
    panel.similarity_dialog()

    # the Speech panel offers library voices, and cloning without consent is refused
    speech = window.panels["speech"]
    speech.refresh_engines()
    speech.select_engine("kokoro")
    voice_box = speech.form.widgets["voice"]
    assert "Ada" in [voice_box.itemText(i) for i in range(voice_box.count())]
    speech.form.set_value("voice", "Ada")
    window.generation.clone_voice()
    assert "refused" in window.notice.label.text() and "consent" in window.notice.label.text().lower()
    speech.form.set_value("text", "Hello.")
    speech.generate_button.click()  # speaking as a library voice needs consent too
    assert "consent" in window.notice.label.text().lower() and window.jobs.jobs == []

    exported = tmp_path / "ada.timbrevoice"
    export_voice(panel.library, "Ada", exported)
    panel.library.remove("Ada")
    panel.refresh()
    assert panel.names() == ["Bram"]
    import_voice(panel.library, exported)
    panel.refresh()
    assert panel.names() == ["Ada", "Bram"]
    assert not [m for m, error in messages if error]
