"""Timeline mixdown from plain data: tracks of clips placed at integer frame positions.

The project store turns its rows into these dataclasses; the GUI's playback (block by
block, just ahead of the device) and export both render through :func:`mix_stream`, so
what you hear is what you export.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from engines.audio import AudioClip
from engines.cancel import CancelToken, Progress, ProgressCallback, no_progress
from engines.stream import AudioStream, Block, ClipSource, Source, block_frames


def db_to_gain(db: float) -> float:
    return float(10 ** (db / 20))


@dataclass(frozen=True)
class MixClip:
    """One clip on a track. Frames are at the mix sample rate; ``offset`` skips into the
    source audio (a trimmed left edge) and ``length`` is how much of it plays.

    ``audio`` is best a :class:`~engines.stream.Source` (a stored file read by seeking):
    the mix then reads only the frames it plays, block by block, whatever the take's
    length. A clip or a callable giving one still works, for short audio in memory.
    """

    audio: Callable[[], AudioClip] | AudioClip | Source
    start: int
    offset: int
    length: int
    gain_db: float = 0.0
    fade_in: int = 0
    fade_out: int = 0

    def source(self) -> AudioClip:
        if isinstance(self.audio, AudioClip):
            return self.audio
        if callable(self.audio):
            return self.audio()
        return AudioClip(self.audio.read(0, self.audio.frames), self.audio.sample_rate)

    def reader(self) -> Source:
        if isinstance(self.audio, AudioClip):
            return ClipSource(self.audio)
        if callable(self.audio):
            return ClipSource(self.audio())
        return self.audio


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


def fade_gain(positions: np.ndarray, n: int, fade_in: int, fade_out: int) -> np.ndarray | None:
    """The fade gains (:func:`fade_curve`'s values) at ``positions`` within a clip of ``n``
    frames, or None where no fade reaches; lets a clip be rendered one block at a time."""
    gain = None
    if fade_in > 0:
        k = min(fade_in, n)
        inside = positions < k
        if inside.any():
            gain = np.ones(len(positions), np.float32)
            t = (positions[inside].astype(np.float32) + np.float32(0.5)) / np.float32(max(k, 1))
            gain[inside] = np.sin(np.float32(0.5 * np.pi) * t)
    if fade_out > 0:
        k = min(fade_out, n)
        inside = positions >= n - k
        if inside.any():
            gain = np.ones(len(positions), np.float32) if gain is None else gain
            rev = (k - 1 - (positions[inside] - (n - k))).astype(np.float32)
            t = (rev + np.float32(0.5)) / np.float32(max(k, 1))
            gain[inside] *= np.sin(np.float32(0.5 * np.pi) * t)
    return gain


class _ClipReader:
    """Reads one clip's frames at the mix rate and channel count, block after block.

    Same-rate sources are read by seeking; others go through one soxr stream that is
    restarted only when the mix jumps (a new start), so a long take is resampled once.
    """

    def __init__(self, clip: MixClip, sample_rate: int, channels: int) -> None:
        self.clip, self.rate, self.channels = clip, sample_rate, channels
        self.src = clip.reader()
        self._next = -1  # the source-timeline mix frame the resampler yields next
        self._stream = None
        self._pending = np.zeros((self.src.channels, 0), np.float32)
        self._src_pos = 0

    def read(self, pos: int, frames: int) -> Block:
        """``frames`` mix-rate frames from mix-rate source frame ``pos`` (zeros past the end)."""
        if self.src.sample_rate == self.rate:
            data = self.src.read(pos, frames)
        else:
            data = self._resampled(pos, frames)
        if data.shape[1] < frames:
            data = np.pad(data, ((0, 0), (0, frames - data.shape[1])))
        if self.src.channels != self.channels:
            data = AudioClip(data, self.rate).with_channels(self.channels).samples
        return np.array(data, np.float32)  # a copy: gains and fades work in place

    def _resampled(self, pos: int, frames: int) -> Block:
        import soxr

        src_rate = self.src.sample_rate
        if pos != self._next:
            # (Re)start where a source frame and a mix frame fall on the same instant (so
            # the samples are those of resampling the whole take), 0.1 s early so the
            # filter has warmed up by ``pos``; the frames before it are skipped.
            g = math.gcd(self.rate, src_rate)
            k = max(0, pos - self.rate // 10) // (self.rate // g)
            self._src_pos = k * (src_rate // g)
            self._stream = soxr.ResampleStream(src_rate, self.rate, self.src.channels, "float32", "VHQ")
            self._pending = np.zeros((self.src.channels, 0), np.float32)
            skip = pos - k * (self.rate // g)
        else:
            skip = 0
        chunk = max(block_frames(src_rate) // 4, 1)
        want = skip + frames
        while self._pending.shape[1] < want and self._stream is not None:
            data = self.src.read(self._src_pos, chunk)
            self._src_pos += data.shape[1]
            last = data.shape[1] < chunk
            out = self._stream.resample_chunk(np.ascontiguousarray(data.T, np.float32), last=last)
            out = np.asarray(out, np.float32).reshape(-1, self.src.channels).T
            self._pending = np.concatenate([self._pending, out], axis=1)
            if last:
                self._stream = None
        got = self._pending[:, skip:want]
        self._pending = self._pending[:, want:]
        self._next = pos + frames
        return got


def _audible(tracks: Sequence[MixTrack]) -> list[MixTrack]:
    soloed = any(t.solo for t in tracks)
    return [t for t in tracks if (t.solo if soloed else not t.mute)]


def _pan(track: MixTrack, channels: int) -> np.ndarray:
    if channels == 2 and track.pan:
        angle = (track.pan + 1) * np.pi / 4
        return np.array([[np.cos(angle)], [np.sin(angle)]], np.float32) * np.float32(np.sqrt(2))
    return np.ones((channels, 1), np.float32)


def mix_stream(
    tracks: Sequence[MixTrack],
    sample_rate: int,
    channels: int = 2,
    start: int = 0,
    end: int | None = None,
    block: int | None = None,
) -> AudioStream:
    """The mix between ``start`` and ``end`` as blocks (solo wins over mute): each block
    reads only the frames of the clips that play in it, so memory does not grow with the
    timeline's or the takes' length. Every pass over the stream renders again.

    ``block`` frames per block (default :func:`~engines.stream.block_frames`): playback
    asks for short ones, so the first sound comes after a fraction of a second's mixing;
    the samples are the same whatever the block length."""
    end = mix_length(tracks) if end is None else end
    n = max(1, block) if block is not None else block_frames(sample_rate)
    audible = _audible(tracks)

    def blocks() -> Iterator[Block]:
        readers: dict[tuple[int, int], _ClipReader] = {}
        for a in range(start, end, n):
            b = min(end, a + n)
            out = np.zeros((channels, b - a), np.float32)
            for ti, track in enumerate(audible):
                weight = _pan(track, channels) * np.float32(db_to_gain(track.gain_db))
                for ci, clip in enumerate(track.clips):
                    lo, hi = max(clip.start, a), min(clip.start + clip.length, b)
                    key = (ti, ci)
                    if lo >= hi:
                        if clip.start + clip.length <= a:
                            readers.pop(key, None)  # done with it: let its resampler go
                        continue
                    reader = readers.get(key) or readers.setdefault(
                        key, _ClipReader(clip, sample_rate, channels)
                    )
                    seg = reader.read(clip.offset + lo - clip.start, hi - lo)
                    if clip.gain_db:
                        seg *= np.float32(db_to_gain(clip.gain_db))
                    positions = np.arange(lo - clip.start, hi - clip.start)
                    fade = fade_gain(positions, clip.length, clip.fade_in, clip.fade_out)
                    if fade is not None:
                        seg *= fade
                    out[:, lo - a : hi - a] += seg * weight
            yield out

    return AudioStream(blocks, sample_rate, channels, max(0, end - start))


def mixdown(
    tracks: Sequence[MixTrack],
    sample_rate: int,
    channels: int = 2,
    start: int = 0,
    end: int | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> AudioClip:
    """The mix between start and end as one clip (playback of a range, short projects);
    rendered through :func:`mix_stream`, so export and playback sound the same."""
    stream = mix_stream(tracks, sample_rate, channels, start, end)
    parts, done, total = [], 0, max(stream.frames, 1)
    for block in stream.blocks():
        if cancel is not None:
            cancel.check()
        parts.append(block)
        done += block.shape[1]
        progress(Progress(done, total, "mixing"))
    data = np.concatenate(parts, axis=1) if parts else np.zeros((channels, 0), np.float32)
    return AudioClip(data, sample_rate)
