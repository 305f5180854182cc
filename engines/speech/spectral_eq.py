"""A fixed, smooth equaliser that moves a clone's long-term spectrum toward its reference.

What a style search and a pitch/formant shift cannot reach is the voice's overall colour:
spectral tilt (breathy or pressed phonation), a recording's microphone and room, the
bright top of a formant synthesiser. A speaker encoder hears that colour, and a static
correction is cheap: the long-term average spectrum (LTAS) of the reference minus that of
the clone, in third-octave bands, smoothed across neighbouring bands and clamped, applied
as one linear-phase filter. It is fitted after the search, kept only when it raises the
similarity on the fitting sentences by a margin (and keeps the clone intelligible), and
stored in the clone's meta as band centres and gains (``{"hz": [...], "db": [...]}``).

Both spectra are normalised to their own mean band level, so the equaliser changes colour,
not loudness (the pipeline levels every chunk afterwards anyway). Bands stop below the
lower of the two Nyquist frequencies and below 8 kHz (what the speaker encoder sees at
16 kHz); outside the bands the nearest band's gain holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LOWEST_HZ = 100.0
HIGHEST_HZ = 8000.0
MAX_DB = 10.0  # the most a band is raised or lowered
LIMIT_DB = 12.0  # what a stored equaliser may hold (import validation)
MAX_BANDS = 64
ACTIVE_DB = 50.0  # frames this far below the loudest are pauses, left out of the LTAS
FRAME_S = 0.064
TAPS_S = 0.04  # the filter's length: ~25 Hz resolution, well under a third-octave at 100 Hz


def band_centres(top_hz: float = HIGHEST_HZ) -> np.ndarray:
    """Third-octave centres from :data:`LOWEST_HZ` up to ``top_hz`` (edges inside it)."""
    count = int(np.floor(3 * np.log2(top_hz / LOWEST_HZ) - 0.5)) + 1
    return LOWEST_HZ * 2.0 ** (np.arange(max(count, 1)) / 3.0)


@dataclass(frozen=True)
class SpectralEq:
    """Gains in dB at band centres in Hz, interpolated on a log-frequency axis."""

    hz: tuple[float, ...]
    db: tuple[float, ...]

    def as_dict(self) -> dict[str, list[float]]:
        return {
            "hz": [round(float(h), 1) for h in self.hz],
            "db": [round(float(d), 2) for d in self.db],
        }

    @classmethod
    def from_dict(cls, data: dict) -> SpectralEq:
        return cls(tuple(float(h) for h in data["hz"]), tuple(float(d) for d in data["db"]))

    def scaled(self, strength: float) -> SpectralEq:
        return SpectralEq(self.hz, tuple(strength * d for d in self.db))

    def gain_at(self, freqs: np.ndarray) -> np.ndarray:
        """Linear amplitude gain at ``freqs`` (Hz); flat beyond the first and last band."""
        log_f = np.log2(np.maximum(freqs, 1.0))
        db = np.interp(log_f, np.log2(np.asarray(self.hz)), np.asarray(self.db))
        return 10.0 ** (db / 20.0)

    def apply(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:
        """``samples`` through a linear-phase FIR with these gains (same length, no delay)."""
        from scipy.signal import fftconvolve

        x = np.asarray(samples, np.float32)
        if len(x) == 0 or not any(self.db):
            return x
        half = int(TAPS_S * sample_rate) // 2
        n_fft = 1 << int(np.ceil(np.log2(8 * half + 2)))
        gain = self.gain_at(np.fft.rfftfreq(n_fft, 1.0 / sample_rate))
        impulse = np.roll(np.fft.irfft(gain, n_fft), half)[: 2 * half + 1]
        impulse *= np.hanning(2 * half + 3)[1:-1]  # odd, symmetric: linear phase, centred
        y = fftconvolve(x, impulse.astype(np.float32), mode="same")
        peak = float(np.max(np.abs(y)))
        return (y * (0.98 / peak) if peak > 0.98 else y).astype(np.float32)


def long_term_spectrum(samples: np.ndarray, sample_rate: int, centres: np.ndarray) -> np.ndarray:
    """Mean power in each third-octave band over the active frames, in dB relative to the
    mean over bands (so two recordings compare by colour, not level)."""
    x = np.asarray(samples, np.float64)
    size = 1 << int(np.round(np.log2(FRAME_S * sample_rate)))
    if len(x) < size:
        x = np.pad(x, (0, size - len(x)))
    hop = size // 2
    frames = np.lib.stride_tricks.sliding_window_view(x, size)[::hop] * np.hanning(size)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    energy = power.sum(axis=1)
    loud = energy >= energy.max() * 10.0 ** (-ACTIVE_DB / 10.0)
    mean = power[loud].mean(axis=0) if np.any(loud) else power.mean(axis=0)
    freqs = np.fft.rfftfreq(size, 1.0 / sample_rate)
    levels = []
    for centre in centres:
        inside = (freqs >= centre * 2 ** (-1 / 6)) & (freqs < centre * 2 ** (1 / 6))
        band = mean[inside] if np.any(inside) else np.interp([centre], freqs, mean)
        levels.append(10.0 * np.log10(float(np.mean(band)) + 1e-12))
    levels_db = np.asarray(levels)
    return levels_db - levels_db.mean()


def top_hz(*rates: int) -> float:
    """The highest band centre both recordings can hold (bands end below Nyquist)."""
    return min([HIGHEST_HZ] + [0.45 * r for r in rates])


def fit_eq(
    reference: np.ndarray,
    reference_rate: int,
    clone: np.ndarray,
    clone_rate: int,
    max_db: float = MAX_DB,
) -> SpectralEq:
    """The smoothed, clamped correction that turns ``clone``'s LTAS into ``reference``'s."""
    centres = band_centres(top_hz(reference_rate, clone_rate))
    diff = long_term_spectrum(reference, reference_rate, centres) - long_term_spectrum(
        clone, clone_rate, centres
    )
    if len(diff) >= 3:  # a band's neighbours temper it: colour, not single harmonics
        padded = np.concatenate([diff[:1], diff, diff[-1:]])
        diff = 0.25 * padded[:-2] + 0.5 * padded[1:-1] + 0.25 * padded[2:]
    diff = np.clip(diff - diff.mean(), -max_db, max_db)
    return SpectralEq(tuple(float(c) for c in centres), tuple(float(d) for d in diff))
