"""The one audio type that crosses the engine boundary.

``AudioClip`` is plain data: a float32 numpy array shaped ``(channels, frames)`` and a
sample rate. Engines never hand out tensors, so the GUI and the store stay free of torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engines.errors import BadInput


@dataclass(frozen=True, eq=False)
class AudioClip:
    samples: np.ndarray
    sample_rate: int

    def __post_init__(self) -> None:
        samples = np.asarray(self.samples, dtype=np.float32)
        if samples.ndim == 1:
            samples = samples[np.newaxis, :]
        if samples.ndim != 2:
            raise BadInput(f"Audio must be 1-D or (channels, frames); got shape {samples.shape}.")
        if self.sample_rate <= 0:
            raise BadInput(f"Sample rate must be positive; got {self.sample_rate}.")
        object.__setattr__(self, "samples", np.ascontiguousarray(samples))
        object.__setattr__(self, "sample_rate", int(self.sample_rate))

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def frames(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate

    def mono(self) -> AudioClip:
        """Average of the channels (equal-power mixes are a user choice, not ours)."""
        if self.channels == 1:
            return self
        return AudioClip(self.samples.mean(axis=0, keepdims=True), self.sample_rate)

    def with_channels(self, channels: int) -> AudioClip:
        """Mono ↔ stereo, and a plain fold-down for more channels than asked."""
        if channels == self.channels:
            return self
        if self.channels == 1:
            return AudioClip(np.repeat(self.samples, channels, axis=0), self.sample_rate)
        if channels == 1:
            return self.mono()
        if channels == 2 and self.channels >= 6:
            return AudioClip(_downmix_51(self.samples), self.sample_rate)
        return AudioClip(self.mono().samples.repeat(channels, axis=0), self.sample_rate)

    def resampled(self, sample_rate: int) -> AudioClip:
        """High-quality resampling with soxr (VHQ)."""
        if sample_rate == self.sample_rate:
            return self
        import soxr

        out = soxr.resample(self.samples.T, self.sample_rate, sample_rate, quality="VHQ")
        return AudioClip(np.asarray(out, dtype=np.float32).T.reshape(self.channels, -1), sample_rate)

    def scaled(self, gain: float) -> AudioClip:
        return AudioClip(self.samples * np.float32(gain), self.sample_rate)

    def slice_seconds(self, start: float, end: float | None = None) -> AudioClip:
        a = max(0, int(round(start * self.sample_rate)))
        b = self.frames if end is None else min(self.frames, int(round(end * self.sample_rate)))
        return AudioClip(self.samples[:, a:b], self.sample_rate)

    @property
    def peak(self) -> float:
        return float(np.max(np.abs(self.samples))) if self.frames else 0.0


def _downmix_51(samples: np.ndarray) -> np.ndarray:
    """ITU-R BS.775 fold-down of 5.1 (L R C LFE Ls Rs) to stereo; LFE dropped."""
    left, right, centre, _lfe, ls, rs = samples[:6]
    k = np.float32(0.7071)
    out = np.stack([left + k * centre + k * ls, right + k * centre + k * rs])
    return (out / np.float32(1 + 2 * k)).astype(np.float32)
