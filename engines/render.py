"""Finishing long audio in passes over a stream: measure, level, limit, write.

Loudness normalisation needs the integrated loudness of the whole programme before the
first sample can be written, so a long export cannot be one pass. Each step here is a pass
over an :class:`~engines.stream.AudioStream` that re-renders its blocks (from the stored
takes, or from a spooled file), keeping only meter state in memory: the same decisions as
:func:`engines.loudness.normalize_loudness` and ``peak_normalize``, made on measurements
taken block by block (:class:`~engines.loudness.LoudnessMeter` and
:class:`~engines.loudness.TruePeakMeter` equal the whole-array measures).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engines.cancel import CancelToken, ProgressCallback, no_progress
from engines.errors import BadInput
from engines.loudness import SILENCE_LUFS, LoudnessMeter, TruePeakMeter
from engines.stream import AudioStream, walk

LIMIT_PASSES = 4  # as normalize_loudness: limit and re-level at most this often


@dataclass(frozen=True)
class Levels:
    """What a pass measured: integrated loudness, true peak (dBTP), sample peak (linear)."""

    lufs: float
    true_peak_db: float
    peak: float

    def shifted(self, gain_db: float) -> Levels:
        """The levels after a plain gain (exact for loudness and peaks alike)."""
        return Levels(self.lufs + gain_db, self.true_peak_db + gain_db, self.peak * 10 ** (gain_db / 20))


def measure(
    stream: AudioStream,
    stage: str = "measuring",
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> Levels:
    """One pass: integrated loudness, true peak and sample peak of the stream."""
    loudness = LoudnessMeter(stream.sample_rate, stream.channels)
    peak = TruePeakMeter(stream.channels)
    for block in walk(stream, stage, progress, cancel):
        loudness.feed(block)
        peak.feed(block)
    return Levels(loudness.lufs(), peak.db(), peak.sample_peak)


def normalized(
    stream: AudioStream,
    target_lufs: float,
    max_true_peak_db: float = -1.0,
    levels: Levels | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> tuple[AudioStream, Levels]:
    """The stream at ``target_lufs`` with its true peak at or below the ceiling, and the
    levels it will have; :func:`engines.loudness.normalize_loudness`'s steps, where every
    limiting step costs one more measuring pass (rare: only when gain alone would clip)."""
    if not -70.0 < target_lufs < 0.0:
        raise BadInput(f"A loudness target of {target_lufs} LUFS makes no sense; use −70 to 0.")
    levels = levels or measure(stream, "measuring loudness", progress, cancel)
    if levels.lufs <= SILENCE_LUFS:
        return stream, levels  # silence stays silence; nothing to normalise
    gain = target_lufs - levels.lufs
    out, now = stream.scaled(10 ** (gain / 20)), levels.shifted(gain)
    for _ in range(LIMIT_PASSES):
        if now.true_peak_db <= max_true_peak_db:
            break
        # Limit a little below the ceiling: the limiter works on samples, not true peaks.
        out = out.limited(max_true_peak_db - 0.6)
        limited = measure(out, "limiting peaks", progress, cancel)
        gain = target_lufs - limited.lufs
        out, now = out.scaled(10 ** (gain / 20)), limited.shifted(gain)
    if now.true_peak_db > max_true_peak_db:
        gain = max_true_peak_db - now.true_peak_db - 0.05
        out, now = out.scaled(10 ** (gain / 20)), now.shifted(gain)
    return out, now


def peak_guarded(stream: AudioStream, levels: Levels, peak_db: float = -1.0) -> tuple[AudioStream, Levels]:
    """As ``peak_normalize`` when the mix clips (sample peak above 1.0), else unchanged."""
    if levels.peak <= 1.0:
        return stream, levels
    gain = 10 ** (peak_db / 20) / levels.peak
    return stream.scaled(gain), levels.shifted(20 * math.log10(gain))
