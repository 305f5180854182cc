"""Reading what libsndfile cannot: phone and video-call recordings, through PyAV (ffmpeg).

M4A/AAC, Opus, WebM, MP4/MOV/MKV sound tracks, WMA and the like are decoded by
:class:`AvReader`, which offers the small part of ``soundfile.SoundFile`` that imports use
(``samplerate``, ``channels``, ``frames``, ``blocks``, context manager), so block-wise
import and whole-file reads need no second code path. Nothing is resampled: the file's
own rate and channel layout are kept, and every sample format becomes float32 in [-1, 1].
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from engines.errors import BadInput

# The slowest speech codecs run near 6 kbit/s; with no stated duration, the most audio a
# file of a given size can hold is bounded from that, so RF64 is chosen when it might be needed.
_MIN_BITS_PER_SECOND = 6_000
_HINT = "Convert it to WAV or FLAC (for example with Audacity or ffmpeg) and try again."

# Integer sample formats and the scale that maps them to [-1, 1].
_SCALE = {"u8": 128.0, "s16": 32768.0, "s32": 2147483648.0, "s64": 9223372036854775808.0}


class AvReader:
    """The first audio stream of a container, decoded block by block as float32."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        import av

        self.path = Path(path)
        try:
            self._container: Any = av.open(str(self.path), mode="r")
        except (av.FFmpegError, OSError, UnicodeDecodeError, ValueError) as exc:
            raise not_audio(self.path, exc) from exc
        try:
            if not self._container.streams.audio:
                if self._container.streams.video:
                    raise BadInput(
                        f"{self.path.name} holds video but no sound track, so there is no "
                        "audio to import. Choose a recording that has sound."
                    )
                raise BadInput(f"{self.path.name} is not an audio file this app can read "
                               f"(no sound track found). {_HINT}")
            self._stream = self._container.streams.audio[0]
            codec = self._stream.codec_context
            self.samplerate = int(codec.sample_rate or self._stream.rate or 0)
            self.channels = int(codec.layout.nb_channels if codec.layout else 0)
            if self.samplerate <= 0 or self.channels <= 0:
                raise BadInput(
                    f"{self.path.name}'s sound track does not say its sample rate or channels, "
                    f"so it cannot be decoded. {_HINT}"
                )
            self.frames = self._estimate_frames()
        except BaseException:
            self._container.close()
            raise

    def _estimate_frames(self) -> int:
        """Frames the metadata announces (a size hint for the writer, not a promise: the
        count that matters is taken while writing). With no duration stated, an upper bound
        from the file size, so a long file is never written as a too-small plain WAV."""
        stream = self._stream
        # exact: the stream states its own length (MP4's edit list); stated: some length is.
        self.exact = stream.duration is not None and stream.time_base is not None
        self.stated = self.exact or self._container.duration is not None
        if self.exact:
            return int(stream.duration * stream.time_base * self.samplerate)
        if self.stated:
            return int(self._container.duration / 1_000_000 * self.samplerate)
        size = self.path.stat().st_size
        return int(size * 8 / _MIN_BITS_PER_SECOND * self.samplerate)

    def __enter__(self) -> AvReader:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._container.close()

    def _decoded(self) -> Iterator[np.ndarray]:
        """Decoded frames as float32 ``(n, channels)``; decoding errors become one line."""
        import av

        held: np.ndarray | None = None  # one frame behind, so the last can be trimmed
        done = 0
        try:
            for frame in self._container.decode(self._stream):
                part = to_float(frame.to_ndarray(), frame.format.name, self.channels)
                if held is not None:
                    done += len(held)
                    yield held
                held = part
        except (av.FFmpegError, ValueError) as exc:
            raise not_audio(self.path, exc) from exc
        if held is not None:
            # AAC's last frame is padded to 1024 samples; the stream's stated duration (MP4's
            # edit list) says where the recording ends. Only that padding is cut, never more.
            over = done + len(held) - self.frames
            if self.exact and 0 < over < len(held):
                held = held[: len(held) - over]
            yield held

    def blocks(
        self, blocksize: int, dtype: str = "float32", always_2d: bool = True
    ) -> Iterator[np.ndarray]:
        """``(blocksize, channels)`` float32 blocks (the last may be shorter), as
        ``SoundFile.blocks(..., always_2d=True)`` gives them."""
        if dtype != "float32" or not always_2d:
            raise ValueError("AvReader gives float32 2-D blocks only")
        pending: list[np.ndarray] = []
        have = 0
        for part in self._decoded():
            pending.append(part)
            have += len(part)
            while have >= blocksize:
                joined = np.concatenate(pending)
                yield joined[:blocksize]
                rest = joined[blocksize:]
                pending, have = [rest], len(rest)
        if have:
            yield np.concatenate(pending)

    def read_all(self) -> np.ndarray:
        """The whole sound track as float32 ``(frames, channels)``."""
        parts = list(self._decoded())
        if not parts:
            return np.zeros((0, self.channels), np.float32)
        return np.concatenate(parts)


def to_float(data: np.ndarray, fmt: str, channels: int) -> np.ndarray:
    """A decoded frame as float32 ``(n, channels)`` in [-1, 1]: planar formats arrive as
    ``(channels, n)``, packed ones as ``(1, n * channels)``, integers at full scale."""
    planar = fmt.endswith("p")
    base = fmt[:-1] if planar else fmt
    samples = data.T if planar else data.reshape(-1, channels)
    if base in _SCALE:
        out = samples.astype(np.float64 if base == "s64" else np.float32)
        if base == "u8":
            out -= 128.0
        out = out / _SCALE[base]
        return np.ascontiguousarray(out, dtype=np.float32)
    return np.ascontiguousarray(samples, dtype=np.float32)


def not_audio(path: Path, exc: Exception) -> BadInput:
    """One line for a file ffmpeg cannot read either: what, which file, what to do."""
    import av

    if isinstance(exc, OSError) and not isinstance(exc, av.FFmpegError):
        return BadInput(f"{path.name} cannot be read: {exc.strerror or exc}.")
    reason = (getattr(exc, "strerror", None) or str(exc) or "unknown format").rstrip(".")
    return BadInput(
        f"{path.name} is not an audio file this app can read ({reason.lower()}); it may be "
        f"damaged or cut off. {_HINT}"
    )
