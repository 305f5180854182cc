"""One audiobook file from chapter files: M4B (AAC with chapter marks and cover) or MP3
(ID3 CHAP/CTOC chapters and an APIC cover).

The chapters are read one after another as a stream (``engines.stream``), so a book of
many hours is never held in memory. Encoding, chapters and the provenance tags go through
the app's one path (``engines.audio_io.encode_audio`` muxes M4A chapters,
``engines.tags.write_tags`` writes provenance and ID3 chapters) inside one atomic write;
only the book's own tags (author, album, genre, cover) are added here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from engines.chapters import Chapter
from engines.errors import BadInput
from engines.stream import AudioStream, FileSource, block_frames

FORMATS = {".m4b": "m4a", ".m4a": "m4a", ".mp3": "mp3"}


def concatenated(paths: Sequence[str | os.PathLike[str]]) -> tuple[AudioStream, list[float]]:
    """The files as one stream, and where each one starts (seconds). All share a rate."""
    sources = [FileSource(p) for p in paths]
    if not sources:
        raise BadInput("There are no chapters to put in the book.")
    rate, channels = sources[0].sample_rate, max(s.channels for s in sources)
    if any(s.sample_rate != rate for s in sources):
        raise BadInput("The chapter files do not share one sample rate.")
    starts, frames = [], 0
    for s in sources:
        starts.append(frames / rate)
        frames += s.frames
    n = block_frames(rate)

    def blocks() -> Iterator[np.ndarray]:
        for s in sources:
            for a in range(0, s.frames, n):
                block = s.read(a, n)
                yield block if block.shape[0] == channels else np.repeat(block, channels, axis=0)

    return AudioStream(blocks, rate, channels, frames), starts


def write_book(path: str | os.PathLike[str], chapter_files: Sequence[Path],
               titles: Sequence[str], document: dict[str, Any], *, title: str,
               author: str = "", cover: bytes | None = None) -> list[Chapter]:
    """Write the book; returns the chapters as written (starts in seconds)."""
    from engines.audio_io import encode_audio
    from engines.files import atomic_write
    from engines.tags import write_tags

    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise BadInput(f"{path.name}: an audiobook is written as .m4b (or .m4a) or .mp3.")
    stream, starts = concatenated(chapter_files)
    chapters = [Chapter(s, t) for s, t in zip(starts, titles, strict=True)]
    with atomic_write(path) as tmp:
        encode_audio(tmp, stream, fmt, chapters=chapters)
        write_tags(tmp, document, title, chapters, stream.duration)
        if fmt == "m4a":
            _mp4_book_tags(tmp, author, title, cover)
        else:
            _id3_book_tags(tmp, author, title, cover)
    return chapters


def _image_kind(data: bytes) -> str:
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    raise BadInput("The cover is not a JPEG or PNG image; those are what players show.")


def _mp4_book_tags(path: Path, author: str, title: str, cover: bytes | None) -> None:
    from mutagen.mp4 import MP4, MP4Cover

    audio = MP4(path)
    if audio.tags is None:
        audio.add_tags()
    tags = audio.tags
    if author:
        tags["\xa9ART"] = [author]
    tags["\xa9alb"] = [title]
    tags["\xa9gen"] = ["Audiobook"]
    tags["stik"] = [2]  # iTunes media kind: audiobook
    if cover:
        kind = MP4Cover.FORMAT_JPEG if _image_kind(cover) == "jpeg" else MP4Cover.FORMAT_PNG
        tags["covr"] = [MP4Cover(cover, imageformat=kind)]
    audio.save()


def _id3_book_tags(path: Path, author: str, title: str, cover: bytes | None) -> None:
    from mutagen import id3
    from mutagen.mp3 import MP3

    audio = MP3(path)
    tags = audio.tags
    if author:
        tags.setall("TPE1", [id3.TPE1(encoding=3, text=author)])
    tags.setall("TALB", [id3.TALB(encoding=3, text=title)])
    tags.setall("TCON", [id3.TCON(encoding=3, text="Audiobook")])
    if cover:
        mime = f"image/{_image_kind(cover)}"
        tags.setall("APIC", [id3.APIC(encoding=3, mime=mime, type=3, desc="Cover", data=cover)])
    audio.save(v2_version=4)
