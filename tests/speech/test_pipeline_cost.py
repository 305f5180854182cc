"""The pipeline's own work stays cheap without changing what it does: levelling measures
loudness as pyloudnorm does, and Piper takes are reproducible from one session."""

from __future__ import annotations

import numpy as np
import pytest

from engines.audio import AudioClip
from engines.loudness import integrated_lufs, mono_lufs
from engines.speech.request import SpeechRequest


@pytest.mark.parametrize("sample_rate", [16_000, 22_050, 24_000, 44_100])
@pytest.mark.parametrize("seconds", [0.2, 0.45, 3.3, 12.7])
def test_chunk_loudness_is_pyloudnorms(sample_rate, seconds):
    rng = np.random.default_rng(int(seconds * 10) + sample_rate)
    n = int(seconds * sample_rate)
    x = (rng.standard_normal(n) * np.linspace(0.01, 0.4, n)).astype(np.float32)
    x[: n // 3] *= 0.001  # a quiet stretch the gates must drop
    assert abs(mono_lufs(x, sample_rate) - integrated_lufs(AudioClip(x, sample_rate))) < 1e-3


def test_chunk_loudness_of_silence_is_silence():
    assert mono_lufs(np.zeros(30_000, np.float32), 22_050) == float("-inf")


TEXT = "A short line. And another one."


def _take(engine, seed: int, stability: float = 0.5) -> np.ndarray:
    request = SpeechRequest(TEXT, seed=seed, stability=stability)
    return np.concatenate([c.samples[0] for c in engine.stream(request)])


def test_piper_takes_repeat_bit_for_bit_from_one_session(piper):
    from engines.speech.piper_noise import SeededSession

    session = piper._voice("joe").session
    assert isinstance(session, SeededSession)  # the noise is fed, not drawn inside
    first, other = _take(piper, 11), _take(piper, 12)
    again = _take(piper, 11)
    assert piper._voice("joe").session is session  # no session made per request
    assert np.array_equal(first, again)
    n = min(len(first), len(other))
    assert not np.array_equal(first[:n], other[:n])  # the seed does change the take
    lively = _take(piper, 11, stability=0.0)  # the duration noise too
    assert np.array_equal(lively, _take(piper, 11, stability=0.0))
    assert len(lively) != len(first) or not np.array_equal(lively, first)


def test_piper_noise_table_is_standard_normal():
    from engines.speech.piper_noise import table

    t = table()
    assert abs(float(t.mean())) < 0.01 and abs(float(t.std()) - 1.0) < 0.01


def test_first_chunk_is_finished_before_the_next_synthesis_starts():
    """The listener's wait for the first audio is not shared with the second sentence's
    synthesis (espeak-ng, the real engine, its two steps recorded)."""
    import threading

    from engines.speech.espeak_engine import EspeakEngine

    events: list[str] = []
    lock = threading.Lock()

    class Recorded(EspeakEngine):
        def _synth(self, text, request):
            with lock:
                events.append(f"synth {text[:5]}")
            return super()._synth(text, request)

        def _chunk(self, seg, request, p, raw=None):
            out = super()._chunk(seg, request, p, raw)
            with lock:
                events.append(f"done {seg.text[:5]}")
            return out

    text = "First one here. Second one here. Third one here."
    list(Recorded().stream(SpeechRequest(text, seed=0)))
    assert events.index("done First") < events.index("synth Secon")
