"""Prosody controls made measurable: emotion presets, stability, rate and pitch.

No engine here can set pitch, and their own rate knobs are not proportional (Piper's
``length_scale`` rounds every phoneme up to whole frames; Kokoro's ``speed`` rounds them),
so the exact part is done after synthesis, on the engine's output:

- rate alone: the speech is time-scaled to exactly ``1/rate`` of the engine's rate-1
  length by Rubber Band (pedalboard), which keeps pitch and formants;
- pitch level alone from −6 to +12 st (with any rate): Rubber Band shifts every period by
  exactly the asked ratio, creak and breath included, so whatever a listener or any tracker
  hears in the engine's take moves by the asked interval (see :func:`_shift_level`);
- pitch range, or a level below −6 st (with any rate): WORLD analysis, the f0 contour set to
  ``median · 2^(level/12) · (f0/median)^range`` (the median moves by exactly ``level``, the
  contour widens or narrows around it), the frames resampled to the new length, and WORLD
  synthesis with the spectral envelope kept (formants stay);
- energy: a gain in dB from a fixed speech loudness.

When everything is neutral the audio is returned untouched (no overhead on the raw engine).
A creaky voice (an engine with ``steady_phonation``, Piper) is re-voiced by WORLD with one
clear period per frame (:func:`steady_analysis`) when its pitch level or range is asked to
change, at the asked level as a long-window tracker hears it (:func:`heard_median`); with
``steady_neutral`` its neutral takes are re-voiced too (robust on every sentence, ~4× the
engine's time), otherwise they are the engine's own audio and the reference of its shifts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engines.errors import BadInput

RATE_RANGE = (0.5, 2.0)
PITCH_RANGE = (-12.0, 12.0)
FRAME_PERIOD_MS = 5.0
F0_FLOOR = 30.0  # a deep, creaky voice shifted down an octave still lies above this
F0_CEIL = 1100.0  # a high voice's peaks shifted up an octave still lie below this
_PITCH_PASSES = 3
# A level shift down by more than this goes through WORLD, which keeps the formants: with
# them moved an octave down by Rubber Band, Whisper heard joe and espeak-ng at −10 and −12 st
# as other words (WER 0.6–0.9; at −8 st 0.2 and 0.0, Kokoro 0.0 throughout; up to +12: 0.0).
LOWEST_TAPE_SHIFT = -6.0
_PITCH_TOLERANCE_ST = 0.2  # stop correcting once the measured shift is this close
_OCTAVE_WINDOW = 41  # voiced frames (~0.2 s) in the running median octave errors are judged by
_LOUD_DB = 20.0  # frames this far below the loud voiced frames do not count for the median
_OUTLIER_OCTAVES = 0.75  # nor frames further than this from it (a run in another register)
_H1_DROP_DB = 3.0  # the first harmonic is kept at most this far under the 2nd to 4th
# ... and in a steady_phonation take at least this far above them: modal phonation (H1 a few
# dB over H2), where creak has H1 far under H2 (joe's unshifted take: by pyin 81.0 Hz, +8 st
# heard +8.50 with H1 level with the others, +8.35 with it 3 dB over).
_STEADY_H1_DB = -3.0
# A steady_phonation take's voiced frames get D4C's aperiodicity raised to this power:
# creak measured at a period the voice does not keep reads as half to fully aperiodic
# (0.5-0.9), and WORLD then fills those vowels with noise shaped by the formants, which Praat
# hears as a "pitch" at the first formant (joe −12 st: 24 of 137 frames at 500-700 Hz,
# median −11.40 st). Cubed, such bands are mostly periodic (0.5 → 0.13) while a band D4C
# finds wholly aperiodic (1.0) stays noise; joe −12 st is then heard −12.06 (Praat),
# −12.20 (pyin).
_STEADY_AP_POWER = 3.0
_STEADY_MEDIAN_FRAMES, _STEADY_MEAN_FRAMES = 11, 7  # a steady take's f0 smoothing (5 ms frames)
# A voice moved under _DEEP_HZ keeps this much of its contour's spread (in semitones). One of
# Piper joe's falls (104 → 81 Hz in 0.18 s) moved to 52 Hz changes each 19 ms period by
# ~0.4 ms, which puts the ringing of a strong first formant (700 Hz, 75 % of that vowel's
# energy) out of phase from one period to the next: Praat heard the formant as the pitch
# and pyin the vowel as unvoiced (seed 3, −8 st: −7.34 / −8.10; −12: −11.83 / −13.30).
# At 0.7 of the spread every seed 0-4 read within 0.2 st by both at −8 and −12.
_DEEP_HZ, _DEEP_RANGE = 60.0, 0.7
_ENVELOPE_SMOOTH_FRAMES = 9  # frames (45 ms) the spectral envelope is averaged over in time
_PERIOD_MARGIN = 0.05  # how much better twice the period must repeat to halve a frame


@dataclass(frozen=True)
class Prosody:
    """What the post-process does to one chunk. All neutral values mean "leave it"."""

    rate: float = 1.0  # speaking-rate factor: 2.0 = half the duration
    pitch: float = 0.0  # semitones added to the median f0
    pitch_range: float = 1.0  # factor on the f0 contour's spread around its median
    energy_db: float = 0.0  # level relative to the studio's speech loudness

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
    """f0 in Hz every 5 ms (0 where unvoiced): WORLD Harvest, octave errors folded back.

    Harvest rather than DIO: on a creaky voice (Piper joe) DIO marks most vowels unvoiced
    and reports the rest an octave up (a median of 160 Hz for a ~110 Hz voice), so a
    shift built on it whispers the vowels and measures the wrong register. The range is
    wide enough for a deep voice an octave down (30 Hz) and a high one an octave up.
    """
    import pyworld

    x = np.ascontiguousarray(samples, dtype=np.float64)
    floor, ceil = _search_range(x, sample_rate)
    f0, _ = pyworld.harvest(x, sample_rate, f0_floor=floor, f0_ceil=ceil, frame_period=FRAME_PERIOD_MS)
    return fold_octave_errors(halve_harmonic_locks(x, sample_rate, f0))


def halve_harmonic_locks(
    x: np.ndarray, sample_rate: int, f0: np.ndarray, margin: float = _PERIOD_MARGIN
) -> np.ndarray:
    """Halve the frames where Harvest followed the second harmonic instead of f0.

    Harvest tracks the lowest strong sinusoid. In a deep voice whose fundamental is weak
    (Piper joe: f0 ~80 Hz, its second harmonic ~20 dB louder) it reports the second
    harmonic, ~160 Hz, for most vowels; WORLD then resynthesises the voice an octave above
    what a listener, Praat or pyin hear in the engine's own take, and every shift lands an
    octave up. The waveform knows better: it repeats after its true period, so a frame whose
    signal correlates clearly better after two of the reported periods than after one was
    reported an octave up. Each voiced frame is checked on a window two reported periods
    long; :func:`fold_octave_errors` then settles the frames the check left undecided.
    """
    f0 = np.array(f0, dtype=np.float64)
    hop = sample_rate * FRAME_PERIOD_MS / 1000.0
    frames = np.flatnonzero(f0 > 0)
    if frames.size == 0:
        return f0
    longest = int(np.ceil(6.6 * sample_rate / f0[frames].min())) + 2
    padded = np.pad(np.asarray(x, np.float64), (0, longest))
    cum = np.concatenate([[0.0], np.cumsum(padded**2)])
    for i in frames:
        period = sample_rate / f0[i]
        width = int(round(2 * period))
        start = int(round(i * hop - period))
        if start < 0:
            continue
        one = _best_correlation(padded, cum, start, width, period)
        two = _best_correlation(padded, cum, start, width, 2 * period)
        if two > one + margin:
            f0[i] /= 2.0
    return f0


def _best_correlation(padded: np.ndarray, cum: np.ndarray, start: int, width: int, lag: float) -> float:
    """Highest normalised correlation of ``padded[start:start+width]`` with itself ±10 % of ``lag`` later."""
    lo, hi = max(1, int(lag * 0.9)), int(np.ceil(lag * 1.1))
    a = padded[start : start + width]
    energy_a = float(a @ a)
    if energy_a <= 0:
        return 0.0
    later = padded[start + lo : start + hi + width]
    dots = np.correlate(later, a, mode="valid")  # one dot product per lag lo..hi
    ends = start + np.arange(lo, lo + len(dots))
    energy_b = cum[ends + width] - cum[ends]
    return float(np.max(dots / np.sqrt(energy_a * np.maximum(energy_b, 1e-20))))


def _search_range(x: np.ndarray, sample_rate: int) -> tuple[float, float]:
    """Where Harvest looks: two octaves below to 1.3 above DIO's rough register.

    Harvest's cost grows with the octaves searched and as the floor drops (twice as fast for
    a high voice than over the whole 30–1100 Hz); DIO is cheap, and when it errs on speech it
    errs an octave up, which the margins still cover.
    """
    import pyworld

    f0, _ = pyworld.dio(x, sample_rate, f0_floor=40.0, f0_ceil=900.0, frame_period=FRAME_PERIOD_MS)
    voiced = f0[f0 > 0]
    if voiced.size < 3:
        return F0_FLOOR, F0_CEIL
    register = float(np.median(voiced))
    return max(F0_FLOOR, register / 4.0), min(F0_CEIL, register * 2.5)


def fold_octave_errors(f0: np.ndarray, tolerance: float = 0.3, max_jump: float = 0.55) -> np.ndarray:
    """Trackers jump an octave (or two) for a few frames; intonation does not.

    Each voiced frame is compared, in octaves, with the running median of its voiced
    neighbours (~0.2 s): a frame a whole number of octaves off (within ``tolerance``) is
    folded back, any other frame more than ``max_jump`` off is called unvoiced, and voiced
    islands shorter than 3 frames are dropped.
    """
    from scipy.ndimage import median_filter

    f0 = np.array(f0, dtype=np.float64)
    for _ in range(2):  # a second pass judges by a median no longer pulled by the errors
        voiced = np.flatnonzero(f0 > 0)
        if len(voiced) < 3:
            return np.zeros_like(f0)
        logf = np.log2(f0[voiced])
        local = median_filter(logf, size=min(_OCTAVE_WINDOW, len(logf)), mode="nearest")
        off = logf - local
        octaves = np.round(off)
        fold = (octaves != 0) & (np.abs(off - octaves) < tolerance)
        f0[voiced[fold]] = 2.0 ** (logf[fold] - octaves[fold])
        f0[voiced[~fold & (np.abs(off) > max_jump)]] = 0.0
    edges = np.flatnonzero(np.diff(np.r_[0, (f0 > 0).astype(np.int8), 0]))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        if stop - start < 3:
            f0[start:stop] = 0.0
    return f0


def _frame_db(samples: np.ndarray, sample_rate: int, frames: int) -> np.ndarray:
    """Level of a 30 ms window around each 5 ms frame, in dB."""
    hop = sample_rate * FRAME_PERIOD_MS / 1000.0
    half = int(0.015 * sample_rate)
    power = np.concatenate([[0.0], np.cumsum(np.asarray(samples, np.float64) ** 2)])
    centre = np.round(np.arange(frames) * hop).astype(int)
    lo = np.clip(centre - half, 0, len(samples))
    hi = np.clip(centre + half, 0, len(samples))
    mean = (power[hi] - power[lo]) / np.maximum(hi - lo, 1)
    return 10.0 * np.log10(mean + 1e-12)


def _voiced_median(samples: np.ndarray, sample_rate: int, f0: np.ndarray) -> float:
    """Median f0 of the loud voiced frames (log domain), 0.0 when nothing is voiced.

    Quiet "voiced" frames are mostly consonants and breath the tracker hears a pitch in;
    runs far from the voice's register are mostly noise heard as a low pitch (after WORLD
    synthesis, the noise that replaces a creaky vowel the tracker called unvoiced). Either
    would move the median by whether it happens to be counted, not by the voice's pitch.
    """
    voiced = f0 > 0
    if not voiced.any():
        return 0.0
    level = _frame_db(samples, sample_rate, len(f0))
    loud = voiced & (level >= np.percentile(level[voiced], 90) - _LOUD_DB)
    logf = np.log2(f0[loud if loud.any() else voiced])
    centre = float(np.median(logf))
    for _ in range(3):
        # Runs an octave off the register (a tracker's octave error too long to be judged
        # locally) are folded back; other runs far away (noise heard as pitch) do not count.
        off = logf - centre
        octaves = np.round(off)
        fold = (octaves != 0) & (np.abs(off - octaves) < 0.3)
        logf = np.where(fold, logf - octaves, logf)
        near = np.abs(logf - centre) <= _OUTLIER_OCTAVES
        if not near.any():
            break
        centre = float(np.median(logf[near]))
    return float(2.0**centre)


def median_f0(samples: np.ndarray, sample_rate: int) -> float:
    """Median f0 of the voiced speech in Hz (0.0 when nothing is voiced).

    The measure the pitch controls are held to (tests and the correction loop alike).
    """
    return _voiced_median(samples, sample_rate, f0_track(samples, sample_rate))


_HEARD_RATE = 8000  # Hz: f0 up to 900 Hz and its first harmonics are all the measure needs
_HEARD_VOICING = 0.45  # normalised autocorrelation a frame's period must reach (Praat's default)
_HEARD_SILENCE = 0.03  # frames whose peak is under this fraction of the take's peak are silence
_HEARD_OCTAVE_COST = 0.01  # per octave, favours the higher of two near-equal candidates
_HEARD_BELOW_HZ = 70.0  # a 0.1 s window holds under 7 periods of a voice lower than this


def heard_median(
    samples: np.ndarray, sample_rate: int, floor: float = F0_FLOOR, ceil: float = 900.0
) -> float:
    """Median f0 (Hz) as a long-window autocorrelation tracker hears it; 0.0 when unvoiced.

    Why a second measure: Harvest follows f0 in 5 ms steps and voices a creaky voice's
    irregular stretches (Piper joe's falling tails at 60–70 Hz) that listeners and the
    trackers of the literature (Praat, pyin; windows of ~0.1 s) do not hear as voiced, and
    it misses stretches they do hear. On joe's engine take its median lay 1.1 st under
    both trackers' (which agree with each other). A pitched joe take is re-voiced by WORLD
    (:func:`steady_phonation`) while his neutral take is the engine's own audio, so the
    shift is measured from the engine's take as these trackers measure it: each 0.1 s
    frame (three periods of ``floor``) is windowed, its autocorrelation normalised by the
    window's, the best peak between ``ceil`` and ``floor`` taken (with a small bias to
    the higher octave) and the frame called voiced when it repeats to
    ``_HEARD_VOICING``. Cost: ~15 ms for 3 s of speech.
    """
    from numpy.lib.stride_tricks import sliding_window_view
    from scipy.signal import resample_poly

    rate = _HEARD_RATE
    y = resample_poly(np.asarray(samples, np.float64), rate, sample_rate)
    win = int(round(3 * rate / floor))
    if len(y) < win:
        return 0.0
    frames = sliding_window_view(y, win)[:: rate // 100]
    loud = np.max(np.abs(frames), axis=1) >= _HEARD_SILENCE * float(np.max(np.abs(y)))
    window = np.hanning(win)
    nfft = 1 << int(np.ceil(np.log2(2 * win)))
    lo, hi = max(2, int(rate / ceil)), int(np.ceil(rate / floor))
    seg = (frames - frames.mean(axis=1, keepdims=True)) * window
    ac = np.fft.irfft(np.abs(np.fft.rfft(seg, nfft)) ** 2, nfft)[:, : hi + 2]
    ac_window = np.fft.irfft(np.abs(np.fft.rfft(window, nfft)) ** 2, nfft)[: hi + 2]
    r = ac / (ac_window / ac_window[0]) / np.maximum(ac[:, :1], 1e-20)
    left, mid, right = r[:, lo - 1 : hi], r[:, lo : hi + 1], r[:, lo + 1 : hi + 2]
    lags = np.arange(lo, hi + 1)
    strength = np.where(
        (mid > left) & (mid >= right),
        mid + _HEARD_OCTAVE_COST * np.log2(rate / lags / floor),
        -np.inf,
    )
    best = np.argmax(strength, axis=1)
    rows = np.arange(len(best))
    a, b, c = left[rows, best], mid[rows, best], right[rows, best]
    curve = a - 2 * b + c
    shift = np.where(np.abs(curve) > 1e-12, 0.5 * (a - c) / np.where(curve == 0, 1.0, curve), 0.0)
    f0 = rate / (lags[best] + np.clip(shift, -0.5, 0.5))
    voiced = loud & np.isfinite(strength[rows, best]) & (b > _HEARD_VOICING)
    if not voiced.any():
        return 0.0
    return float(2.0 ** np.median(np.log2(f0[voiced])))


def semitones(a_hz: float, b_hz: float) -> float:
    """Interval from ``b`` to ``a`` in semitones."""
    return 12.0 * math.log2(a_hz / b_hz)


def reshape(
    samples: np.ndarray,
    sample_rate: int,
    p: Prosody,
    target_frames: int | None = None,
    steady: bool = False,
    steady_neutral: bool = False,
) -> np.ndarray:
    """Apply rate (or an exact target length), pitch level and range to mono speech.

    ``steady``: a pitch level or range change re-voices the take with one clear period per
    frame (:func:`steady_analysis`) instead of shifting the creaky take itself, whose shifts
    trackers hear off the request (even an ideal resampling of joe by +4 st read +5.7 by
    pyin). A neutral delivery (rate alone included) keeps the engine's own audio: re-voicing
    it cost ~4× the engine's own time on Piper.

    ``steady_neutral`` (with ``steady``): every take, neutral too, is re-voiced first and
    pitched takes are levelled against that re-voiced take. Both sides of a shift are then
    heard on the same terms even on sentences where the trackers disagree about the
    engine's own take (Piper joe: "The quick brown fox…", Praat and pyin 0.9–1.4 st apart),
    at ~4× the engine's time on every take.
    """
    if target_frames is None:
        target_frames = int(round(len(samples) / p.rate))
    target_frames = max(1, target_frames)
    if steady and steady_neutral:
        samples, analysis = steady_phonation(samples, sample_rate)
        if p.pitch_range == 1.0 and p.pitch == 0.0:
            if target_frames == len(samples):
                return samples
            return _time_stretch(samples, sample_rate, target_frames)
        if analysis is not None:
            return _world_reshape(samples, sample_rate, p, target_frames, analysis)
    if p.pitch_range == 1.0 and p.pitch == 0.0:
        if target_frames == len(samples):
            return samples
        return _time_stretch(samples, sample_rate, target_frames)
    if steady:
        analysis = steady_analysis(samples, sample_rate)
        if analysis is not None:
            return _world_reshape(samples, sample_rate, p, target_frames, analysis)
    if p.pitch_range == 1.0 and p.pitch >= LOWEST_TAPE_SHIFT:
        return _shift_level(samples, sample_rate, target_frames, p.pitch)
    return _world_reshape(samples, sample_rate, p, target_frames)


@dataclass(frozen=True)
class WorldAnalysis:
    """WORLD's view of one take: a cleaned f0 contour, envelope, aperiodicity, median f0."""

    f0: np.ndarray
    sp: np.ndarray
    ap: np.ndarray
    median: float


def _analyse(x: np.ndarray, sample_rate: int) -> WorldAnalysis | None:
    """Harvest f0 (octave errors folded, creak voiced), CheapTrick envelope, D4C; None if unvoiced.

    The envelope is averaged over ``_ENVELOPE_SMOOTH_FRAMES`` in time (log domain). CheapTrick
    on a creaky frame, analysed at a period the voice does not keep, swings by several dB
    from frame to frame (3.3 dB on average for Piper joe); resynthesised at a low f0, where
    one period spans four frames, successive pulses then differ so much that pyin calls most
    of an octave-down take unvoiced (joe −8 st: 22 voiced frames of 150).
    """
    import pyworld
    from scipy.ndimage import uniform_filter1d

    f0 = f0_track(x, sample_rate)
    if (f0 > 0).sum() < 3:
        return None
    median = _voiced_median(x, sample_rate, f0)
    f0 = _fill_creak(x, sample_rate, f0, median)
    times = np.arange(len(f0)) * FRAME_PERIOD_MS / 1000.0
    sp = pyworld.cheaptrick(x, f0, times, sample_rate)
    ap = pyworld.d4c(x, f0, times, sample_rate)
    log_sp = np.log(np.maximum(sp, 1e-16))
    sp = np.exp(uniform_filter1d(log_sp, size=_ENVELOPE_SMOOTH_FRAMES, axis=0))
    return WorldAnalysis(f0, np.ascontiguousarray(sp), ap, median)


def steady_analysis(samples: np.ndarray, sample_rate: int) -> WorldAnalysis | None:
    """:func:`_analyse` with the voiced frames' aperiodicity lowered (``_STEADY_AP_POWER``)
    and their f0 contour smoothed (:func:`_steady_contour`)."""
    a = _analyse(np.ascontiguousarray(samples, dtype=np.float64), sample_rate)
    if a is None:
        return None
    ap = np.where((a.f0 > 0)[:, np.newaxis], a.ap**_STEADY_AP_POWER, a.ap)
    return WorldAnalysis(_steady_contour(a.f0), a.sp, np.ascontiguousarray(ap), a.median)


def _steady_contour(f0: np.ndarray) -> np.ndarray:
    """Each voiced run's f0 (log scale) median-filtered, then averaged, over a few frames.

    A creaky take's contour jumps from frame to frame (Piper joe: 80.7, 85.6, 82.7, 104.3,
    80.1 Hz in one vowel, Harvest's reads between creak-filled frames at the median). At
    his own pitch one period spans about two 5 ms frames and the jumps pass as jitter; an
    octave down a period spans five, successive periods then differ by up to 20 %, and in
    one vowel Praat heard the first formant's ringing (640-710 Hz) as the pitch instead of
    the irregular 40 Hz pulses (joe −12 st: Praat −11.91, pyin −12.60). Smoothed over
    ``_STEADY_MEDIAN_FRAMES`` then ``_STEADY_MEAN_FRAMES`` (55 and 35 ms, shorter than a
    syllable, so intonation stays), joe's ±4/±8/±12 st read within 0.3 st of the request by
    both trackers on four sentences.
    """
    from scipy.ndimage import median_filter, uniform_filter1d

    out = f0.copy()
    edges = np.flatnonzero(np.diff(np.r_[0, (f0 > 0).astype(np.int8), 0]))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        run = median_filter(np.log2(f0[start:stop]), size=_STEADY_MEDIAN_FRAMES, mode="nearest")
        out[start:stop] = 2.0 ** uniform_filter1d(run, size=_STEADY_MEAN_FRAMES, mode="nearest")
    return out


def steady_phonation(
    samples: np.ndarray, sample_rate: int
) -> tuple[np.ndarray, WorldAnalysis | None]:
    """The take resynthesised by WORLD on its cleaned f0 contour: one clear period per frame.

    A creaky voice (Piper joe: his first harmonic up to 30 dB under his second, irregular
    periods, vowels Harvest calls unvoiced) is heard differently by every tracker: at
    Piper's default noise scale Praat reads his take at 84 Hz and pyin at 91 Hz, 1.4 st
    apart (at the studio's 0.333 they agree), and each tracker's voicing decisions on the
    creaky frames change with the register (plain resampling, the ideal shift, read −5.1 st
    by pyin when asked −4; +5.7 when asked +4 at the studio's noise scale). Resynthesised
    on the contour Harvest found, octave errors folded, creaky vowels voiced at the voice's
    median with their aperiodicity lowered and the first harmonic kept audible, the voice
    has one periodicity that Praat and pyin both follow (within 0.2 st of each other on
    joe), and shifts of it are heard as asked. The pipeline itself re-voices only pitched
    takes, straight from :func:`steady_analysis` (see :func:`reshape`). Returns the new take
    and its analysis; the take unchanged and
    None when it has nothing voiced. Nothing is kept between takes: a process-wide cache of
    WORLD analyses would hold tens of MB per take for the life of the studio or the speech
    server, shared unlocked by engine threads, to save one analysis on a re-delivery.
    """
    import pyworld

    a = steady_analysis(samples, sample_rate)
    if a is None:
        return samples, None
    sp = _keep_fundamental(a.sp, a.f0, sample_rate, _STEADY_H1_DB)
    out = pyworld.synthesize(a.f0, sp, a.ap, sample_rate, FRAME_PERIOD_MS)
    peak = float(np.max(np.abs(out))) if len(out) else 0.0
    if peak > 0.999:
        out = out * (0.999 / peak)
    return _fit_length(out.astype(np.float32), len(samples)), a


def _time_stretch(samples: np.ndarray, sample_rate: int, target_frames: int) -> np.ndarray:
    """Rate only: Rubber Band (pedalboard) keeps pitch and formants and sounds cleanest."""
    return _shift_level(samples, sample_rate, target_frames, 0.0)


def _shift_level(samples: np.ndarray, sample_rate: int, target_frames: int, pitch: float) -> np.ndarray:
    """Length and pitch level by Rubber Band (pedalboard): every period scaled by one ratio.

    A level shift by WORLD re-draws each period from a tracked f0. On a creaky voice
    (Piper joe) the tracked f0 is not what Praat, pyin or a listener hear: measured by both,
    joe's WORLD shifts at ±4/+8/+12 landed up to 2.3 st off the request (README table),
    Rubber Band's within 0.45 st except −4 by pyin (−4.75, as for plain resampling of the
    same take: his creak moves pyin's reading of his own take); Kokoro and espeak-ng within
    0.25 st by both. Formants are not re-warped: Rubber Band's formant preservation, or an
    envelope correction after the shift, weakens the new fundamental of a shifted-down
    voice until trackers hear it an octave up (joe −12 st: Praat −2.7), so the formants move
    with the pitch, as in a change of tape speed — which is why shifts below
    ``LOWEST_TAPE_SHIFT`` go through WORLD instead.
    """
    from pedalboard import time_stretch

    out = time_stretch(
        np.ascontiguousarray(samples, dtype=np.float32)[np.newaxis, :],
        float(sample_rate),
        stretch_factor=len(samples) / target_frames,
        pitch_shift_in_semitones=float(pitch),
        high_quality=True,
        preserve_formants=pitch == 0.0,
    )[0]
    out = np.asarray(out, dtype=np.float32)
    peak = float(np.max(np.abs(out))) if len(out) else 0.0
    if peak > 0.999:  # the shifted waveform can peak a little above a full-scale input
        out = out * np.float32(0.999 / peak)
    return _fit_length(out, target_frames)


def _world_reshape(
    samples: np.ndarray,
    sample_rate: int,
    p: Prosody,
    target_frames: int,
    analysis: WorldAnalysis | None = None,
) -> np.ndarray:
    """Pitch level, range and length with WORLD: f0 is set exactly, the envelope is kept.

    The asked level is met as measured on the result (see the correction loop below).
    ``analysis``: the :func:`steady_analysis` of ``samples`` (the engine's take), which is
    re-synthesised from it (not analysed again) with one clear period per frame.
    """
    import pyworld

    x = np.ascontiguousarray(samples, dtype=np.float64)
    steady = analysis is not None
    if analysis is None:
        analysis = _analyse(x, sample_rate)
        if analysis is None:  # nothing to pitch: only the length changes
            return _time_stretch(samples, sample_rate, target_frames)
    f0, sp, ap, median = analysis.f0, analysis.sp, analysis.ap, analysis.median
    voiced = f0 > 0
    spread = p.pitch_range * (_DEEP_RANGE if median * 2.0 ** (p.pitch / 12.0) < _DEEP_HZ else 1.0)
    new_f0 = np.zeros_like(f0)
    new_f0[voiced] = median * 2.0 ** (p.pitch / 12.0 + spread * np.log2(f0[voiced] / median))
    n_out = max(2, int(round(target_frames / sample_rate * 1000.0 / FRAME_PERIOD_MS)) + 1)
    new_f0, sp, ap = _resample_frames(new_f0, sp, ap, n_out)
    new_f0 = np.clip(new_f0, 0.0, sample_rate / 4)
    sp = _keep_fundamental(sp, new_f0, sample_rate, _STEADY_H1_DB if steady else _H1_DROP_DB)
    # The shifted contour is exact, but the measure of the result is not the contour: WORLD
    # renders creaky or breathy frames cleanly periodic, and its noise excitation can be
    # heard as voiced. The result is therefore measured as the input was, and the rest of
    # the error corrected (secant steps), a few times at most, keeping the closest.
    # A steady take, and a voice moved under _HEARD_BELOW_HZ, are measured as a long-window
    # tracker hears them (heard_median), not by Harvest. The steady take's reference is the
    # engine's own take, which Harvest reads 1.1 st under Praat and pyin (Piper joe). A deep
    # voice's voicing edges, where its f0 sits under its median, hold too few periods of it
    # to be heard voiced, so the heard median rises (espeak-ng at −12 st, 50 Hz: Harvest
    # −11.86, Praat −11.45); higher up Harvest's measure is kept (Kokoro at −12 st, 127 Hz,
    # lands −12.15 (Praat) / −11.70 (pyin) by it and −11.94 / −11.50 by heard_median).
    measure, base = median_f0, median
    if steady or median * 2.0 ** (p.pitch / 12.0) < _HEARD_BELOW_HZ:
        reference = heard_median(x, sample_rate)
        if reference > 0:
            measure, base = heard_median, reference
    best, best_error = None, float("inf")
    tried: list[tuple[float, float]] = []  # (correction, measured error)
    correction = 0.0
    for _ in range(_PITCH_PASSES):
        out = pyworld.synthesize(new_f0 * 2.0 ** (correction / 12.0), sp, ap, sample_rate, FRAME_PERIOD_MS)
        heard = measure(out, sample_rate)
        if heard <= 0:
            best = out if best is None else best
            break
        error = p.pitch - semitones(heard, base)
        if abs(error) < best_error:
            best, best_error = out, abs(error)
        if abs(error) < _PITCH_TOLERANCE_ST:
            break
        tried.append((correction, error))
        correction = _next_correction(tried)
    return _finish(best, target_frames)


def _finish(out: np.ndarray, target_frames: int) -> np.ndarray:
    """WORLD's output as float32 of the asked length, under full scale (it can overshoot a little)."""
    peak = float(np.max(np.abs(out))) if len(out) else 0.0
    if peak > 0.999:
        out = out * (0.999 / peak)
    return _fit_length(out.astype(np.float32), target_frames)


def _keep_fundamental(
    sp: np.ndarray, f0: np.ndarray, sample_rate: int, drop_db: float = _H1_DROP_DB
) -> np.ndarray:
    """Raise the envelope below 1.5·f0 to no less than ``_H1_DROP_DB`` under the 2nd–4th harmonics.

    Some voices carry almost no energy at f0 (Piper joe's first harmonic lies ~30 dB under
    its second). The engine's own take is still heard at f0 because its odd harmonics and
    irregular periods break the octave's symmetry, but WORLD's clean pulses at that
    envelope are nearly periodic at half the period: pyin heard joe's unshifted
    resynthesis an octave up. A first harmonic near the natural level (a few dB under the
    strongest low harmonic in a male voice) makes the period unambiguous; where the voice
    already has one, nothing changes. The strongest of the 2nd to 4th counts, not the 2nd
    alone: shifted an octave down, joe's f0 (40 Hz) and its second harmonic both fall below
    the ~160 Hz where his envelope peaks, and with only the second as reference pyin heard
    joe −8 st an octave up.
    """
    freqs = np.linspace(0.0, sample_rate / 2, sp.shape[1])
    out = sp.copy()
    floor_ratio = 10.0 ** (-drop_db / 10.0)  # sp is a power spectrum
    for i in np.flatnonzero(f0 > 0):
        low = freqs < 1.5 * f0[i]
        strongest = max(float(np.interp(k * f0[i], freqs, sp[i])) for k in (2, 3, 4))
        out[i, low] = np.maximum(sp[i, low], strongest * floor_ratio)
    return out


def _fill_creak(
    x: np.ndarray, sample_rate: int, f0: np.ndarray, pitch_hz: float, max_gap_s: float = 0.15
) -> np.ndarray:
    """Voice the loud, vowel-like frames the tracker left unvoiced (creak), at ``pitch_hz``.

    A creaky vowel has no steady period, so Harvest calls it unvoiced and WORLD would
    resynthesise it as noise: the shifted voice whispers there, and that noise is then
    heard as some random pitch. Frames that are loud (within ``_LOUD_DB`` of the voiced
    peaks), mostly below 1 kHz (vowels, not fricatives) and within ``max_gap_s`` of voiced
    frames are voiced at the voice's median pitch: interpolating from the neighbours
    instead moved the result's median by up to 2.4 st on joe (whose voiced frames fall in
    two clusters), while frames at the median leave it where it was.
    """
    from scipy.signal import butter, sosfilt

    voiced = f0 > 0
    if voiced.sum() < 3 or pitch_hz <= 0:
        return f0
    level = _frame_db(x, sample_rate, len(f0))
    low = _frame_db(sosfilt(butter(4, 1000.0, fs=sample_rate, output="sos"), x), sample_rate, len(f0))
    candidate = ~voiced & (level >= np.percentile(level[voiced], 90) - _LOUD_DB) & (low >= level - 3.0)
    idx = np.flatnonzero(voiced)
    k = np.searchsorted(idx, np.flatnonzero(candidate))
    frames = np.flatnonzero(candidate)
    left = np.abs(frames - idx[np.maximum(k - 1, 0)])
    right = np.abs(idx[np.minimum(k, len(idx) - 1)] - frames)
    gap = max_gap_s * 1000.0 / FRAME_PERIOD_MS
    out = f0.copy()
    out[frames[np.minimum(left, right) <= gap]] = pitch_hz
    return out


def _next_correction(tried: list[tuple[float, float]], limit: float = 1.5) -> float:
    """Next correction in semitones: a secant step once two tries are known, else add the error.

    Bounded, so a measure that jumps (an octave-ambiguous voice) cannot drag the shift far.
    """
    (c1, e1) = tried[-1]
    step = e1
    if len(tried) >= 2:
        c0, e0 = tried[-2]
        slope = (e1 - e0) / (c1 - c0) if c1 != c0 else 0.0
        if slope < -0.25:  # the error falls as the correction grows, as it should
            step = -e1 / slope
    return float(np.clip(c1 + step, -limit, limit))


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
