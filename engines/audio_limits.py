"""Refuse audio far too long for its purpose from the file's header, before decoding it.

Decoding is what costs memory (a 10-hour file is gigabytes of float32 samples), while the
header states the length for free; so a reader with a length limit asks here first and the
user gets one sentence instead of a machine out of memory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from engines.errors import BadInput


def header_duration(source: str | os.PathLike[str] | BinaryIO) -> float | None:
    """Seconds of audio the header announces, or None when the header cannot be read
    (the reader that decodes the file then reports the problem in its own words)."""
    import soundfile as sf

    try:
        info = sf.info(source if not isinstance(source, os.PathLike) else str(source))
    except (sf.LibsndfileError, RuntimeError, TypeError, OSError):
        return _container_duration(source)
    if info.samplerate <= 0 or info.frames <= 0:
        return None
    return info.frames / info.samplerate


def _container_duration(source: str | os.PathLike[str] | BinaryIO) -> float | None:
    """The duration PyAV's container states, for files libsndfile cannot open (M4A, Opus,
    video-call recordings); None when it states none or cannot open the file either."""
    if not isinstance(source, (str, os.PathLike)):
        return None
    from engines.av_reader import AvReader
    from engines.errors import BadInput as Unreadable

    try:
        with AvReader(source) as reader:
            return reader.frames / reader.samplerate if reader.stated else None
    except Unreadable:
        return None


def describe_seconds(seconds: float) -> str:
    """A length as a person reads it: '45 s', '12 min', '10.0 h'."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def check_length(path: str | os.PathLike[str], limit_s: float, what: str, hint: str) -> None:
    """Raise :class:`BadInput` when ``path`` is longer than ``limit_s`` by its header.

    ``what`` names the use ("a voice reference recording"), ``hint`` says what to do.
    """
    seconds = header_duration(path)
    if seconds is not None and seconds > limit_s:
        raise BadInput(
            f"{Path(path).name} is {describe_seconds(seconds)} long; {what} may be at most "
            f"{describe_seconds(limit_s)}. {hint}"
        )
