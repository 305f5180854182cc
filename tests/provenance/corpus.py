"""Clean (never watermarked) audio for detection tests, and the attacks files go through.

Three kinds, as the issue asks: speech (Piper joe and espeak-ng voices, real TTS made
here), music-like synthesis (chords of harmonic partials with envelopes, melodies, drum
hits) and noise (white, pink, brown, mains hum, room tone). Every clip is seeded, so a
failure can be replayed.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from engines.audio import AudioClip
from tests.provenance import audible
from tests.voices.material import espeak, joe

TEXTS = (
    "Turn left at the second set of lights and the station is on your right.",
    "We measured the river every morning for a month before the rain came.",
    "Can you hear the difference between these two recordings, or are they the same?",
    "The meeting moved to Thursday because half the team was travelling.",
    "Quiet rooms make small sounds seem much louder than they really are.",
    "He wrote the numbers down twice, just to be sure nothing was missed.",
    "A warm wind came off the hills and the kites rose over the beach.",
    "Please save your work before the update restarts the computer.",
    "Nobody expected the little shop on the corner to stay open so late.",
    "The recipe calls for two eggs, a cup of flour and a pinch of salt.",
)
ESPEAK_VOICES = ("en-us", "en-gb", "en-us+f2", "en-us+m3", "en-gb-scotland")
# A second speech set for checks that must not reuse what detection was tuned on.
FRESH_TEXTS = (
    "The ferry leaves at ten past six, so we should pack the car tonight.",
    "Her grandmother kept every letter in a tin box under the stairs.",
    "If the printer jams again, open the side panel and pull the paper gently.",
    "Thunder rolled across the valley long after the lightning had faded.",
    "They painted the fence blue, which nobody on the street had expected.",
    "Our train was cancelled, so we walked the last four miles in the dark.",
    "Measure twice and cut once, my father always used to say.",
    "The library will be closed on Monday for the public holiday.",
)
FRESH_VOICES = ("en-us+f3", "en-gb+m2", "en-us+f4", "en-029", "en-us+m7")
NOTE = 440.0 * 2 ** (np.arange(-24, 13) / 12)  # A2..A5


def speech(n: int) -> list[AudioClip]:
    """Piper joe at several rates and with delivery noise, then espeak-ng voices."""
    out = []
    for i in range(n):
        text = TEXTS[i % len(TEXTS)]
        if i % 2 == 0:
            out.append(
                joe(text, length_scale=(0.85, 1.0, 1.2)[i % 3], noise=(0.0, 0.667)[i % 4 // 2])
            )
        else:
            out.append(
                espeak(text, ESPEAK_VOICES[i % len(ESPEAK_VOICES)], speed=150 + 10 * (i % 4))
            )
    return out


def fresh_speech(n: int) -> list[AudioClip]:
    """Other sentences, delivery noise and speakers than :func:`speech` (espeak pitch too)."""
    out = []
    for i in range(n):
        text = FRESH_TEXTS[i % len(FRESH_TEXTS)]
        if i % 2 == 0:
            out.append(joe(text, length_scale=(0.9, 1.1, 1.3)[i % 3], noise=0.8))
        else:
            voice = FRESH_VOICES[i % len(FRESH_VOICES)]
            out.append(espeak(text, voice, speed=135 + 9 * (i % 5), pitch=25 + 12 * (i % 5)))
    return out


def _partials(freq: float, t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    tone = np.zeros_like(t)
    for k in range(1, rng.integers(3, 10)):
        if freq * k < 15_000:
            tone += (
                rng.uniform(0.2, 1.0) / k * np.sin(2 * np.pi * freq * k * t + rng.uniform(0, 6.3))
            )
    return tone


def music(n: int, seconds: float = 4.0, rate: int = 44_100, seed: int = 0) -> list[AudioClip]:
    """Chord progressions, melodies over a pad, and drum patterns; stereo every other one."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    out = []
    for i in range(n):
        kind = i % 3
        x = np.zeros_like(t)
        if kind == 0:  # block chords, one per second, plucked envelope
            for bar in range(int(seconds)):
                root = rng.integers(0, 24)
                seg = (t >= bar) & (t < bar + 1)
                env = np.exp(-rng.uniform(1, 5) * (t[seg] - bar))
                for step in (0, 4, 7, rng.choice([10, 11, 12])):
                    x[seg] += _partials(NOTE[root + step], t[seg], rng) * env
        elif kind == 1:  # melody of eighth notes over a sustained pad
            x += 0.3 * sum(_partials(NOTE[r], t, rng) for r in rng.integers(0, 12, 3))
            step = 0.25
            for k in range(int(seconds / step)):
                seg = (t >= k * step) & (t < (k + 1) * step)
                env = np.minimum(1, 20 * (t[seg] - k * step)) * np.exp(-3 * (t[seg] - k * step))
                x[seg] += _partials(NOTE[rng.integers(12, 36)], t[seg], rng) * env
        else:  # kick, snare and hats with a bass line
            beat = 0.5
            for k in range(int(seconds / beat)):
                a = int(k * beat * rate)
                d = t[: int(0.2 * rate)]
                hit = np.sin(2 * np.pi * 55 * d * (1 + 2 * np.exp(-30 * d))) * np.exp(-20 * d)
                if k % 2:
                    hit = rng.standard_normal(d.size) * np.exp(-25 * d)
                x[a : a + d.size] += hit
            hats = rng.standard_normal(t.size) * (np.exp(-60 * (t % 0.125)))
            x += 0.2 * np.diff(hats, prepend=0.0)
            x += 0.5 * np.sin(2 * np.pi * NOTE[rng.integers(0, 8)] * t)
        x += 10 ** (-60 / 20) * rng.standard_normal(t.size)  # a recording's noise floor
        x = 0.5 * x / np.max(np.abs(x))
        if i % 2:
            x = np.stack([x, np.roll(x, int(rng.integers(50, 500))) * 0.8])
        out.append(AudioClip(x.astype(np.float32), rate))
    return out


def noise(n: int, seconds: float = 3.0, rate: int = 48_000, seed: int = 0) -> list[AudioClip]:
    """White, pink, brown, mains hum with harmonics, and quiet room tone."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    out = []
    for i in range(n):
        white = rng.standard_normal(t.size)
        kind = i % 5
        if kind == 0:
            x = white
        elif kind == 1:  # pink: 1/f power
            spec = np.fft.rfft(white) / np.sqrt(np.maximum(np.fft.rfftfreq(t.size, 1 / rate), 1.0))
            x = np.fft.irfft(spec, t.size)
        elif kind == 2:
            x = np.cumsum(white)
            x -= np.linspace(x[0], x[-1], x.size)
        elif kind == 3:
            mains = (50.0, 60.0)[i % 2]
            x = sum(np.sin(2 * np.pi * mains * k * t) / k for k in range(1, 8)) + 0.05 * white
        else:
            x = np.convolve(white, np.ones(32) / 32, mode="same")
        level = rng.uniform(0.01, 0.5)
        out.append(AudioClip((level * x / np.max(np.abs(x))).astype(np.float32), rate))
    return out


# ---- attacks --------------------------------------------------------------------------
def mp3(clip: AudioClip, kbps: int = 64) -> AudioClip:
    """Encode to MP3 at ``kbps`` (LAME, through pedalboard) and decode again."""
    from pedalboard.io import AudioFile

    from engines.audio_io import read_audio

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "attack.mp3"
        with AudioFile(str(path), "w", clip.sample_rate, clip.channels, quality=kbps) as f:
            f.write(clip.samples)
        return read_audio(path)


def resample_16k(clip: AudioClip) -> AudioClip:
    return clip.resampled(16_000)


def noise_at_snr(clip: AudioClip, snr_db: float = 25.0, seed: int = 0) -> AudioClip:
    rng = np.random.default_rng(seed)
    power = float(np.mean(clip.samples**2))
    n = rng.standard_normal(clip.samples.shape).astype(np.float32)
    return AudioClip(
        clip.samples + n * np.float32(np.sqrt(power / 10 ** (snr_db / 10))), clip.sample_rate
    )


def trim_half(clip: AudioClip) -> AudioClip:
    """Keep half the length, starting at an offset that matches no frame grid."""
    return clip.slice_seconds(0.3 * clip.duration + 0.0137, 0.8 * clip.duration + 0.0137)


def gain_minus_6(clip: AudioClip) -> AudioClip:
    return clip.scaled(10 ** (-6 / 20))


ATTACKS = {
    "mp3-64k": mp3,
    "resample-16k": resample_16k,
    "noise-25dB": noise_at_snr,
    "trim-half": trim_half,
    "gain-6dB": gain_minus_6,
}


snr_db = audible.snr_db  # kept here too: the fast tests import it from the corpus
