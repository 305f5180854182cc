"""Chapter markers and episode tags (artist, album, …) written into an exported file.

The title, software and provenance fields are engines.tags' job (the same as every other
export); this module adds what only an episode has, on top of them. Chapters use the same
conventions as every export (``engines.chapters``): ID3 CHAP/CTOC in MP3 and WAV, Vorbis
comments CHAPTERnnn / CHAPTERnnnNAME in FLAC, OGG and Opus, container chapters in M4A
(muxed while encoding; see ``export_episode``). Nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from engines.chapters import Chapter, id3_frames, read_chapters, vorbis_fields
from engines.errors import BadInput

__all__ = ["Chapter", "parse_chapter", "read_chapters", "write_chapters"]

# Our tag names → ID3 frame ids.
_ID3 = {
    "title": "TIT2",
    "artist": "TPE1",
    "album": "TALB",
    "date": "TDRC",
    "genre": "TCON",
    "comment": "COMM",
}
# … and → MP4 atoms; other keys become freeform atoms.
_MP4 = {"title": "\xa9nam", "artist": "\xa9ART", "album": "\xa9alb", "date": "\xa9day",
        "genre": "\xa9gen", "comment": "\xa9cmt"}


def parse_chapter(text: str) -> Chapter:
    """``"12:30 Interview"`` or ``"750=Interview"`` → Chapter(750.0, "Interview")."""
    stamp, sep, title = text.strip().replace("=", " ", 1).partition(" ")
    try:
        parts = [float(p) for p in stamp.split(":")]
    except ValueError:
        parts = []
    if not sep or not title.strip() or not parts or len(parts) > 3:
        raise BadInput(f"Chapter '{text}' should look like '12:30 Title' (start time, then title).")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return Chapter(seconds, title.strip())


def _id3_frames(tags: Mapping[str, str], chapters: Sequence[Chapter], duration: float) -> list:
    from mutagen import id3

    frames = []
    for key, value in tags.items():
        frame_id = _ID3.get(key)
        if frame_id == "COMM":
            frames.append(id3.COMM(encoding=3, lang="eng", desc="", text=[value]))
        elif frame_id:
            frames.append(getattr(id3, frame_id)(encoding=3, text=[value]))
        else:
            frames.append(id3.TXXX(encoding=3, desc=key, text=[value]))
    return frames + id3_frames(chapters, duration)


def write_chapters(
    path: Path,
    chapters: Sequence[Chapter],
    duration: float,
    tags: Mapping[str, str] | None = None,
    fmt: str | None = None,
) -> None:
    """Add ``chapters`` and ``tags`` (artist, album, genre, or free keys) to a written file.
    M4A chapters cannot be added after encoding (mutagen only reads them), so for M4A
    only the tags are written here and the chapters must be passed to ``encode_audio``."""
    tags = dict(tags or {})
    suffix = "." + (fmt or path.suffix.lstrip(".")).lower()
    if suffix in (".mp3", ".wav"):
        from mutagen.mp3 import MP3
        from mutagen.wave import WAVE

        audio = (MP3 if suffix == ".mp3" else WAVE)(str(path))
        if audio.tags is None:
            audio.add_tags()
        for frame in _id3_frames(tags, chapters, duration):
            audio.tags.add(frame)
        audio.save(v2_version=4)
    elif suffix in (".flac", ".ogg", ".opus"):
        from mutagen.flac import FLAC
        from mutagen.oggopus import OggOpus
        from mutagen.oggvorbis import OggVorbis

        audio = {".flac": FLAC, ".ogg": OggVorbis, ".opus": OggOpus}[suffix](str(path))
        for key, value in {**{k.upper(): v for k, v in tags.items()},
                           **vorbis_fields(chapters, duration)}.items():
            audio[key] = [value]
        audio.save()
    elif suffix == ".m4a":
        from mutagen.mp4 import MP4, MP4FreeForm

        audio = MP4(str(path))
        if audio.tags is None:
            audio.add_tags()
        for key, value in tags.items():
            if key in _MP4:
                audio[_MP4[key]] = [value]
            else:
                audio[f"----:com.timbre:{key}"] = [MP4FreeForm(value.encode("utf-8"))]
        audio.save()
    else:
        raise BadInput(f"Cannot tag {path.name}: use wav, flac, ogg, opus, m4a or mp3.")
