"""Stream plumbing for mastering long episodes in bounded memory (issue 12).

Mastering walks each track several times (speech finding, noise profile, noise reduction,
levelling, the final loudness passes). :class:`~engines.stream.AudioStream` restarts from
the first frame on every pass, so what is costly to redo (resampling, noise reduction) is
spooled to a temporary float WAV once and read back by seeking; what is cheap (sums, cuts,
ducking gains) is recomputed block by block on every pass. Nothing here holds more than a
few blocks of audio at a time.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from engines.audio import AudioClip
from engines.loudness import LONG_FRAMES, LoudnessMeter, integrated_lufs
from engines.stream import AudioStream, Block, FileSource, block_frames


class Reader:
    """Reads a stream's frames in rising order, in any block size: the stream's own
    blocks are regrouped, and only the frames not yet read stay buffered."""

    def __init__(self, stream: AudioStream) -> None:
        self._blocks = iter(stream.blocks())
        self._buf = np.zeros((stream.channels, 0), np.float32)
        self._start = 0  # stream frame of self._buf[:, 0]

    def read(self, start: int, frames: int) -> Block:
        """``frames`` frames from ``start`` (fewer at the end); ``start`` never goes back."""
        if start < self._start:
            raise ValueError("Reader reads forwards only")
        while self._start + self._buf.shape[1] < start + frames:
            block = next(self._blocks, None)
            if block is None:
                break
            skip = min(self._buf.shape[1], start - self._start)  # already passed: let it go
            self._buf = np.concatenate([self._buf[:, skip:], np.asarray(block, np.float32)], axis=1)
            self._start += skip
        a = start - self._start
        out = self._buf[:, a : a + frames]
        self._buf, self._start = self._buf[:, a:], start
        return out


def regrouped(stream: AudioStream, frames: int) -> Iterator[tuple[int, Block]]:
    """``(start, block)`` in blocks of ``frames`` (the last may be shorter)."""
    reader = Reader(stream)
    for a in range(0, stream.frames, frames):
        yield a, reader.read(a, frames)


def padded(stream: AudioStream, frames: int) -> AudioStream:
    """The stream followed by silence up to ``frames`` (voice tracks of unequal length)."""
    if stream.frames >= frames:
        return stream
    n = block_frames(stream.sample_rate)

    def blocks() -> Iterator[Block]:
        yield from stream.blocks()
        for a in range(stream.frames, frames, n):
            yield np.zeros((stream.channels, min(n, frames - a)), np.float32)

    return AudioStream(blocks, stream.sample_rate, stream.channels, frames)


def joined(streams: Sequence[AudioStream]) -> AudioStream:
    """The streams one after the other (same rate and channels): intro, body, outro."""
    first = streams[0]
    if len(streams) == 1:
        return first

    def blocks() -> Iterator[Block]:
        for s in streams:
            yield from s.blocks()

    return AudioStream(blocks, first.sample_rate, first.channels, sum(s.frames for s in streams))


def summed(streams: Sequence[AudioStream]) -> AudioStream:
    """Equal-length streams added sample by sample, left to right (as ``a + b + c``)."""
    first = streams[0]
    if len(streams) == 1:
        return first

    def blocks() -> Iterator[Block]:
        for parts in zip(*(s.blocks() for s in streams), strict=True):
            total = parts[0] + parts[1]
            for other in parts[2:]:
                total += other
            yield total

    return AudioStream(blocks, first.sample_rate, first.channels, first.frames)


def lufs_of(stream: AudioStream) -> float:
    """What :func:`engines.loudness.integrated_lufs` gives for the stream as one clip:
    short streams go through it whole (so short episodes master exactly as before),
    long ones through the block meter it uses itself for long clips."""
    if stream.frames <= LONG_FRAMES:
        return integrated_lufs(stream.clip())
    meter = LoudnessMeter(stream.sample_rate, stream.channels)
    for block in stream.blocks():
        meter.feed(block)
    return meter.lufs()


def temp_wav(folder: Path) -> Path:
    """A new, empty temporary WAV name in ``folder`` (the caller writes and deletes it)."""
    fd, name = tempfile.mkstemp(prefix="spool-", suffix=".wav", dir=folder)
    os.close(fd)
    return Path(name)


def file_stream(path: Path) -> AudioStream:
    return AudioStream.from_source(FileSource(path))


def clip_stream(clip: AudioClip) -> AudioStream:
    return AudioStream.from_clip(clip)
