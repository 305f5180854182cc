"""Prosody controls made measurable: emotion presets, stability, rate and pitch.

No engine here can set pitch, and their own rate knobs are not proportional (Piper's
``length_scale`` rounds every phoneme up to whole frames; Kokoro's ``speed`` rounds them),
so the exact part is done after synthesis, on the engine's output:

- rate alone: the speech is time-scaled to exactly ``1/rate`` of the engine's rate-1
  length by Rubber Band (pedalboard), which keeps pitch and formants;
- pitch level and pitch range (with any rate): WORLD analysis, the f0 contour set to
  ``median · 2^(level/12) · (f0/median)^range`` (the median moves by exactly ``level``, the
  contour widens or narrows around it), the frames resampled to the new length, and WORLD
  synthesis with the spectral envelope kept (formants stay);
- energy: a gain in dB from a fixed speech loudness.

When everything is neutral the audio is returned untouched (no overhead on the raw engine).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engines.errors import BadInput

RATE_RANGE = (0.5, 2.0)
PITCH_RANGE = (-12.0, 12.0)
FRAME_PERIOD_MS = 5.0
F0_FLOOR = 40.0  # a deep voice shifted down an octave still lies above this
F0_CEIL = 900.0
_PITCH_PASSES = 3


@dataclass(frozen=True)
class Prosody:
    """What the post-process does to one chunk. All neutral values mean "leave it"."""

    rate: float = 1.0  # speaking-rate factor: 2.0 = half the duration
    pitch: float = 0.0  # semitones added to the median f0
    pitch_range: float = 1.0  # factor on the f0 contour's spread around its median
    energy_db: float = 0.0  # level relative to the studio's speech loudness

    @property
    def neutral_shape(self) -> bool:
        return self.rate == 1.0 and self.pitch == 0.0 and self.pitch_range == 1.0

    def then(self, other: Prosody) -> Prosody:
        """Combine two layers (a preset, then the user's own settings, then variation)."""
        return Prosody(
            rate=self.rate * other.rate,
            pitch=self.pitch + other.pitch,
            pitch_range=self.pitch_range * other.pitch_range,
            energy_db=self.energy_db + other.energy_db,
        )


# Emotion presets: the direction of each comes from the speech-emotion literature
# (happy/excited: higher, wider, louder, faster; sad: lower, narrower, softer, slower;
# calm: a little lower, narrower, softer, slower); the sizes are kept moderate so that
# voices stay natural while the differences stay clearly measurable.
EMOTIONS: dict[str, Prosody] = {
    "neutral": Prosody(),
    "happy": Prosody(rate=1.08, pitch=2.0, pitch_range=1.35, energy_db=2.0),
    "excited": Prosody(rate=1.15, pitch=3.5, pitch_range=1.6, energy_db=4.0),
    "sad": Prosody(rate=0.85, pitch=-2.0, pitch_range=0.65, energy_db=-4.0),
    "calm": Prosody(rate=0.92, pitch=-1.0, pitch_range=0.8, energy_db=-2.0),
}


def emotion(name: str) -> Prosody:
    try:
        return EMOTIONS[name.lower()]
    except KeyError:
        raise BadInput(
            f"'{name}' is not an emotion this app knows; use one of {', '.join(EMOTIONS)}."
        ) from None


def check_controls(rate: float, pitch: float, stability: float) -> None:
    if not RATE_RANGE[0] <= rate <= RATE_RANGE[1]:
        raise BadInput(f"A speaking rate of {rate} is out of range; use 0.5 to 2.0 (1 = normal).")
    if not PITCH_RANGE[0] <= pitch <= PITCH_RANGE[1]:
        raise BadInput(f"A pitch of {pitch} semitones is out of range; use −12 to +12.")
    if not 0.0 <= stability <= 1.0:
        raise BadInput(f"A stability of {stability} is out of range; use 0 (lively) to 1 (steady).")


def stability_layer(stability: float, rng: np.random.Generator) -> Prosody:
    """How much one chunk's delivery strays from the others.

    Above 0.5 the contour is flattened (at 1.0 to 60 % of its spread); below 0.5 each chunk
    gets its own random pitch offset, spread and pace, up to ±1.5 st, ×1.3 and ±6 % at 0.
    Exactly 0.5 leaves the engine's own delivery alone.
    """
    if stability >= 0.5:
        return Prosody(pitch_range=1.0 - 0.8 * (stability - 0.5))
    amount = (0.5 - stability) * 2.0
    return Prosody(
        rate=float(np.exp(rng.normal(0.0, 0.06 * amount))),
        pitch=float(np.clip(rng.normal(0.0, 1.5 * amount), -3, 3)),
        pitch_range=1.0 + 0.3 * amount * float(rng.uniform(0.5, 1.0)),
    )


def f0_track(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """f0 in Hz every 5 ms (0 where unvoiced), WORLD DIO refined by StoneMask."""
    import pyworld

    x = np.ascontiguousarray(samples, dtype=np.float64)
    f0, t = pyworld.dio(x, sample_rate, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, frame_period=FRAME_PERIOD_MS)
    return pyworld.stonemask(x, f0, t, sample_rate)


def median_f0(samples: np.ndarray, sample_rate: int) -> float:
    """Median f0 of the voiced frames in Hz (0.0 when nothing is voiced)."""
    f0 = f0_track(samples, sample_rate)
    voiced = f0[f0 > 0]
    return float(np.exp(np.median(np.log(voiced)))) if voiced.size else 0.0


def semitones(a_hz: float, b_hz: float) -> float:
    """Interval from ``b`` to ``a`` in semitones."""
    return 12.0 * math.log2(a_hz / b_hz)


def reshape(
    samples: np.ndarray, sample_rate: int, p: Prosody, target_frames: int | None = None
) -> np.ndarray:
    """Apply rate (or an exact target length), pitch level and range to mono speech."""
    if target_frames is None:
        target_frames = int(round(len(samples) / p.rate))
    target_frames = max(1, target_frames)
    if p.pitch == 0.0 and p.pitch_range == 1.0:
        if target_frames == len(samples):
            return samples
        return _time_stretch(samples, sample_rate, target_frames)
    return _world_reshape(samples, sample_rate, p, target_frames)


def _time_stretch(samples: np.ndarray, sample_rate: int, target_frames: int) -> np.ndarray:
    """Rate only: Rubber Band (pedalboard) keeps pitch and formants and sounds cleanest."""
    from pedalboard import time_stretch

    out = time_stretch(
        np.ascontiguousarray(samples, dtype=np.float32)[np.newaxis, :],
        float(sample_rate),
        stretch_factor=len(samples) / target_frames,
        high_quality=True,
    )[0]
    return _fit_length(np.asarray(out, dtype=np.float32), target_frames)


def _world_reshape(samples: np.ndarray, sample_rate: int, p: Prosody, target_frames: int) -> np.ndarray:
    """Pitch level, range and length with WORLD: f0 is set exactly, the envelope is kept.

    The asked level is met as measured on the result (see the correction loop below).
    """
    import pyworld

    x = np.ascontiguousarray(samples, dtype=np.float64)
    f0 = f0_track(x, sample_rate)
    voiced = f0 > 0
    if voiced.sum() < 3:  # nothing to pitch: only the length changes
        return _time_stretch(samples, sample_rate, target_frames)
    times = np.arange(len(f0)) * FRAME_PERIOD_MS / 1000.0
    sp = pyworld.cheaptrick(x, f0, times, sample_rate)
    ap = pyworld.d4c(x, f0, times, sample_rate)
    median = float(np.exp(np.median(np.log(f0[voiced]))))
    new_f0 = np.zeros_like(f0)
    new_f0[voiced] = median * 2.0 ** (p.pitch / 12.0 + p.pitch_range * np.log2(f0[voiced] / median))
    n_out = max(2, int(round(target_frames / sample_rate * 1000.0 / FRAME_PERIOD_MS)) + 1)
    new_f0, sp, ap = _resample_frames(new_f0, sp, ap, n_out)
    new_f0 = np.clip(new_f0, 0.0, sample_rate / 4)
    # WORLD's analysis of its own output can differ from the contour it was given (voicing
    # decisions move, creaky voices hop octaves), so the result is measured and the
    # remaining median error corrected, a few times at most, keeping the closest.
    best, best_error, correction = None, float("inf"), 0.0
    for _ in range(_PITCH_PASSES):
        out = pyworld.synthesize(new_f0 * 2.0 ** (correction / 12.0), sp, ap, sample_rate, FRAME_PERIOD_MS)
        heard = median_f0(out, sample_rate)
        if heard <= 0:
            best = out if best is None else best
            break
        error = p.pitch - semitones(heard, median)
        if abs(error) < best_error:
            best, best_error = out, abs(error)
        if abs(error) < 0.1:
            break
        # Bounded: an octave-hopping measurement must not drag the shift far off.
        correction = float(np.clip(correction + error, -1.5, 1.5))
    out = best
    peak = float(np.max(np.abs(out))) if len(out) else 0.0
    if peak > 0.999:  # WORLD can overshoot a full-scale input a little
        out = out * (0.999 / peak)
    return _fit_length(out.astype(np.float32), target_frames)


def _resample_frames(
    f0: np.ndarray, sp: np.ndarray, ap: np.ndarray, n_out: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Change the number of WORLD frames: envelopes interpolated in log, f0 by nearest frame."""
    n = len(f0)
    if n_out == n:
        return f0, sp, ap
    pos = np.linspace(0.0, n - 1.0, n_out)
    i0 = np.floor(pos).astype(int)
    i1 = np.minimum(i0 + 1, n - 1)
    w = (pos - i0)[:, np.newaxis]
    log_sp = np.log(np.maximum(sp, 1e-16))
    new_sp = np.exp((1 - w) * log_sp[i0] + w * log_sp[i1])
    new_ap = (1 - w) * ap[i0] + w * ap[i1]
    new_f0 = f0[np.round(pos).astype(int)]
    return new_f0, np.ascontiguousarray(new_sp), np.ascontiguousarray(new_ap)


def _fit_length(samples: np.ndarray, frames: int) -> np.ndarray:
    """Stretchers land a few samples off the asked length: pad or cut the tail."""
    if len(samples) >= frames:
        return samples[:frames]
    return np.pad(samples, (0, frames - len(samples)))
