"""Long audio as a stream of blocks, so memory stays bounded whatever the length.

A ten-hour programme at 48 kHz stereo is 14 GB as float32: import, mixdown and export
cannot hold it as one :class:`~engines.audio.AudioClip`. An :class:`AudioStream` is a
recipe for its blocks instead: every call to ``blocks()`` starts again from the first
frame, so a measuring pass and a writing pass can both walk the audio without storing it.
Processing that keeps state across blocks (a limiter, a resampler) is created fresh for
every pass (:meth:`AudioStream.map`), so each pass gives the same samples.

Stored audio is read by seeking (:class:`FileSource`), so a clip plays from the middle of
a long take without decoding what comes before it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from engines.audio import AudioClip
from engines.cancel import CancelToken, Progress, ProgressCallback, no_progress

BLOCK_SECONDS = 10.0  # the unit of work: progress and cancel granularity, ~4 MB at 48 kHz stereo
# Above this size a float WAV is written as RF64: a plain WAV's 32-bit sizes end at 4 GiB.
WAV_LIMIT_BYTES = 3_800_000_000

Block = np.ndarray  # float32 (channels, frames)
Processor = Callable[[Block], Block]


def block_frames(sample_rate: int) -> int:
    return max(1, int(BLOCK_SECONDS * sample_rate))


class Source(Protocol):
    """Audio that can be read from any frame: stored takes and in-memory clips alike."""

    @property
    def sample_rate(self) -> int: ...

    @property
    def channels(self) -> int: ...

    @property
    def frames(self) -> int: ...

    def read(self, start: int, frames: int) -> Block:
        """``frames`` frames from ``start`` (fewer at the end), float32 (channels, n)."""
        ...


@dataclass(frozen=True)
class ClipSource:
    """An in-memory clip behind the :class:`Source` interface."""

    clip: AudioClip

    @property
    def sample_rate(self) -> int:
        return self.clip.sample_rate

    @property
    def channels(self) -> int:
        return self.clip.channels

    @property
    def frames(self) -> int:
        return self.clip.frames

    def read(self, start: int, frames: int) -> Block:
        return self.clip.samples[:, max(0, start) : max(0, start + frames)]


class FileSource:
    """A stored audio file read by seeking (soundfile); the header gives rate and length.

    The file is opened per read: a project's timeline may hold hundreds of clips, and
    open file handles are the scarcer resource than a header parse.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        import soundfile as sf

        self.path = Path(path)
        info = sf.info(str(self.path))
        self._rate, self._channels, self._frames = info.samplerate, info.channels, info.frames

    @property
    def sample_rate(self) -> int:
        return int(self._rate)

    @property
    def channels(self) -> int:
        return int(self._channels)

    @property
    def frames(self) -> int:
        return int(self._frames)

    def read(self, start: int, frames: int) -> Block:
        import soundfile as sf

        start = max(0, start)
        frames = max(0, min(frames, self._frames - start))
        if frames == 0:
            return np.zeros((self._channels, 0), np.float32)
        with sf.SoundFile(str(self.path)) as handle:
            handle.seek(start)
            data = handle.read(frames, dtype="float32", always_2d=True)
        return np.ascontiguousarray(data.T)

    def clip(self) -> AudioClip:
        return AudioClip(self.read(0, self._frames), self._rate)


@dataclass(frozen=True)
class AudioStream:
    """Audio of known length as blocks; ``blocks()`` restarts from the first frame."""

    blocks: Callable[[], Iterable[Block]]
    sample_rate: int
    channels: int
    frames: int

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate

    @classmethod
    def from_clip(cls, clip: AudioClip) -> AudioStream:
        n = block_frames(clip.sample_rate)

        def blocks() -> Iterator[Block]:
            for a in range(0, clip.frames, n):
                yield clip.samples[:, a : a + n]

        return cls(blocks, clip.sample_rate, clip.channels, clip.frames)

    @classmethod
    def from_source(cls, source: Source) -> AudioStream:
        n = block_frames(source.sample_rate)

        def blocks() -> Iterator[Block]:
            for a in range(0, source.frames, n):
                yield source.read(a, n)

        return cls(blocks, source.sample_rate, source.channels, source.frames)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> AudioStream:
        return cls.from_source(FileSource(path))

    def map(self, make: Callable[[], Processor], channels: int | None = None) -> AudioStream:
        """Each block through ``make()``'s processor, a new one per pass (state is per pass)."""

        def blocks() -> Iterator[Block]:
            process = make()
            for block in self.blocks():
                yield process(block)

        return AudioStream(blocks, self.sample_rate, channels or self.channels, self.frames)

    def scaled(self, gain: float) -> AudioStream:
        g = np.float32(gain)
        return self.map(lambda: lambda block: block * g)

    def with_channels(self, channels: int) -> AudioStream:
        if channels == self.channels:
            return self
        rate = self.sample_rate
        return self.map(
            lambda: lambda block: AudioClip(block, rate).with_channels(channels).samples, channels
        )

    def resampled(self, sample_rate: int) -> AudioStream:
        """soxr (VHQ) in streaming mode: the same samples as resampling the whole at once."""
        if sample_rate == self.sample_rate:
            return self
        import soxr

        src_rate, channels = self.sample_rate, self.channels

        def blocks() -> Iterator[Block]:
            stream = soxr.ResampleStream(src_rate, sample_rate, channels, "float32", "VHQ")
            for block in self.blocks():
                out = stream.resample_chunk(np.ascontiguousarray(block.T, np.float32))
                if len(out):
                    yield np.ascontiguousarray(np.asarray(out, np.float32).reshape(-1, channels).T)
            tail = stream.resample_chunk(np.zeros((0, channels), np.float32), last=True)
            if len(tail):
                yield np.ascontiguousarray(np.asarray(tail, np.float32).reshape(-1, channels).T)

        frames = round(self.frames * sample_rate / src_rate)
        return AudioStream(blocks, sample_rate, channels, frames)

    def limited(self, ceiling_db: float) -> AudioStream:
        """pedalboard's limiter (as engines.loudness uses it), its state carried across blocks."""
        rate = self.sample_rate

        def make() -> Processor:
            from pedalboard import Limiter, Pedalboard

            board = Pedalboard([Limiter(threshold_db=ceiling_db, release_ms=60.0)])
            return lambda block: np.asarray(
                board.process(np.ascontiguousarray(block, np.float32), rate, reset=False),
                np.float32,
            )

        return self.map(make)

    def clip(self) -> AudioClip:
        """The whole stream in memory: only for audio known to be short."""
        parts = list(self.blocks())
        data = np.concatenate(parts, axis=1) if parts else np.zeros((self.channels, 0), np.float32)
        return AudioClip(data, self.sample_rate)


def walk(
    stream: AudioStream,
    stage: str = "",
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> Iterator[Block]:
    """The stream's blocks with progress (frames done of the total) and cancel between blocks."""
    done = 0
    total = max(stream.frames, 1)
    for block in stream.blocks():
        if cancel is not None:
            cancel.check()
        yield block
        done += block.shape[1]
        progress(Progress(min(done, total), total, stage))


def open_float_wav(path: Path, sample_rate: int, channels: int, frames_hint: int = 0) -> object:
    """A float32 WAV (RF64 when it may pass 4 GiB) opened for writing, without libsndfile's
    PEAK chunk: that chunk holds the write time, and the same audio must give the same
    bytes for content addressing to dedupe."""
    import soundfile as sf

    big = frames_hint * channels * 4 > WAV_LIMIT_BYTES
    handle = sf.SoundFile(
        str(path), "w", sample_rate, channels, "FLOAT", format="RF64" if big else "WAV"
    )
    sf._snd.sf_command(handle._file, _SFC_SET_ADD_PEAK_CHUNK, sf._ffi.NULL, 0)
    return handle


_SFC_SET_ADD_PEAK_CHUNK = 0x1050  # libsndfile's sndfile.h


def spool(
    stream: AudioStream,
    folder: str | os.PathLike[str] | None = None,
    stage: str = "",
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> Path:
    """Write the stream to a temporary float WAV (the caller deletes it); for work that is
    too costly to redo on every pass, such as the watermark."""
    fd, name = tempfile.mkstemp(prefix=".timbre-spool-", suffix=".wav", dir=folder)
    os.close(fd)
    path = Path(name)
    try:
        handle = open_float_wav(path, stream.sample_rate, stream.channels, stream.frames)
        with handle:  # type: ignore[attr-defined]
            for block in walk(stream, stage, progress, cancel):
                handle.write(block.T)  # type: ignore[attr-defined]
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def watched(
    stream: AudioStream,
    stage: str,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> AudioStream:
    """The same stream, reporting progress and checking ``cancel`` at every block."""
    return AudioStream(
        lambda: walk(stream, stage, progress, cancel), stream.sample_rate, stream.channels, stream.frames
    )
