"""Loudness (ITU-R BS.1770 via pyloudnorm), true peak, and normalisation.

Loudness targets are met with gain; when that gain would push the true peak over the
ceiling, pedalboard's limiter holds the peaks and the gain is re-solved, so the result
lands on the target and under the ceiling.
"""

from __future__ import annotations

import numpy as np

from engines.audio import AudioClip
from engines.errors import BadInput

SILENCE_LUFS = -70.0


LONG_FRAMES = 1_440_000  # 30 s at 48 kHz: longer clips are measured in blocks (see below)


def _slices(clip: AudioClip) -> list[np.ndarray]:
    step = LONG_FRAMES // 3
    return [clip.samples[:, a : a + step] for a in range(0, clip.frames, step)]


def integrated_lufs(clip: AudioClip) -> float:
    """BS.1770-4 integrated loudness (pyloudnorm's). Long clips go through
    :class:`LoudnessMeter` a block at a time (the same value): pyloudnorm makes float64
    copies of the whole signal, ~0.9 GB for ten minutes of stereo."""
    import pyloudnorm

    if clip.frames > LONG_FRAMES:
        meter = LoudnessMeter(clip.sample_rate, clip.channels)
        for part in _slices(clip):
            meter.feed(part)
        return meter.lufs()
    if clip.duration < 0.4:  # BS.1770 gating blocks are 400 ms
        padded = np.zeros((clip.channels, int(0.4 * clip.sample_rate) + 1), np.float32)
        padded[:, : clip.frames] = clip.samples
        clip = AudioClip(padded, clip.sample_rate)
    meter = pyloudnorm.Meter(clip.sample_rate)
    value = float(meter.integrated_loudness(clip.samples.T.astype(np.float64)))
    return value if np.isfinite(value) else float("-inf")


_K_WEIGHTING: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def mono_lufs(samples: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness (BS.1770-4) of mono audio, as :func:`integrated_lufs` measures it.

    The same K-weighting (pyloudnorm's two filter stages, run as one in float32, within
    1e-4 dB) and the same gated 400 ms blocks at the same sample bounds, with the block
    energies summed from 100 ms pieces instead of block by block: ~8× faster. Levelling
    was most of what the speech pipeline itself cost per sentence.
    """
    import pyloudnorm
    from scipy.signal import lfilter

    if sample_rate not in _K_WEIGHTING:  # both stages as one filter: one pass
        b, a = np.array([1.0]), np.array([1.0])
        for stage in pyloudnorm.Meter(sample_rate)._filters.values():
            b, a = np.convolve(b, stage.b), np.convolve(a, stage.a)
        _K_WEIGHTING[sample_rate] = (b.astype(np.float32), a.astype(np.float32))
    x = np.asarray(samples, np.float32)
    block = 0.4 * sample_rate
    if len(x) < block:  # as integrated_lufs does: pad to one block
        x = np.pad(x, (0, int(block) + 1 - len(x)))
    x = lfilter(*_K_WEIGHTING[sample_rate], x)
    n = len(x)
    j = np.arange(int(np.round((n / sample_rate - 0.4) / 0.1)) + 1)
    lo = np.minimum((0.4 * (j * 0.25) * sample_rate).astype(int), n)  # pyloudnorm's bounds
    hi = np.minimum((0.4 * (j * 0.25 + 1) * sample_rate).astype(int), n)
    bounds = np.unique(np.concatenate([lo, hi]))
    bounds = bounds[bounds < n]
    pieces = np.add.reduceat(np.square(x), bounds, dtype=np.float64)
    cumulative = np.concatenate([[0.0], np.cumsum(pieces)])
    z = (cumulative[np.searchsorted(bounds, hi)] - cumulative[np.searchsorted(bounds, lo)]) / block
    return gated_lufs(z)


def gated_lufs(z: np.ndarray) -> float:
    """BS.1770's two gates over the (channel-weighted) mean squares of 400 ms blocks: the
    absolute −70 LUFS gate, then −10 LU below the ungated loudness. One copy for the
    whole-clip measure and the block meter, so the two cannot drift apart."""
    with np.errstate(divide="ignore"):
        level = -0.691 + 10.0 * np.log10(z)
    gated = level >= SILENCE_LUFS
    if not gated.any():
        return float("-inf")
    relative = -0.691 + 10.0 * np.log10(np.mean(z[gated])) - 10.0
    gated &= level > relative
    if not gated.any():
        return float("-inf")
    return float(-0.691 + 10.0 * np.log10(np.mean(z[gated])))


def true_peak_db(clip: AudioClip, oversample: int = 4) -> float:
    """True peak in dBTP, by 4× oversampling (BS.1770-4 annex 2)."""
    from scipy.signal import resample_poly

    if clip.frames == 0:
        return float("-inf")
    if clip.frames > LONG_FRAMES and oversample == 4:  # the same value, without a 4× copy
        meter = TruePeakMeter(clip.channels)
        for part in _slices(clip):
            meter.feed(part)
        return meter.db()
    up = resample_poly(clip.samples, oversample, 1, axis=1)
    peak = float(np.max(np.abs(up)))
    return 20 * np.log10(peak) if peak > 0 else float("-inf")


def peak_normalize(clip: AudioClip, peak_db: float = -1.0) -> AudioClip:
    peak = clip.peak
    if peak <= 0:
        return clip
    return clip.scaled(10 ** (peak_db / 20) / peak)


def _limit(clip: AudioClip, ceiling_db: float) -> AudioClip:
    from pedalboard import Limiter, Pedalboard

    board = Pedalboard([Limiter(threshold_db=ceiling_db, release_ms=60.0)])
    out = board(clip.samples, clip.sample_rate)
    return AudioClip(np.asarray(out, np.float32), clip.sample_rate)


def normalize_loudness(
    clip: AudioClip, target_lufs: float, max_true_peak_db: float = -1.0
) -> AudioClip:
    """Bring ``clip`` to ``target_lufs`` with the true peak at or below the ceiling."""
    if not -70.0 < target_lufs < 0.0:
        raise BadInput(f"A loudness target of {target_lufs} LUFS makes no sense; use −70 to 0.")
    measured = integrated_lufs(clip)
    if measured <= SILENCE_LUFS:
        return clip  # silence stays silence; nothing to normalise
    out = clip.scaled(10 ** ((target_lufs - measured) / 20))
    for _ in range(4):
        if true_peak_db(out) <= max_true_peak_db:
            break
        # Limit a little below the ceiling: the limiter works on samples, not true peaks.
        out = _limit(out, max_true_peak_db - 0.6)
        out = out.scaled(10 ** ((target_lufs - integrated_lufs(out)) / 20))
    if true_peak_db(out) > max_true_peak_db:
        out = out.scaled(10 ** ((max_true_peak_db - true_peak_db(out) - 0.05) / 20))
    return out


# ---- long audio: measured block by block ------------------------------------------
_GATE_BLOCK_S = 0.4  # BS.1770 gating block
_GATE_STEP = 0.25  # blocks overlap by 75 %: a new block every 100 ms
_CHANNEL_GAINS = (1.0, 1.0, 1.0, 1.41, 1.41)  # pyloudnorm's G (L, R, C, Ls, Rs)
_TP_CONTEXT = 64  # input samples either side; resample_poly's 4× filter reaches 10


class LoudnessMeter:
    """Integrated loudness (BS.1770-4) of audio fed in blocks, as pyloudnorm measures it.

    Gating needs only the mean square of each 400 ms block, and those blocks step by
    100 ms, so the meter keeps the K-weighting filters' state across blocks (pyloudnorm's
    two stages, in float64 as it runs them) and sums the squared output into 100 ms pieces
    at pyloudnorm's own sample bounds: ~150 kB per hour of audio instead of the audio.
    """

    def __init__(self, sample_rate: int, channels: int) -> None:
        import pyloudnorm
        from scipy.signal import lfilter_zi

        self.rate, self.channels = sample_rate, channels
        self._stages = [(f.b, f.a) for f in pyloudnorm.Meter(sample_rate)._filters.values()]
        self._state = [
            np.zeros((channels, len(lfilter_zi(b, a))), np.float64) for b, a in self._stages
        ]
        self._pos = 0  # input frames seen
        self._pieces: list[np.ndarray] = []  # (channels,) energy per 100 ms piece
        self._open = np.zeros(channels, np.float64)  # energy of the piece being filled
        self._bound = self._edge(1)  # where the piece being filled ends

    def _edge(self, j: int) -> int:
        return int(_GATE_BLOCK_S * (j * _GATE_STEP) * self.rate)

    def feed(self, block: np.ndarray) -> None:
        from scipy.signal import lfilter

        x = np.asarray(block, np.float64)
        for i, (b, a) in enumerate(self._stages):
            x, self._state[i] = lfilter(b, a, x, axis=1, zi=self._state[i])
        sq = np.square(x)
        start, end = self._pos, self._pos + sq.shape[1]
        while start < end:
            stop = min(end, self._bound)
            self._open += sq[:, start - self._pos : stop - self._pos].sum(axis=1)
            start = stop
            if stop == self._bound:
                self._pieces.append(self._open)
                self._open = np.zeros(self.channels, np.float64)
                self._bound = self._edge(len(self._pieces) + 1)
        self._pos = end

    def lufs(self) -> float:
        """The integrated loudness of everything fed (−inf for silence)."""
        if self._pos < _GATE_BLOCK_S * self.rate:  # as integrated_lufs does: pad to one block
            self.feed(np.zeros((self.channels, int(0.4 * self.rate) + 1 - self._pos)))
        n_blocks = int(np.round((self._pos / self.rate - _GATE_BLOCK_S) / (_GATE_BLOCK_S * _GATE_STEP))) + 1
        pieces = np.array(self._pieces + [self._open], np.float64).T  # (channels, pieces)
        per = int(round(1 / _GATE_STEP))
        cumulative = np.concatenate([np.zeros((self.channels, 1)), np.cumsum(pieces, axis=1)], axis=1)
        j = np.arange(n_blocks)
        hi = np.minimum(j + per, cumulative.shape[1] - 1)
        z = (cumulative[:, hi] - cumulative[:, np.minimum(j, hi)]) / (_GATE_BLOCK_S * self.rate)
        return gated_lufs((self._gains() * z).sum(axis=0))

    def _gains(self) -> np.ndarray:
        return np.array([_CHANNEL_GAINS[i] if i < len(_CHANNEL_GAINS) else 1.0
                         for i in range(self.channels)])[:, np.newaxis]

    def window_series(self, seconds: float) -> np.ndarray:
        """Ungated loudness of the last ``seconds`` (a whole number of 100 ms pieces) at
        the end of each complete piece: EBU Tech 3341's momentary (0.4 s) and short-term
        (3 s) meters, from the same K-weighted energies the integrated value gates. Before
        a full window has played, the missing part counts as silence."""
        per = max(1, int(round(seconds / (_GATE_BLOCK_S * _GATE_STEP))))
        if not self._pieces:
            return np.empty(0)
        energy = (self._gains() * np.array(self._pieces, np.float64).T).sum(axis=0)
        cumulative = np.concatenate([[0.0], np.cumsum(energy)])
        ends = np.arange(1, len(energy) + 1)
        z = (cumulative[ends] - cumulative[np.maximum(ends - per, 0)]) / (per * _GATE_BLOCK_S * _GATE_STEP * self.rate)
        with np.errstate(divide="ignore"):
            return -0.691 + 10.0 * np.log10(z)

    def window_lufs(self, seconds: float) -> float:
        """The last value of :meth:`window_series`, without computing the others."""
        per = max(1, int(round(seconds / (_GATE_BLOCK_S * _GATE_STEP))))
        if not self._pieces:
            return float("-inf")
        energy = (self._gains() * np.array(self._pieces[-per:], np.float64).T).sum()
        z = energy / (per * _GATE_BLOCK_S * _GATE_STEP * self.rate)
        return float(-0.691 + 10.0 * np.log10(z)) if z > 0 else float("-inf")

    @property
    def seconds(self) -> float:
        """How much audio has been fed."""
        return self._pos / self.rate


class TruePeakMeter:
    """True peak (4× oversampling, as :func:`true_peak_db`) of audio fed in blocks.

    Each sample is judged with ``_TP_CONTEXT`` samples of context on both sides (zeros
    before the start and after the end, as resample_poly pads), so block edges change
    nothing: the result equals measuring the whole at once.
    """

    def __init__(self, channels: int, oversample: int = 4) -> None:
        self.oversample = oversample
        self._tail = np.zeros((channels, 2 * _TP_CONTEXT), np.float32)
        self._seen = 0
        self.peak = 0.0  # linear true peak so far
        self.sample_peak = 0.0  # largest |sample| so far

    def _measure(self, buf: np.ndarray, count: int) -> None:
        from scipy.signal import resample_poly

        if count <= 0:
            return
        up = resample_poly(buf, self.oversample, 1, axis=1)
        k, c = self.oversample, _TP_CONTEXT
        self.peak = max(self.peak, float(np.max(np.abs(up[:, k * c : k * (c + count)]))))

    def feed(self, block: np.ndarray) -> None:
        x = np.asarray(block, np.float32)
        if x.shape[1] == 0:
            return
        self.sample_peak = max(self.sample_peak, float(np.max(np.abs(x))))
        buf = np.concatenate([self._tail, x], axis=1)
        self._measure(buf, x.shape[1])
        self._tail = buf[:, -2 * _TP_CONTEXT :]
        self._seen += x.shape[1]

    def db(self) -> float:
        """dBTP of everything fed (−inf for silence or nothing)."""
        if self._seen:
            pad = np.zeros((self._tail.shape[0], 2 * _TP_CONTEXT), np.float32)
            self._measure(np.concatenate([self._tail, pad], axis=1), min(self._seen, _TP_CONTEXT))
            self._seen = 0
        return 20 * np.log10(self.peak) if self.peak > 0 else float("-inf")


class LiveLoudness:
    """A loudness meter as EBU Tech 3341 describes one: momentary (400 ms), short-term
    (3 s) and integrated loudness, and true peak, of audio fed as it plays or is read.

    No measure of its own: :class:`LoudnessMeter`'s K-weighted 100 ms energies give all
    three loudness values (integrated through the one gating, :func:`gated_lufs`) and
    :class:`TruePeakMeter` the peak, so the meter agrees with export and mastering.
    Feeding costs a filter pass per block; reading costs a sum over at most 30 pieces
    (the integrated value: one over all pieces, ~36 000 an hour).
    """

    MOMENTARY_S = 0.4
    SHORT_TERM_S = 3.0

    def __init__(self, sample_rate: int, channels: int) -> None:
        self.rate, self.channels = sample_rate, channels
        self.loudness = LoudnessMeter(sample_rate, channels)
        self.peaks = TruePeakMeter(channels)

    def feed(self, block: np.ndarray) -> None:
        """``block`` is ``(channels, frames)``."""
        block = np.asarray(block)
        if block.ndim == 1:
            block = block[np.newaxis, :]
        if block.shape[1] == 0:
            return
        self.loudness.feed(block)
        self.peaks.feed(block)

    @property
    def seconds(self) -> float:
        return self.loudness.seconds

    def momentary(self) -> float:
        return self.loudness.window_lufs(self.MOMENTARY_S)

    def short_term(self) -> float:
        return self.loudness.window_lufs(self.SHORT_TERM_S)

    def integrated(self) -> float:
        """−inf until one 400 ms gating block has been fed (asking must not pad the meter)."""
        if self.seconds < _GATE_BLOCK_S:
            return float("-inf")
        return self.loudness.lufs()

    def true_peak_so_far(self) -> float:
        """dBTP of what has been judged so far (the last few samples wait for context)."""
        peak = self.peaks.peak
        return 20 * np.log10(peak) if peak > 0 else float("-inf")

    def summary(self) -> dict[str, float]:
        """The whole of what was fed (a selection, a file): integrated, the loudest
        momentary and short-term moments, and true peak. Ends the true-peak measure."""
        def loudest(seconds: float) -> float:
            series = self.loudness.window_series(seconds)
            series = series[np.isfinite(series)]
            return float(series.max()) if series.size else float("-inf")

        return {"integrated": self.integrated(), "momentary_max": loudest(self.MOMENTARY_S),
                "short_term_max": loudest(self.SHORT_TERM_S), "true_peak": float(self.peaks.db())}
