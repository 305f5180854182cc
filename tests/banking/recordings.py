"""Bank takes as a microphone would give them, made from the shipped Piper voice (joe):
half a second of room before the speech, a little after, and a room-noise floor."""

from __future__ import annotations

import numpy as np

from engines.audio import AudioClip
from tests.podcast.synth import room_noise, say


def recording(
    text: str,
    gain: float = 0.5,
    noise_db: float = -65.0,
    lead_s: float = 0.5,
    tail_s: float = 0.6,
    seed: int = 0,
    **voice,
) -> AudioClip:
    speech = say(text, **voice)
    sr = speech.sample_rate
    x = np.concatenate(
        [np.zeros(int(lead_s * sr)), speech.samples[0] * gain, np.zeros(int(tail_s * sr))]
    ).astype(np.float32)
    x += room_noise(x.size / sr + 0.01, noise_db, seed, sr)[: x.size]
    return AudioClip(x, sr)


def clipped(clip: AudioClip, drive: float = 6.0) -> AudioClip:
    """What an input gain set far too high does: the waveform flattens at full scale."""
    return AudioClip(np.clip(clip.samples * drive, -1.0, 1.0), clip.sample_rate)


def silence(seconds: float = 3.0, rate: int = 22_050) -> AudioClip:
    """A take where the microphone was muted: only a faint hiss."""
    return AudioClip(room_noise(seconds, -70.0, seed=7, rate=rate), rate)
