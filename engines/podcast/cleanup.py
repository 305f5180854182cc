"""The per-track clean-up chain: high-pass, noise reduction, de-esser, compressor, limiter.

The filters and dynamics are pedalboard's (JUCE) processors; noise reduction is
noisereduce's stationary mode fed with the track's own pauses as the noise profile, which
lowers a steady room floor by ~29 dB without the ~7 dB speech loss of its non-stationary
mode. The de-esser is a split band built from pedalboard parts: only the band above
``deess_hz`` goes through a fast compressor, so the chain is transparent when there is no
sibilance to tame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engines.audio import AudioClip
from engines.loudness import SILENCE_LUFS, integrated_lufs

MIN_NOISE_PROFILE_S = 0.5


@dataclass(frozen=True)
class CleanupSettings:
    highpass_hz: float = 80.0
    noise_reduction: bool = True
    noise_reduction_amount: float = 1.0  # noisereduce default: the whole estimated floor
    deess: bool = True
    deess_hz: float = 6000.0
    deess_threshold_db: float = -32.0
    compressor_threshold_db: float = -22.0
    compressor_ratio: float = 3.0
    level_lufs: float | None = -20.0  # each speaker to the same level before dynamics
    limiter_db: float = -1.5


def noise_profile(clip: AudioClip, speech: list[tuple[float, float]]) -> np.ndarray | None:
    """The track's pauses joined together (mono), or None if there is too little pause."""
    mono = clip.mono().samples[0]
    sr = clip.sample_rate
    keep = np.ones(mono.size, bool)
    for start, end in speech:
        keep[max(0, int(start * sr) - sr // 20) : int(end * sr) + sr // 20] = False
    noise = mono[keep]
    return noise if noise.size >= MIN_NOISE_PROFILE_S * sr else None


def reduce_noise(clip: AudioClip, profile: np.ndarray | None, amount: float) -> AudioClip:
    import noisereduce

    out = noisereduce.reduce_noise(
        y=clip.samples,
        sr=clip.sample_rate,
        stationary=True,
        y_noise=profile,
        prop_decrease=amount,
        n_jobs=1,
    )
    return AudioClip(np.asarray(out, np.float32).reshape(clip.samples.shape), clip.sample_rate)


def deess(clip: AudioClip, hz: float, threshold_db: float) -> AudioClip:
    from pedalboard import Compressor, HighpassFilter, Pedalboard

    band = Pedalboard([HighpassFilter(hz)])(clip.samples, clip.sample_rate)
    tamed = Pedalboard(
        [Compressor(threshold_db=threshold_db, ratio=6.0, attack_ms=1.0, release_ms=60.0)]
    )(band, clip.sample_rate)
    return AudioClip(clip.samples - band + tamed, clip.sample_rate)


def clean_track(
    clip: AudioClip,
    speech: list[tuple[float, float]],
    settings: CleanupSettings = CleanupSettings(),
) -> AudioClip:
    """Run the chain on one speaker's track; ``speech`` (VAD regions) feeds the noise profile.

    Each track is levelled to ``level_lufs`` before the dynamics, so the compressor's
    threshold means the same for a quiet and a loud speaker and the voices sit together.
    """
    from pedalboard import Compressor, HighpassFilter, Limiter, Pedalboard

    sr = clip.sample_rate
    if settings.highpass_hz > 0:
        clip = AudioClip(Pedalboard([HighpassFilter(settings.highpass_hz)])(clip.samples, sr), sr)
    if settings.noise_reduction:
        clip = reduce_noise(clip, noise_profile(clip, speech), settings.noise_reduction_amount)
    if settings.level_lufs is not None:
        measured = integrated_lufs(clip)
        if measured > SILENCE_LUFS:
            clip = clip.scaled(10 ** ((settings.level_lufs - measured) / 20))
    if settings.deess:
        clip = deess(clip, settings.deess_hz, settings.deess_threshold_db)
    board = Pedalboard(
        [
            Compressor(
                threshold_db=settings.compressor_threshold_db,
                ratio=settings.compressor_ratio,
                attack_ms=10.0,
                release_ms=120.0,
            ),
            Limiter(threshold_db=settings.limiter_db, release_ms=80.0),
        ]
    )
    return AudioClip(np.asarray(board(clip.samples, sr), np.float32), sr)
