"""Style search: a tiny real search (real Kokoro, real Resemblyzer), cancel, consent gate.

The long search that reaches the issue's similarity goal runs in make bench-voice.
"""

from __future__ import annotations

import numpy as np
import pytest

from engines.cancel import CancelToken
from engines.errors import Cancelled
from engines.speech.clone import CloneSettings, search_style, word_error_rate
from engines.speech.request import SpeechRequest

TINY = CloneSettings(
    budget_s=120,
    max_candidates=2,
    check_intelligibility=False,
    start_voices=("jf_alpha", "jm_kumo"),
    scoring=("Good morning to you, my friend.",),
    held_out=("The garden looks lovely today.",),
)


@pytest.fixture(scope="module")
def target(espeak):
    from engines.audio import AudioClip
    from engines.voices.embedding import embed

    text = "Hello, this is the reference voice. It reads a few short sentences."
    audio = espeak.raw(text, SpeechRequest(text, voice="en-us+m3"))
    return embed(AudioClip(audio, espeak.sample_rate))


def test_tiny_style_search_starts_from_nearest_shipped_style_and_never_gets_worse(kokoro, target):
    result = search_style(kokoro, target, TINY)
    assert result.base in ("jf_alpha", "jm_kumo")
    assert result.candidates == 2
    assert result.style.shape == (510, 256)
    base = kokoro.styles[result.base]
    assert np.allclose(result.style[:, 128:], base[:, 128:])  # prosody dims untouched
    assert -1.0 <= result.similarity <= 1.0 and -1.0 <= result.start_similarity <= 1.0
    assert result.score >= result.start_similarity - 0.5  # accepted score is a real cosine


def test_style_search_cancels_between_candidates(kokoro, target):
    token = CancelToken()
    seen = []

    def progress(p):
        seen.append(p.stage)
        if "searching" in p.stage:
            token.cancel()

    with pytest.raises(Cancelled):
        settings = CloneSettings(**{**TINY.__dict__, "max_candidates": 50,
                                    "start_voices": ("jf_alpha",)})
        search_style(kokoro, target, settings, progress, token)
    assert any("searching" in s for s in seen)


def test_word_error_rate():
    assert word_error_rate("the red box", "The red box.") == 0.0
    assert word_error_rate("the red box", "the bed box") == pytest.approx(1 / 3)
    assert word_error_rate("the red box", "red box") == pytest.approx(1 / 3)


def test_clone_command_needs_a_library_voice_with_consent(timbre_cli):
    out = timbre_cli("voice", "clone", "Nobody", "--budget", "5")
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and "Nobody" in out.stderr
