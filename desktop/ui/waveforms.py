"""Waveform overviews: min/max peaks per bucket at several resolutions, built off the GUI thread.

Why levels: drawing reads at most one value pair per pixel, whatever the zoom, by picking the
coarsest level whose bucket is still finer than a pixel; a 2-hour take needs ~1.3 M pairs at
the finest level and a few thousand at the coarsest, so painting stays cheap at any zoom.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QThreadPool, Signal

from desktop.bridge import run_task

BASE_BUCKET = 64
LEVEL_FACTOR = 8
LEVELS = 5  # 64, 512, 4096, 32768, 262144 frames per bucket


@dataclass(frozen=True)
class Peaks:
    sample_rate: int
    frames: int
    levels: tuple[tuple[int, np.ndarray, np.ndarray], ...]  # (bucket, mins, maxs)

    def envelope(self, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Min and max of the source between frame ``starts[i]`` and ``ends[i]`` (per pixel)."""
        span = float(np.median(ends - starts)) if len(starts) else 1.0
        bucket, mins, maxs = self.levels[0]
        for level in self.levels:
            if level[0] <= max(span, 1.0):
                bucket, mins, maxs = level
        n = len(mins)
        i0 = np.clip(np.floor(starts / bucket), 0, n - 1).astype(np.int64)
        i1 = np.clip(np.maximum(i0 + 1, np.ceil(ends / bucket)), 1, n).astype(np.int64)
        # reduceat over (start, end) pairs; the odd results (end to next start) are dropped
        idx = np.empty(2 * len(i0), np.int64)
        idx[0::2], idx[1::2] = i0, i1
        lo = np.minimum.reduceat(np.append(mins, mins[-1]), idx)[0::2]
        hi = np.maximum.reduceat(np.append(maxs, maxs[-1]), idx)[0::2]
        return lo, hi


def _base_level(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Min and max per BASE_BUCKET frames over all channels of ``(channels, frames)``."""
    pad = (-samples.shape[1]) % BASE_BUCKET
    data = np.pad(samples, ((0, 0), (0, pad))) if pad else samples
    blocks = data.reshape(data.shape[0], -1, BASE_BUCKET)
    return blocks.min(axis=2).min(axis=0).astype(np.float32), blocks.max(axis=2).max(axis=0).astype(np.float32)


def peaks_from_file(path: str, block: int = BASE_BUCKET * 16_384) -> Peaks:
    """Peaks of a file read block by block, so a 2-hour take is never held in memory whole."""
    import soundfile as sf

    mins, maxs = [], []
    with sf.SoundFile(path) as f:
        rate, frames = f.samplerate, f.frames
        for chunk in f.blocks(blocksize=block, dtype="float32", always_2d=True):
            lo, hi = _base_level(chunk.T)
            mins.append(lo)
            maxs.append(hi)
    empty = np.zeros(1, np.float32)
    return _with_levels(np.concatenate(mins) if mins else empty, np.concatenate(maxs) if maxs else empty,
                        rate, frames)


def _with_levels(mins: np.ndarray, maxs: np.ndarray, sample_rate: int, frames: int) -> Peaks:
    levels = [(BASE_BUCKET, mins, maxs)]
    for _ in range(LEVELS - 1):
        bucket, mins, maxs = levels[-1]
        if len(mins) < 2 * LEVEL_FACTOR:
            break
        pad = (-len(mins)) % LEVEL_FACTOR
        mins = np.pad(mins, (0, pad), mode="edge").reshape(-1, LEVEL_FACTOR).min(axis=1)
        maxs = np.pad(maxs, (0, pad), mode="edge").reshape(-1, LEVEL_FACTOR).max(axis=1)
        levels.append((bucket * LEVEL_FACTOR, mins, maxs))
    return Peaks(sample_rate, frames, tuple(levels))


class PeakCache(QObject):
    """Peaks per audio file (sha256), computed once in the thread pool; ``ready`` on arrival."""

    ready = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._peaks: dict[str, Peaks | None] = {}
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)

    def get(self, key: str, load: Callable[[], Peaks]) -> Peaks | None:
        """The peaks for ``key``, or None while ``load`` (run in the pool) computes them."""
        if key not in self._peaks:
            self._peaks[key] = None
            # an unreadable file just draws without a waveform
            run_task(load, lambda peaks, key=key: self._store(key, peaks),
                     lambda _exc, _details, key=key: self._store(key, None),
                     pool=self.pool, owner=self)
        return self._peaks[key]

    def _store(self, key: str, peaks: object) -> None:
        self._peaks[key] = peaks  # type: ignore[assignment]
        self.ready.emit(key)

    @property
    def busy(self) -> bool:
        return any(v is None for v in self._peaks.values())

    def wait(self, msecs: int = 30_000) -> bool:
        return self.pool.waitForDone(msecs)
