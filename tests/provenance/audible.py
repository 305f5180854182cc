"""Objective stand-ins for a listening test of the watermark (no sound card here).

None of these replaces ears; they say how far the added difference sits from what the
ear is known to notice:

- :func:`snr_db` — power of the original over power of the difference. Blunt: a level
  change of 1 dB alone gives 19 dB SNR and is nearly inaudible on its own.
- :func:`nmr` — a simplified PEAQ-style noise-to-mask ratio. Per 2048-sample frame the
  original's power is grouped into 1-Bark bands, spread with Schroeder's spreading
  function and lowered by Johnston's offset (14.5 + z dB for tonal frames, 5.5 dB for
  noise-like ones, blended by spectral flatness) to give a masking threshold, never below
  the threshold in quiet (Terhardt's curve, full scale taken as 92 dB SPL as in PEAQ); the
  difference's band power is compared with it. Reported as PEAQ does: the total NMR in dB
  (mean over frames and bands of difference/threshold) and the fraction of frames whose
  worst band is more than 1.5 dB above its threshold ("disturbed frames"). Below 0 dB
  total and few disturbed frames means the difference should be masked.
- :func:`ripple_db` — the RMS of the long-term log-spectrum change in 50 Hz–2 kHz: perth's
  mark acts like a fixed, finely rippled equaliser there, and this is its depth.
"""

from __future__ import annotations

import numpy as np

from engines.audio import AudioClip

FRAME = 2048
FULL_SCALE_SPL = 92.0  # PEAQ's listening-level assumption for a full-scale sine


def snr_db(original: AudioClip, marked: AudioClip) -> float:
    """How far below the signal the watermark sits (10·log10 signal / difference power)."""
    diff = marked.samples - original.samples
    return float(10 * np.log10(np.sum(original.samples**2) / max(np.sum(diff**2), 1e-20)))


def _bark(freq: np.ndarray) -> np.ndarray:
    return 13 * np.arctan(0.00076 * freq) + 3.5 * np.arctan((freq / 7500) ** 2)


def _power_frames(x: np.ndarray) -> np.ndarray:
    """Power spectra of Hann-windowed frames (hop FRAME/2), shape (frames, bins)."""
    if x.size < FRAME:
        x = np.pad(x, (0, FRAME - x.size))
    hop = FRAME // 2
    starts = range(0, x.size - FRAME + 1, hop)
    window = np.hanning(FRAME)
    frames = np.stack([x[s : s + FRAME] * window for s in starts])
    return np.abs(np.fft.rfft(frames, axis=1)) ** 2


def _quiet_threshold(freqs: np.ndarray, band: np.ndarray, nb: int) -> np.ndarray:
    """Per band, the power of the quietest audible tone there (Terhardt), in frame units."""
    k = np.maximum(freqs, 20.0) / 1000
    ath_spl = 3.64 * k**-0.8 - 6.5 * np.exp(-0.6 * (k - 3.3) ** 2) + 1e-3 * k**4
    sine_peak = (np.sum(np.hanning(FRAME)) / 2) ** 2 * 1.5  # a full-scale sine's band power
    power = sine_peak * 10 ** ((np.minimum(ath_spl, 120.0) - FULL_SCALE_SPL) / 10)
    return np.array([power[band == b].min() for b in range(nb)])[None, :]


def nmr(original: AudioClip, marked: AudioClip) -> tuple[float, float]:
    """(total noise-to-mask ratio in dB, fraction of disturbed frames) on the mono mix."""
    rate = original.sample_rate
    x = original.mono().samples[0].astype(np.float64)
    d = marked.mono().samples[0].astype(np.float64) - x
    px, pd = _power_frames(x), _power_frames(d)
    freqs = np.fft.rfftfreq(FRAME, 1 / rate)
    band = np.floor(_bark(freqs)).astype(int)
    nb = int(band.max()) + 1
    onehot = np.zeros((freqs.size, nb))
    onehot[np.arange(freqs.size), band] = 1.0
    ex, ed = px @ onehot, pd @ onehot  # band powers, (frames, bands)
    dz = np.arange(nb)[:, None] - np.arange(nb)[None, :]  # maskee − masker, in Bark
    spread_db = 15.81 + 7.5 * (dz + 0.474) - 17.5 * np.sqrt(1 + (dz + 0.474) ** 2)
    spread = ex @ (10 ** (spread_db / 10)).T  # masker band j spreads into maskee band i
    # Tonality from spectral flatness (Johnston): 0 dB flat → noise, −60 dB → pure tone.
    geo = np.exp(np.mean(np.log(px[:, 1:] + 1e-20), axis=1))
    sfm_db = 10 * np.log10(geo / (np.mean(px[:, 1:], axis=1) + 1e-20) + 1e-20)
    alpha = np.clip(sfm_db / -60.0, 0.0, 1.0)[:, None]
    offset_db = alpha * (14.5 + np.arange(nb)[None, :]) + (1 - alpha) * 5.5
    threshold = np.maximum(spread * 10 ** (-offset_db / 10), _quiet_threshold(freqs, band, nb))
    loud = ex.sum(axis=1) > 1e-6 * ex.sum(axis=1).max()  # skip silent frames
    if not loud.any():
        return float("-inf"), 0.0
    ratio = ed[loud] / np.maximum(threshold[loud], 1e-30)
    total = float(10 * np.log10(np.mean(ratio) + 1e-30))
    disturbed = float(np.mean(10 * np.log10(ratio.max(axis=1) + 1e-30) > 1.5))
    return total, disturbed


def ripple_db(original: AudioClip, marked: AudioClip, lo: float = 50.0, hi: float = 2000.0) -> float:
    """RMS (dB) of the long-term spectrum change between ``lo`` and ``hi`` Hz."""
    rate = original.sample_rate
    px = _power_frames(original.mono().samples[0].astype(np.float64)).mean(axis=0)
    pm = _power_frames(marked.mono().samples[0].astype(np.float64)).mean(axis=0)
    freqs = np.fft.rfftfreq(FRAME, 1 / rate)
    sel = (freqs >= lo) & (freqs <= hi) & (px > 1e-12 * px.max())
    change = 10 * np.log10((pm[sel] + 1e-30) / (px[sel] + 1e-30))
    return float(np.sqrt(np.mean((change - np.mean(change)) ** 2)))
