"""Timeline mixdown from plain data: tracks of clips placed at integer frame positions.

The project store turns its rows into these dataclasses; the GUI's playback and the CLI's
export both render through :func:`mixdown`, so what you hear is what you export.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from engines.audio import AudioClip
from engines.cancel import CancelToken, Progress, ProgressCallback, no_progress


def db_to_gain(db: float) -> float:
    return float(10 ** (db / 20))


@dataclass(frozen=True)
class MixClip:
    """One clip on a track. Frames are at the mix sample rate; ``offset`` skips into the
    source audio (a trimmed left edge) and ``length`` is how much of it plays."""

    audio: Callable[[], AudioClip] | AudioClip
    start: int
    offset: int
    length: int
    gain_db: float = 0.0
    fade_in: int = 0
    fade_out: int = 0

    def source(self) -> AudioClip:
        return self.audio() if callable(self.audio) else self.audio


@dataclass(frozen=True)
class MixTrack:
    clips: Sequence[MixClip] = field(default_factory=tuple)
    gain_db: float = 0.0
    mute: bool = False
    solo: bool = False
    pan: float = 0.0  # −1 left … +1 right (constant-power)


def fade_curve(n: int, rising: bool) -> np.ndarray:
    """Equal-power (sine) fade of ``n`` frames."""
    t = (np.arange(n, dtype=np.float32) + 0.5) / max(n, 1)
    curve = np.sin(0.5 * np.pi * t).astype(np.float32)
    return curve if rising else curve[::-1].copy()


def render_clip(clip: MixClip, sample_rate: int, channels: int) -> np.ndarray:
    src = clip.source()
    if src.sample_rate != sample_rate:
        src = src.resampled(sample_rate)
    src = src.with_channels(channels)
    seg = src.samples[:, clip.offset : clip.offset + clip.length].copy()
    if clip.gain_db:
        seg *= np.float32(db_to_gain(clip.gain_db))
    n = seg.shape[1]
    if clip.fade_in > 0:
        k = min(clip.fade_in, n)
        seg[:, :k] *= fade_curve(k, True)
    if clip.fade_out > 0:
        k = min(clip.fade_out, n)
        seg[:, n - k :] *= fade_curve(k, False)
    return seg


def mix_length(tracks: Sequence[MixTrack]) -> int:
    ends = [c.start + c.length for t in tracks for c in t.clips]
    return max(ends, default=0)


def mixdown(
    tracks: Sequence[MixTrack],
    sample_rate: int,
    channels: int = 2,
    start: int = 0,
    end: int | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> AudioClip:
    """Sum the audible tracks (solo wins over mute) into one clip between start and end."""
    end = mix_length(tracks) if end is None else end
    out = np.zeros((channels, max(0, end - start)), np.float32)
    soloed = any(t.solo for t in tracks)
    audible = [t for t in tracks if (t.solo if soloed else not t.mute)]
    total = sum(len(t.clips) for t in audible)
    done = 0
    for track in audible:
        tgain = db_to_gain(track.gain_db)
        if channels == 2 and track.pan:
            angle = (track.pan + 1) * np.pi / 4
            pan = np.array([[np.cos(angle)], [np.sin(angle)]], np.float32) * np.float32(np.sqrt(2))
        else:
            pan = np.ones((channels, 1), np.float32)
        for clip in track.clips:
            if cancel is not None:
                cancel.check()
            a, b = max(clip.start, start), min(clip.start + clip.length, end)
            if a < b:
                seg = render_clip(clip, sample_rate, channels)
                part = seg[:, a - clip.start : b - clip.start]
                out[:, a - start : a - start + part.shape[1]] += part * (pan * np.float32(tgain))
            done += 1
            progress(Progress(done, total, "mixing"))
    return AudioClip(out, sample_rate)
