"""A Piper voice the user imports is stored in the model store and speaks by its name."""

from __future__ import annotations

import shutil

import pytest

from engines.errors import BadInput


def test_imported_piper_voice_resolves_and_speaks(tmp_path, monkeypatch, piper):
    from engines.speech.piper_engine import bundled_model
    from engines.speech.request import SpeechRequest
    from engines.speech.voices import import_piper_voice, imported_piper_voices, resolve

    monkeypatch.setenv("TIMBRE_MODELS_DIR", str(tmp_path / "models"))
    src = bundled_model()
    onnx = tmp_path / "en_US-mine-medium.onnx"
    shutil.copyfile(src, onnx)
    shutil.copyfile(f"{src}.json", f"{onnx}.json")
    assert import_piper_voice(str(onnx), "mine") == "mine"
    stored = imported_piper_voices()["mine"]
    assert stored.startswith(str(tmp_path / "models"))
    resolved = resolve("mine")
    assert resolved.engine == "piper" and resolved.fields["voice"] == stored
    audio = piper.raw("Hello.", SpeechRequest("Hello.", voice=stored))
    assert len(audio) > 0.3 * piper.sample_rate


def test_broken_piper_voices_are_refused(tmp_path, monkeypatch):
    from engines.speech.voices import import_piper_voice, imported_piper_voices

    monkeypatch.setenv("TIMBRE_MODELS_DIR", str(tmp_path / "models"))
    lonely = tmp_path / "lonely.onnx"
    lonely.write_bytes(b"onnx?")
    with pytest.raises(BadInput, match="lonely.onnx.json is missing"):
        import_piper_voice(str(lonely))
    (tmp_path / "lonely.onnx.json").write_text("{}")
    with pytest.raises(BadInput, match="could not be loaded as a Piper voice"):
        import_piper_voice(str(lonely))
    assert imported_piper_voices() == {}
