"""Speech engines loaded once per test session, and measuring helpers."""

from __future__ import annotations

import numpy as np
import pytest

from engines.speech.pipeline import trim_silence
from engines.speech.request import SpeechRequest

SENTENCE = "The quick brown fox jumps over the lazy dog, then runs back home to sleep."


@pytest.fixture(scope="session")
def piper():
    from engines.speech.piper_engine import PiperEngine

    engine = PiperEngine()
    engine.load()
    return engine


@pytest.fixture(scope="session")
def kokoro():
    from engines.speech.kokoro_engine import KokoroEngine

    engine = KokoroEngine()
    engine.load()
    return engine


@pytest.fixture(scope="session")
def espeak():
    from engines.speech.espeak_engine import EspeakEngine

    engine = EspeakEngine()
    engine.load()
    return engine


_SPOKEN: dict[tuple, np.ndarray] = {}


def speak(engine, text: str = SENTENCE, **kw) -> np.ndarray:
    """The pipeline's output (without the watermark pass) as one mono array.

    Outputs are deterministic for a seed, so each distinct call is made once per session
    (the neutral reference several tests compare against is synthesised only once).
    """
    kw.setdefault("seed", 0)
    key = (engine.name, text, tuple(sorted(kw.items())))
    if key not in _SPOKEN:
        request = SpeechRequest(text, **kw)
        _SPOKEN[key] = np.concatenate([c.samples[0] for c in engine.stream(request)])
    return _SPOKEN[key]


def speech_seconds(samples: np.ndarray, rate: int) -> float:
    return len(trim_silence(samples, rate)) / rate


def rms_db(samples: np.ndarray) -> float:
    x = trim_silence(samples, 16000)
    return float(20 * np.log10(np.sqrt(np.mean(x.astype(np.float64) ** 2)) + 1e-12))
