"""Chapter markers and episode tags (artist, album, …) written into an exported file.

The title, software and provenance fields are engines.tags' job (the same as every other
export); this module adds what only an episode has, on top of them. MP3 and WAV carry ID3v2 with CHAP/CTOC frames (the ID3 chapter addendum that podcast apps
read); FLAC and OGG carry Vorbis comments with the CHAPTERnnn / CHAPTERnnnNAME convention.
Every format this app writes can hold both, so nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from engines.errors import BadInput

# Our tag names → ID3 frame ids.
_ID3 = {
    "title": "TIT2",
    "artist": "TPE1",
    "album": "TALB",
    "date": "TDRC",
    "genre": "TCON",
    "comment": "COMM",
}


@dataclass(frozen=True)
class Chapter:
    start: float  # seconds on the timeline it belongs to
    title: str


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


def _stamp(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


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
    ordered = sorted(chapters, key=lambda c: c.start)
    ids = [f"chp{i}" for i in range(len(ordered))]
    for i, chapter in enumerate(ordered):
        end = ordered[i + 1].start if i + 1 < len(ordered) else duration
        frames.append(
            id3.CHAP(
                element_id=ids[i],
                start_time=int(chapter.start * 1000),
                end_time=int(end * 1000),
                sub_frames=[id3.TIT2(encoding=3, text=[chapter.title])],
            )
        )
    if ordered:
        frames.append(
            id3.CTOC(
                element_id="toc",
                flags=id3.CTOCFlags.TOP_LEVEL | id3.CTOCFlags.ORDERED,
                child_element_ids=ids,
                sub_frames=[id3.TIT2(encoding=3, text=["Chapters"])],
            )
        )
    return frames


def write_chapters(
    path: Path,
    chapters: Sequence[Chapter],
    duration: float,
    tags: Mapping[str, str] | None = None,
    fmt: str | None = None,
) -> None:
    """Add ``chapters`` and ``tags`` (artist, album, genre, or free keys) to a written file."""
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
    elif suffix in (".flac", ".ogg"):
        from mutagen.flac import FLAC
        from mutagen.oggvorbis import OggVorbis

        audio = (FLAC if suffix == ".flac" else OggVorbis)(str(path))
        for key, value in tags.items():
            audio[key.upper()] = [value]
        for i, chapter in enumerate(sorted(chapters, key=lambda c: c.start), start=1):
            audio[f"CHAPTER{i:03d}"] = [_stamp(chapter.start)]
            audio[f"CHAPTER{i:03d}NAME"] = [chapter.title]
        audio.save()
    else:
        raise BadInput(f"Cannot tag {path.name}: use wav, flac, ogg or mp3.")


def read_chapters(path: Path) -> list[Chapter]:
    """Chapters back from a file this module wrote (for checks and for re-import)."""
    import mutagen

    audio = mutagen.File(str(path))
    if audio is None or audio.tags is None:
        return []
    if hasattr(audio.tags, "getall"):
        chaps = audio.tags.getall("CHAP")
        return sorted(
            (Chapter(c.start_time / 1000, str(c.sub_frames["TIT2"].text[0])) for c in chaps),
            key=lambda c: c.start,
        )
    out = []
    for i in range(1, 1000):
        stamp = audio.tags.get(f"CHAPTER{i:03d}")
        if not stamp:
            break
        h, m, s = stamp[0].split(":")
        name = audio.tags.get(f"CHAPTER{i:03d}NAME", [""])[0]
        out.append(Chapter(int(h) * 3600 + int(m) * 60 + float(s), name))
    return out
