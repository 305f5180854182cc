"""WORLD voice conversion: move a voice's pitch and formants toward a reference.

The baseline the style search has to beat, and a post-process any engine's output can go
through. It matches what WORLD can see without a trained model: the mean and spread of
log-f0, and a formant scale (vocal-tract length) found by warping the average spectral
envelope along frequency until it lines up best with the reference's. It changes pitch and
formants, not the finer marks of identity, so expect a partial move toward the target.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engines.speech.prosody import FRAME_PERIOD_MS, f0_track

GRID_HZ = np.linspace(100.0, 5000.0, 200)  # where formants live
WARPS = np.linspace(0.8, 1.25, 37)


@dataclass(frozen=True)
class VoiceStats:
    """What WORLD conversion matches: log2-f0 mean and spread, mean envelope shape."""

    f0_mean: float
    f0_std: float
    envelope: np.ndarray  # mean log envelope on GRID_HZ, mean removed


def _analyse(samples: np.ndarray, sample_rate: int):
    import pyworld

    x = np.ascontiguousarray(samples, dtype=np.float64)
    f0 = f0_track(x, sample_rate)
    times = np.arange(len(f0)) * FRAME_PERIOD_MS / 1000.0
    sp = pyworld.cheaptrick(x, f0, times, sample_rate)
    return x, f0, times, sp


def _envelope(sp: np.ndarray, f0: np.ndarray, sample_rate: int) -> np.ndarray:
    freqs = np.linspace(0.0, sample_rate / 2, sp.shape[1])
    voiced = sp[f0 > 0] if np.any(f0 > 0) else sp
    mean_log = np.log(np.maximum(voiced, 1e-16)).mean(axis=0)
    env = np.interp(GRID_HZ, freqs, mean_log)
    return env - env.mean()


def voice_stats(samples: np.ndarray, sample_rate: int) -> VoiceStats:
    _, f0, _, sp = _analyse(samples, sample_rate)
    voiced = np.log2(f0[f0 > 0]) if np.any(f0 > 0) else np.array([np.log2(120.0)])
    return VoiceStats(float(voiced.mean()), float(voiced.std() or 0.1), _envelope(sp, f0, sample_rate))


def best_warp(source: np.ndarray, target: np.ndarray) -> float:
    """The frequency scale that makes the source's envelope line up best with the target's."""
    errors = []
    for alpha in WARPS:
        warped = np.interp(GRID_HZ / alpha, GRID_HZ, source)
        warped = warped - warped.mean()
        errors.append(float(np.mean((warped - target) ** 2)))
    return float(WARPS[int(np.argmin(errors))])


def convert(samples: np.ndarray, sample_rate: int, target: VoiceStats) -> np.ndarray:
    """``samples`` with f0 statistics and formant scale moved to ``target``'s."""
    import pyworld

    x, f0, times, sp = _analyse(samples, sample_rate)
    voiced = f0 > 0
    if voiced.sum() < 3:
        return samples
    ap = pyworld.d4c(x, f0, times, sample_rate)
    source = voice_stats(samples, sample_rate)
    alpha = best_warp(_envelope(sp, f0, sample_rate), target.envelope)
    freqs = np.linspace(0.0, sample_rate / 2, sp.shape[1])
    log_sp = np.log(np.maximum(sp, 1e-16))
    warped = np.stack([np.interp(freqs / alpha, freqs, frame) for frame in log_sp])
    new_f0 = np.zeros_like(f0)
    z = (np.log2(f0[voiced]) - source.f0_mean) / source.f0_std
    new_f0[voiced] = 2.0 ** (target.f0_mean + z * target.f0_std)
    out = pyworld.synthesize(new_f0, np.ascontiguousarray(np.exp(warped)), ap, sample_rate, FRAME_PERIOD_MS)
    out = out[: len(samples)]
    peak = float(np.max(np.abs(out))) if len(out) else 0.0
    return (out * (0.98 / peak) if peak > 0.98 else out).astype(np.float32)
