"""Chapters in an exported file, in each format's own convention, so podcast apps, players
and DAWs show them without any Timbre tool.

- MP3 (and WAV's ID3 chunk): ID3v2 CHAP frames with a CTOC table, the ID3 chapter addendum
  that Apple Podcasts, Overcast and most players read.
- FLAC, Ogg Vorbis, Opus: Vorbis comments ``CHAPTER001=00:01:02.500`` and
  ``CHAPTER001NAME=Title`` (the convention VLC, foobar2000 and ffmpeg read).
- M4A: chapters are muxed while encoding (``av_chapters`` → PyAV ``set_chapters``), since
  mutagen reads MP4 chapters but cannot write them; mutagen's later tag save keeps them.
  ffmpeg writes both a Nero ``chpl`` list (exact starts) and a QuickTime chapter track,
  which has no gaps: Apple players show the first chapter from 0 s.
- WAV also gets a ``cue `` chunk with ``LIST/adtl`` labels: that is what Audacity, Reaper
  and Sound Forge import as markers (ID3 CHAP in a WAV is read by few programs).

This module composes the payloads; ``engines.tags`` writes them with the other tags so the
file is tagged once, inside the same atomic write.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Chapter:
    start: float  # seconds on the timeline it belongs to
    title: str


def in_order(chapters: Sequence[Chapter], duration: float) -> list[Chapter]:
    """Sorted by start, without those at or past the end: a chapter no one can reach
    would make players show a zero-length or negative entry."""
    return sorted((c for c in chapters if 0 <= c.start < duration), key=lambda c: c.start)


def _ends(chapters: list[Chapter], duration: float) -> list[float]:
    return [c.start for c in chapters[1:]] + [duration]


def stamp(seconds: float) -> str:
    """``HH:MM:SS.mmm``, the Vorbis-comment chapter time format."""
    ms = int(round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def id3_frames(chapters: Sequence[Chapter], duration: float) -> list[Any]:
    """CHAP frames (start/end in ms, title as a TIT2 sub-frame) and one top-level CTOC."""
    from mutagen import id3

    ordered = in_order(chapters, duration)
    if not ordered:
        return []
    ids = [f"chp{i}" for i in range(len(ordered))]
    frames: list[Any] = [
        id3.CHAP(element_id=cid, start_time=int(round(c.start * 1000)),
                 end_time=int(round(end * 1000)),
                 sub_frames=[id3.TIT2(encoding=3, text=[c.title])])
        for cid, c, end in zip(ids, ordered, _ends(ordered, duration), strict=True)
    ]
    frames.append(id3.CTOC(element_id="toc", flags=id3.CTOCFlags.TOP_LEVEL | id3.CTOCFlags.ORDERED,
                           child_element_ids=ids,
                           sub_frames=[id3.TIT2(encoding=3, text=["Chapters"])]))
    return frames


def vorbis_fields(chapters: Sequence[Chapter], duration: float) -> dict[str, str]:
    """``CHAPTERnnn`` / ``CHAPTERnnnNAME`` comments, numbered from 001 in time order."""
    out: dict[str, str] = {}
    for i, c in enumerate(in_order(chapters, duration), start=1):
        out[f"CHAPTER{i:03d}"] = stamp(c.start)
        out[f"CHAPTER{i:03d}NAME"] = c.title
    return out


def av_chapters(chapters: Sequence[Chapter], duration: float) -> list[dict[str, Any]]:
    """Chapters as PyAV's ``OutputContainer.set_chapters`` takes them (milliseconds)."""
    ordered = in_order(chapters, duration)
    return [
        {"id": i, "start": int(round(c.start * 1000)), "end": int(round(end * 1000)),
         "time_base": Fraction(1, 1000), "metadata": {"title": c.title}}
        for i, (c, end) in enumerate(zip(ordered, _ends(ordered, duration), strict=True), start=1)
    ]


def cue_chunks(chapters: Sequence[Chapter], duration: float, rate: int) -> tuple[bytes, bytes]:
    """A WAV ``cue `` payload (one point per chapter, in sample frames) and the ``LIST``
    payload (``adtl`` with a ``labl`` per point) that names them."""
    ordered = in_order(chapters, duration)
    cue = bytearray(struct.pack("<I", len(ordered)))
    adtl = bytearray(b"adtl")
    for i, c in enumerate(ordered, start=1):
        frame = int(round(c.start * rate))
        cue += struct.pack("<II4sIII", i, frame, b"data", 0, 0, frame)
        text = c.title.encode("utf-8") + b"\0"
        adtl += b"labl" + struct.pack("<I", 4 + len(text)) + struct.pack("<I", i) + text
        if len(text) % 2:
            adtl += b"\0"
    return bytes(cue), bytes(adtl)


def read_chapters(path: str | Path) -> list[Chapter]:
    """Chapters back from a written file (checks, re-import): ID3 CHAP, Vorbis comments,
    or an M4A's chapter list."""
    import mutagen

    path = Path(path)
    audio = mutagen.File(str(path))
    if audio is None or audio.tags is None:
        return []
    if type(audio).__name__ == "MP4":  # mutagen reads the Nero ``chpl`` list: exact starts
        return [Chapter(float(c.start), str(c.title)) for c in (audio.chapters or [])]
    if hasattr(audio.tags, "getall"):
        return sorted((Chapter(c.start_time / 1000, str(c.sub_frames["TIT2"].text[0]))
                       for c in audio.tags.getall("CHAP")), key=lambda c: c.start)
    out = []
    for i in range(1, 1000):
        value = audio.tags.get(f"CHAPTER{i:03d}")
        if not value:
            break
        h, m, s = value[0].split(":")
        name = audio.tags.get(f"CHAPTER{i:03d}NAME", [""])[0]
        out.append(Chapter(int(h) * 3600 + int(m) * 60 + float(s), name))
    return out
