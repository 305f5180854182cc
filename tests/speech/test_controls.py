"""Rate, pitch, emotion and stability change the audio by the asked, measured amounts."""

from __future__ import annotations

import numpy as np
import pytest

from engines.speech.prosody import median_f0, semitones
from engines.speech.request import SpeechRequest
from tests.speech.conftest import rms_db, speak, speech_seconds

SHORT = "Please bring the red box to the kitchen before dinner."


@pytest.mark.parametrize("engine_name", ["piper", "kokoro", "espeak"])
@pytest.mark.parametrize("rate", [0.5, 2.0])
def test_rate_changes_duration_by_the_asked_ratio(request, engine_name, rate):
    engine = request.getfixturevalue(engine_name)
    base = speech_seconds(speak(engine, SHORT), engine.sample_rate)
    fast = speech_seconds(speak(engine, SHORT, rate=rate), engine.sample_rate)
    ratio = base / fast
    assert abs(ratio / rate - 1) < 0.05, f"{engine_name}: asked ×{rate}, got ×{ratio:.3f}"


@pytest.fixture(scope="module")
def emotions(kokoro):
    sr = kokoro.sample_rate
    out = {}
    for name in ("neutral", "happy", "excited", "sad", "calm"):
        audio = speak(kokoro, SHORT, emotion=name)
        out[name] = (median_f0(audio, sr), rms_db(audio), speech_seconds(audio, sr))
    return out


def test_happy_and_excited_are_higher_and_louder_than_neutral(emotions):
    f0, level, _ = emotions["neutral"]
    for name in ("happy", "excited"):
        assert semitones(emotions[name][0], f0) > 1.0, name
        assert emotions[name][1] > level + 1.0, name
    assert emotions["excited"][0] > emotions["happy"][0]


def test_sad_is_lower_softer_and_slower_than_neutral(emotions):
    f0, level, seconds = emotions["neutral"]
    sad_f0, sad_level, sad_seconds = emotions["sad"]
    assert semitones(sad_f0, f0) < -1.0
    assert sad_level < level - 2.0
    assert sad_seconds > seconds * 1.1
    assert emotions["calm"][2] > seconds  # calm is slower too


def _f0_spread(samples: np.ndarray, sr: int) -> float:
    from engines.speech.prosody import f0_track

    f0 = f0_track(samples, sr)
    st = 12 * np.log2(f0[f0 > 0] / np.median(f0[f0 > 0]))
    return float(np.percentile(st, 90) - np.percentile(st, 10))


def test_stability_steadies_the_delivery(kokoro):
    sr = kokoro.sample_rate
    text = "Say it again. Say it again. Say it again."

    def per_sentence_medians(stability):
        request = SpeechRequest(text, stability=stability, seed=3)
        chunks = [c.samples[0] for c in kokoro.stream(request)]
        return [semitones(median_f0(c, sr), 100.0) for c in chunks], np.concatenate(chunks)

    lively, lively_audio = per_sentence_medians(0.0)
    steady, steady_audio = per_sentence_medians(1.0)
    assert np.std(lively) > np.std(steady) + 0.3  # sentences differ when lively
    assert _f0_spread(steady_audio, sr) < _f0_spread(lively_audio, sr)  # flatter when steady
