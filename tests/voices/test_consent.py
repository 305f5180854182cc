"""Consent: statements, speaker check against the calibrated threshold, phrase check (Whisper)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from engines.audio_io import write_audio
from engines.voices import consent, transcribe
from engines.voices.consent import ConsentRefused, ConsentRequired
from engines.voices.library import open_library
from tests.voices import material as m

needs_whisper = pytest.mark.skipif(
    transcribe.unavailable_reason() is not None, reason="Whisper-base is not installed"
)


@pytest.fixture(scope="module")
def lib(tmp_path_factory, voice_files, warm_models):
    lib = open_library(tmp_path_factory.mktemp("consent") / "voices")
    lib.add("Joe", [voice_files["joe_a"], voice_files["joe_b"]], language="en")
    return lib


def test_statement_names_the_voice_date_and_a_random_phrase(lib):
    first = lib.statement("Joe")
    today = dt.date.today()
    assert "Joe" in first.text and f"{today.day} {today:%B %Y}" in first.text
    assert first.text.endswith(f"My phrase is: {first.phrase}.")
    assert len(first.phrase.split()) == consent.PHRASE_WORDS
    assert lib.statement("Joe") == first  # kept until used
    renewed = lib.statement("Joe", renew=True)
    assert renewed.phrase != first.phrase or renewed.text == first.text
    phrases = {consent.new_statement("X").phrase for _ in range(20)}
    assert len(phrases) > 15  # random, not a fixed list


def test_phrase_matching_tolerates_spelling_not_other_words():
    phrase = "velvet tiger window candle"
    assert consent.missing_phrase_words(phrase, "My phrase is: Velvet, tiger. Window candle!") == ()
    assert consent.missing_phrase_words(phrase, "velvet tigers windows candles") == ()
    assert consent.missing_phrase_words(phrase, "purple rocket window candle") == (
        "velvet",
        "tiger",
    )
    assert consent.check(0.95, phrase, "velvet tiger window candel").accepted
    assert not consent.check(0.95, phrase, "purple rocket window candle").accepted
    assert not consent.check(consent.THRESHOLD - 0.01, phrase, None).accepted


@needs_whisper
def test_consent_refused_for_another_speaker_and_a_wrong_phrase(lib, tmp_path, warm_models):
    statement = lib.statement("Joe")
    impostor = write_audio(tmp_path / "impostor.wav", m.espeak(statement.text, "en-us+m3"))
    with pytest.raises(ConsentRefused, match="does not sound like the voice 'Joe'"):
        lib.record_consent("Joe", impostor)

    wrong = statement.text.replace(statement.phrase, "purple rocket island guitar")
    replay = write_audio(tmp_path / "replay.wav", m.joe(wrong))
    with pytest.raises(ConsentRefused, match="phrase was not heard"):
        lib.record_consent("Joe", replay)
    with pytest.raises(ConsentRequired, match="cannot be cloned"):
        lib.require_consent("Joe")
    assert lib.get("Joe").consent is None


@needs_whisper
def test_consent_accepted_for_the_same_voice_then_cloning_is_allowed(
    lib, tmp_path, warm_models, monkeypatch
):
    # A fixed phrase of words Whisper-base hears from this voice: the recording is then the
    # same every run, so the test checks the product, not the luck of a random draw.
    words = iter("dolphin magnet winter silver palace".split())
    monkeypatch.setattr(consent.secrets, "choice", lambda _seq: next(words))
    statement = lib.statement("Joe", renew=True)
    path = write_audio(tmp_path / "consent.wav", m.joe(statement.text, 1.1))
    result = lib.record_consent("Joe", path)
    assert result.accepted and result.phrase_heard
    assert result.similarity >= consent.THRESHOLD
    voice = lib.require_consent("Joe")
    assert voice.consent.statement == statement.text and voice.consent.path.is_file()
    assert voice.consent.transcript
    missed = consent.missing_phrase_words(statement.phrase, voice.consent.transcript)
    assert len(missed) <= consent.MAX_MISSED_WORDS
    assert lib.pending_statement("Joe") is None  # used up: the next consent needs a new one

    lib.set_clone("Joe", "kokoro-style", np.ones((510, 1, 256), np.float32), {"similarity": 0.8})
    clone = lib.get_clone("Joe", "kokoro-style")
    assert clone.data.shape == (510, 1, 256) and clone.meta == {"similarity": 0.8}
