"""Whisper-base on the project's own voices: word error rate and word cut points.

``make bench-transcribe``. Every voice reads the same six sentences (tests/voices/material),
0.5 s apart; the transcript (the studio's settings: verbatim prompt, beam 5, edges snapped
to pauses) is scored by WER against the text. Cut points are measured on words synthesised
one by one with known edges (tests/transcripts/speech.py). The bounds are loose on purpose:
they catch a broken pipeline, the printed table is the measurement.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from engines.audio import AudioClip
from engines.transcripts.fillers import is_filler
from engines.transcripts.wer import word_error_rate
from engines.transcripts.words import RATE, transcribe_words
from tests.voices import material

pytestmark = pytest.mark.bench

# voice -> the most WER it may have (Piper and Kokoro are clear; espeak is robotic)
VOICES = {"piper:joe": 0.15, "kokoro:jf_alpha": 0.25, "kokoro:jm_kumo": 0.25,
          "espeak:en-us": 0.35, "espeak:en-us+f2": 0.35}
WORD_LISTS = (
    None,  # the default list of tests/transcripts/speech.py, fillers included
    ("please", "remember", "to", "um", "water", "the", "plants", "and", "feed", "the", "cat"),
    ("a", "good", "map", "shows", "uh", "the", "rivers", "roads", "and", "hills"),
)


def speak(voice: str, text: str) -> AudioClip:
    family, _, name = voice.partition(":")
    if family == "piper":
        return material.joe(text)
    if family == "kokoro":
        return material.kokoro(text, name)
    return material.espeak(text, name)


def test_word_error_rate_on_our_voices():
    rows = []
    for voice, limit in VOICES.items():
        clips = [speak(voice, s) for s in material.SENTENCES]
        clip, _spans = material.with_pauses(clips, 0.5)
        audio = clip.mono().resampled(RATE).samples[0]
        t0 = time.perf_counter()
        result = transcribe_words(audio, "en")
        took = time.perf_counter() - t0
        heard = " ".join(w.text for w in result.words if not is_filler(w.text))
        wer = word_error_rate(" ".join(material.SENTENCES), heard)
        rows.append((voice, wer, clip.duration, took, limit, heard))
    from engines.transcripts.wer import tokens

    n = len(tokens(" ".join(material.SENTENCES)))
    print(f"\nWhisper-base word error rate ({len(material.SENTENCES)} sentences, {n} words, en, "
          "beam 5, verbatim prompt; took = wall time, the first includes loading)")
    print(f"{'voice':18s} {'WER':>6s} {'audio s':>8s} {'took s':>7s}")
    for voice, wer, dur, took, _limit, heard in rows:
        print(f"{voice:18s} {wer:6.1%} {dur:8.1f} {took:7.1f}   {heard[:70]}…")
    for voice, wer, _d, _t, limit, _h in rows:
        assert wer <= limit, f"{voice}: WER {wer:.1%}"


def test_word_cut_points_on_separately_spoken_words():
    from tests.transcripts.speech import WORDS, say_words

    errors, missing = [], 0
    for words in WORD_LISTS:
        said = say_words(words or WORDS)
        audio = said.clip.mono().resampled(RATE).samples[0]
        result = transcribe_words(audio, "en")
        for a, b in said.spans:
            a_s, b_s = a / said.rate, b / said.rate
            hits = [w for w in result.words if a_s <= (w.start + w.end) / 2 < b_s]
            if len(hits) != 1:
                missing += 1
                continue
            w = hits[0]
            errors += [abs(w.start - a_s), abs(w.end - b_s)]
    errors_ms = 1000 * np.array(errors)
    print(f"\nword cut points: {len(errors) // 2} words, {missing} not heard as one word; edge "
          f"error mean {errors_ms.mean():.1f} ms, 95th percentile {np.percentile(errors_ms, 95):.1f} ms, "
          f"worst {errors_ms.max():.1f} ms")
    assert errors_ms.max() <= 50.0
