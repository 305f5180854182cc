"""Speech with known word edges: each word synthesised on its own by Piper joe, its
near-silence trimmed, then laid end to end with pauses, so where every word starts and
ends is known to the sample. Fillers ("Um.", "Uh.") are Piper saying them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engines.audio import AudioClip

WORDS = ("so", "um", "the", "quick", "brown", "fox", "uh", "jumps", "over", "the", "lazy", "dog")
FILLERS = ("um", "uh")
PAUSE_S = 0.25


@dataclass(frozen=True)
class Said:
    clip: AudioClip
    words: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]  # frames [start, end) of each word

    @property
    def rate(self) -> int:
        return self.clip.sample_rate


def say_words(words: tuple[str, ...] = WORDS, pause_s: float = PAUSE_S) -> Said:
    from tests.voices import material

    clips = [material.trim(material.joe(f"{w.capitalize()}." if w in FILLERS else w)) for w in words]
    rate = clips[0].sample_rate
    gap = np.zeros(round(pause_s * rate), np.float32)
    parts, spans, at = [gap], [], len(gap)
    for clip in clips:
        x = clip.samples[0]
        spans.append((at, at + len(x)))
        parts += [x, gap]
        at += len(x) + len(gap)
    return Said(AudioClip(np.concatenate(parts) * np.float32(0.8), rate), words, tuple(spans))
