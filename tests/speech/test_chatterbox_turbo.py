"""Chatterbox Turbo speaking for real, on its tiny random checkpoint (``--model debug``):
T3 on a tiny GPT-2, meanflow S3Gen, GPT-2 tokenizer, loaded by ``ChatterboxTurboTTS.from_local``."""

from __future__ import annotations

import numpy as np
import pytest

from engines.errors import BadInput
from engines.speech.request import SpeechRequest


@pytest.fixture(scope="module")
def engine():
    from engines.registry import create

    turbo = create("chatterbox-turbo", model="debug")
    turbo.load()
    return turbo


def _voice(tmp_path, name: str, sentences: int, consent: bool = True) -> None:
    from engines.audio import AudioClip
    from engines.audio_io import write_audio
    from engines.voices.library import open_library
    from tests.voices import material

    said = [material.joe(s) for s in material.SENTENCES[:sentences]]
    ref = AudioClip(np.concatenate([c.mono().samples[0] for c in said]), said[0].sample_rate)
    lib = open_library()
    lib.add(name, [write_audio(tmp_path / f"{name}.wav", ref)])
    if consent:
        spoken = write_audio(tmp_path / "consent.wav", material.joe(lib.statement(name).text, 1.1))
        lib.record_consent(name, spoken, check_phrase=False)


def test_loaded_from_the_turbo_layout_and_seeded(engine):
    assert type(engine._model).__name__ == "ChatterboxTurboTTS" and engine._model.t3.is_gpt
    assert engine.model_id == "timbre/chatterbox-turbo-debug"
    first = engine.raw("Hello there.", SpeechRequest("Hello there.", seed=3))
    again = engine.raw("Hello there.", SpeechRequest("Hello there.", seed=3))
    np.testing.assert_array_equal(first, again)
    assert first.size > 0 and np.all(np.isfinite(first))


def test_speaks_a_consented_voice_and_refuses_a_short_reference(engine, tmp_path, monkeypatch):
    from engines.speech import service
    from engines.speech.voices import resolve
    from engines.voices.consent import ConsentRequired

    monkeypatch.setitem(service._ENGINES, "chatterbox-turbo", engine)
    _voice(tmp_path, "Sam", sentences=3)
    take = service.speak("Hello there.", resolve("Sam", "chatterbox-turbo"), seed=1)
    assert take.provenance.engine == "chatterbox-turbo" and take.provenance.voice == "Sam"
    assert take.provenance.consent and take.clip.duration > 0

    _voice(tmp_path, "Kim", sentences=3, consent=False)
    with pytest.raises(ConsentRequired):
        resolve("Kim", "chatterbox-turbo")
    _voice(tmp_path, "Lee", sentences=1)
    with pytest.raises(BadInput, match="longer than 5 s"):
        service.speak("Hello.", resolve("Lee", "chatterbox-turbo"), seed=1)


def test_speak_from_the_command_line_keeps_stdout_clean(engine, tmp_path, capsys, monkeypatch):
    from desktop.cli.main import main
    from engines.speech import service

    monkeypatch.setitem(service._ENGINES, "chatterbox-turbo:debug", engine)
    out = tmp_path / "t.wav"
    assert main(["speak", "Hello there.", "--engine", "chatterbox-turbo", "--model", "debug",
                 "--seed", "2", "-o", str(out)]) == 0
    said = capsys.readouterr()
    assert said.out.strip() == f"wrote {out}" and "it/s" not in said.err
