"""WORLD voice conversion: move a voice's pitch and formants toward a reference.

The baseline the style search has to beat, and a post-process any engine's output can go
through. It matches what WORLD can see without a trained model: the mean and spread of
log-f0, and a formant scale (vocal-tract length) found by warping the average spectral
envelope along frequency until it lines up best with the reference's. It changes pitch and
formants, not the finer marks of identity, so expect a partial move toward the target.

A cloned voice uses the fixed form, :class:`WorldShift` (so many semitones, so much formant
scale): the clone search picks it by speaker similarity, and being fixed it leaves the
speech controls (pitch, emotion) working on top. WORLD's own analysis and resynthesis
change how a voice sounds to a speaker encoder (a Kokoro voice resynthesised unchanged
loses ~0.08 similarity to itself), so the search also weighs "no post-process at all".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True)
class WorldShift:
    """A fixed change: f0 moved by ``pitch`` semitones, formants scaled by ``warp``.

    ``warp`` > 1 moves every formant up (a shorter vocal tract), < 1 down.
    """

    pitch: float = 0.0
    warp: float = 1.0

    def as_dict(self) -> dict[str, float]:
        return {"pitch": round(float(self.pitch), 3), "warp": round(float(self.warp), 4)}


@dataclass
class Analysis:
    """WORLD's view of one clip, computed once and resynthesised with different shifts."""

    x: np.ndarray
    f0: np.ndarray
    times: np.ndarray
    sp: np.ndarray
    ap: np.ndarray | None = None


def _analyse(samples: np.ndarray, sample_rate: int, aperiodicity: bool = False) -> Analysis:
    import pyworld

    x = np.ascontiguousarray(samples, dtype=np.float64)
    f0 = f0_track(x, sample_rate)
    times = np.arange(len(f0)) * FRAME_PERIOD_MS / 1000.0
    sp = pyworld.cheaptrick(x, f0, times, sample_rate)
    ap = pyworld.d4c(x, f0, times, sample_rate) if aperiodicity else None
    return Analysis(x, f0, times, sp, ap)


def analyse(samples: np.ndarray, sample_rate: int) -> Analysis:
    """Everything resynthesis needs (f0, envelope, aperiodicity)."""
    return _analyse(samples, sample_rate, aperiodicity=True)


def _envelope(sp: np.ndarray, f0: np.ndarray, sample_rate: int) -> np.ndarray:
    freqs = np.linspace(0.0, sample_rate / 2, sp.shape[1])
    voiced = sp[f0 > 0] if np.any(f0 > 0) else sp
    mean_log = np.log(np.maximum(voiced, 1e-16)).mean(axis=0)
    env = np.interp(GRID_HZ, freqs, mean_log)
    return env - env.mean()


def _stats(a: Analysis, sample_rate: int) -> VoiceStats:
    voiced = np.log2(a.f0[a.f0 > 0]) if np.any(a.f0 > 0) else np.array([np.log2(120.0)])
    return VoiceStats(float(voiced.mean()), float(voiced.std() or 0.1), _envelope(a.sp, a.f0, sample_rate))


def voice_stats(samples: np.ndarray, sample_rate: int) -> VoiceStats:
    return _stats(_analyse(samples, sample_rate), sample_rate)


def best_warp(source: np.ndarray, target: np.ndarray) -> float:
    """The frequency scale that makes the source's envelope line up best with the target's."""
    errors = []
    for alpha in WARPS:
        warped = np.interp(GRID_HZ / alpha, GRID_HZ, source)
        warped = warped - warped.mean()
        errors.append(float(np.mean((warped - target) ** 2)))
    return float(WARPS[int(np.argmin(errors))])


def _synthesize(a: Analysis, new_f0: np.ndarray, warp: float, sample_rate: int, length: int) -> np.ndarray:
    import pyworld

    sp = a.sp
    if warp != 1.0:
        freqs = np.linspace(0.0, sample_rate / 2, sp.shape[1])
        log_sp = np.log(np.maximum(sp, 1e-16))
        sp = np.exp(np.stack([np.interp(freqs / warp, freqs, frame) for frame in log_sp]))
    out = pyworld.synthesize(new_f0, np.ascontiguousarray(sp), a.ap, sample_rate, FRAME_PERIOD_MS)
    out = out[:length]
    peak = float(np.max(np.abs(out))) if len(out) else 0.0
    return (out * (0.98 / peak) if peak > 0.98 else out).astype(np.float32)


def resynthesize(a: Analysis, shift: WorldShift, sample_rate: int) -> np.ndarray:
    """An analysed clip spoken again with ``shift`` (the search tries many on one analysis)."""
    return _synthesize(a, a.f0 * 2.0 ** (shift.pitch / 12.0), shift.warp, sample_rate, len(a.x))


def convert(samples: np.ndarray, sample_rate: int, target: Any) -> np.ndarray:
    """``samples`` moved toward ``target``: a reference's statistics (:class:`VoiceStats`),
    a fixed shift (:class:`WorldShift`), a clone's equaliser
    (:class:`~engines.speech.spectral_eq.SpectralEq`), or a tuple of these applied in turn."""
    if isinstance(target, tuple):
        for step in target:
            samples = convert(samples, sample_rate, step)
        return samples
    if hasattr(target, "apply"):  # a SpectralEq: a filter, no WORLD resynthesis
        return target.apply(samples, sample_rate)
    a = analyse(samples, sample_rate)
    voiced = a.f0 > 0
    if voiced.sum() < 3:
        return samples
    if isinstance(target, WorldShift):
        return resynthesize(a, target, sample_rate)
    source = _stats(a, sample_rate)
    alpha = best_warp(source.envelope, target.envelope)
    new_f0 = np.zeros_like(a.f0)
    z = (np.log2(a.f0[voiced]) - source.f0_mean) / source.f0_std
    new_f0[voiced] = 2.0 ** (target.f0_mean + z * target.f0_std)
    return _synthesize(a, new_f0, alpha, sample_rate, len(samples))
