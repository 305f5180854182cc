"""Provenance in exported files' tags, read back by ``timbre detect``.

A file's watermark says *that* it was generated; its tags say *how*. Every format carries
the same two things: one machine-readable field, ``TIMBRE_PROVENANCE``, holding a JSON
document (``{"format": ..., "app_version": ..., "takes": [provenance, ...]}``), and the
standard fields players and DAWs already show (title, software, date, comment), so a person
sees where the file came from without any Timbre tool.

- WAV: an ID3 chunk (mutagen's WAV tagging, the same frames as MP3) plus a RIFF ``LIST/INFO``
  chunk (INAM, ISFT, ICRD, ICMT) because many Windows tools and DAWs read only INFO.
- FLAC and OGG Vorbis: Vorbis comments.
- MP3: ID3v2.4 (TIT2, TSSE, TDRC, COMM, and ``TXXX:TIMBRE_PROVENANCE``).

mutagen does the container work (ID3, Vorbis comments, RIFF chunk insertion); only the
payload of the INFO list is composed here, since mutagen has no INFO writer. Chapters, when
given, go in with the rest (``engines.chapters`` says which convention each format uses).
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engines.chapters import Chapter, cue_chunks, id3_frames, vorbis_fields
from engines.errors import BadInput
from engines.provenance import app_version, now_iso

PROVENANCE_KEY = "TIMBRE_PROVENANCE"
DOCUMENT_FORMAT = "timbre-provenance/1"
SOFTWARE = "Timbre Studio"

# A provenance tag is read from files anyone can edit, so it is parsed defensively: a size
# cap before parsing (a document of 10,000 takes is ~5 MB, a typical one a few kB), a nesting
# cap checked on the text before json.loads (which recurses: 100,000 '[' raise RecursionError),
# and every field the front ends format checked by type after.
MAX_DOCUMENT_CHARS = 8 << 20
MAX_DOCUMENT_DEPTH = 32
MAX_TAKES = 10_000
_TEXT_FIELDS = (
    "engine", "model_id", "model_version", "prompt", "voice", "device", "dtype", "created",
    "app_version", "kind", "name", "licence",
)
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')

# RIFF INFO ids for the readable fields.
_INFO_IDS = {"title": "INAM", "software": "ISFT", "date": "ICRD", "comment": "ICMT"}


class BadTags(BadInput):
    """A provenance tag is there but is not a document this app writes (crafted or broken
    in a way a damaged file is not): it is refused, never half-shown."""


@dataclass
class FileTags:
    """What a file's tags say: the provenance document (None when absent) and the readable
    fields (title, software, date, comment) as found."""

    provenance: dict[str, Any] | None
    fields: dict[str, str] = field(default_factory=dict)


def provenance_document(takes: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """The JSON document written into a file: one provenance dict per generated take in it."""
    return {"format": DOCUMENT_FORMAT, "app_version": app_version(), "takes": takes, **extra}


def summary(document: dict[str, Any]) -> str:
    """One human sentence for the comment field, e.g. for a player's info panel."""
    takes = document.get("takes") or []
    generated = [t for t in takes if t.get("engine")]
    head = f"{SOFTWARE} {document.get('app_version', '')}".strip()
    if not generated:
        return f"Exported with {head}; no generated audio in it."
    marked = sum(1 for t in generated if t.get("watermarked"))
    mark = (
        "watermarked (resemble-perth)"
        if marked == len(generated)
        else f"watermarked: {marked} of {len(generated)} generated takes"
    )
    terms = _licence_note(generated)
    if len(generated) == 1:
        t = generated[0]
        what = t["engine"] + (f" ({t['model_id']})" if t.get("model_id") else "")
        prompt = f', "{t["prompt"]}"' if t.get("prompt") else ""
        seed = f", seed {t['seed']}" if t.get("seed") is not None else ""
        return f"Generated with {head}: {what}{prompt}{seed}; {mark}{terms}."
    engines = sorted({t["engine"] for t in generated})
    return (f"Made with {head} from {len(generated)} generated takes ({', '.join(engines)}); "
            f"{mark}{terms}.")


def _licence_note(generated: list[dict[str, Any]]) -> str:
    """The model licences in the comment a player shows, with a plain warning when any is
    non-commercial: whoever receives the file should not need a Timbre tool to learn that."""
    from engines.licences import is_non_commercial, shown

    licences = sorted({t["licence"] for t in generated if t.get("licence")})
    if not licences:
        return ""
    note = "; model licence: " + ", ".join(shown(x) for x in licences)
    if any(is_non_commercial(x) for x in licences):
        note += " — not for commercial use"
    return note


def _readable(document: dict[str, Any], title: str) -> dict[str, str]:
    return {
        "title": title,
        "software": f"{SOFTWARE} {document.get('app_version', app_version())}",
        "date": now_iso(),
        "comment": summary(document),
    }


def _kind(path: Path) -> str:
    """The container by its first bytes, not its name (a renamed file is still tagged right)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(36)
    except FileNotFoundError:
        raise BadInput(f"{path} does not exist. Check the path and try again.") from None
    except OSError as exc:
        raise BadInput(f"{path.name} cannot be read: {exc.strerror or exc}.") from exc
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "opus" if head[28:36] == b"OpusHead" else "ogg"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    raise BadInput(
        f"{path.name} is not a WAV, FLAC, OGG, MP3, Opus or M4A file, so it has no tags this "
        "app can read."
    )


# ---- writing ------------------------------------------------------------------------
def write_tags(
    path: str | os.PathLike[str], document: dict[str, Any], title: str = "",
    chapters: Sequence[Chapter] = (), duration: float = 0.0,
) -> None:
    """Write the provenance document, readable fields and ``chapters`` (seconds, up to
    ``duration``) into an existing audio file. MP4 chapters are not written here: mutagen
    cannot, so ``engines.audio_io.encode_audio`` muxes them while encoding."""
    import mutagen

    path = Path(path)
    kind = _kind(path)
    fields = _readable(document, title or path.stem)
    payload = json.dumps(document, sort_keys=True, default=str, ensure_ascii=False)
    try:
        if kind in ("flac", "ogg", "opus"):
            _write_vorbis(path, kind, fields, payload, vorbis_fields(chapters, duration))
        elif kind == "mp4":
            _write_mp4(path, fields, payload)
        else:
            _write_id3(path, kind, fields, payload, id3_frames(chapters, duration))
            if kind == "wav":
                _write_riff_info(path, fields, chapters, duration)
    except mutagen.MutagenError as exc:
        if isinstance(exc.__cause__ or exc.__context__, OSError):
            raise  # a disk error (full, removed): engines.files.reporting says which
        raise BadInput(f"Could not write tags into {path.name}: {exc}.") from exc


def _vorbis_file(path: Path, kind: str) -> Any:
    """FLAC, Ogg Vorbis and Ogg Opus all carry Vorbis comments; only the reader differs."""
    from mutagen.flac import FLAC
    from mutagen.oggopus import OggOpus
    from mutagen.oggvorbis import OggVorbis

    return {"flac": FLAC, "ogg": OggVorbis, "opus": OggOpus}[kind](path)


# MP4 (M4A) atoms for the readable fields; the provenance is a freeform "----" atom.
_MP4_NAMES = {"title": "\xa9nam", "software": "\xa9too", "date": "\xa9day", "comment": "\xa9cmt"}
_MP4_PROVENANCE = f"----:com.timbre:{PROVENANCE_KEY}"


def _write_mp4(path: Path, fields: dict[str, str], payload: str) -> None:
    from mutagen.mp4 import MP4, MP4FreeForm

    audio = MP4(path)
    if audio.tags is None:
        audio.add_tags()
    for key, value in fields.items():
        audio[_MP4_NAMES[key]] = [value]
    audio[_MP4_PROVENANCE] = [MP4FreeForm(payload.encode("utf-8"))]
    audio.save()


def _read_mp4(path: Path) -> tuple[dict[str, str], str | None]:
    from mutagen.mp4 import MP4

    tags = MP4(path).tags or {}
    fields = {k: str(tags[v][0]) for k, v in _MP4_NAMES.items() if v in tags}
    raw = tags[_MP4_PROVENANCE][0] if _MP4_PROVENANCE in tags else None
    return fields, bytes(raw).decode("utf-8", "replace") if raw is not None else None


def _write_vorbis(
    path: Path, kind: str, fields: dict[str, str], payload: str, extra: dict[str, str]
) -> None:
    audio = _vorbis_file(path, kind)
    if audio.tags is None:
        audio.add_tags()
    for key, value in fields.items():
        audio[key.upper() if key != "software" else "ENCODER"] = value
    audio[PROVENANCE_KEY] = payload
    for key, value in extra.items():
        audio[key] = value
    audio.save()


def _write_id3(path: Path, kind: str, fields: dict[str, str], payload: str,
               extra: list[Any]) -> None:
    from mutagen import id3
    from mutagen.mp3 import MP3
    from mutagen.wave import WAVE

    audio = WAVE(path) if kind == "wav" else MP3(path)
    if audio.tags is None:
        audio.add_tags()
    tags = audio.tags
    tags.setall("TIT2", [id3.TIT2(encoding=3, text=fields["title"])])
    tags.setall("TSSE", [id3.TSSE(encoding=3, text=fields["software"])])
    tags.setall("TDRC", [id3.TDRC(encoding=3, text=fields["date"])])
    tags.setall("COMM", [id3.COMM(encoding=3, lang="eng", desc="", text=fields["comment"])])
    tags.setall(f"TXXX:{PROVENANCE_KEY}", [id3.TXXX(encoding=3, desc=PROVENANCE_KEY, text=payload)])
    for frame in extra:
        tags.add(frame)
    audio.save(v2_version=4)


def _info_payload(fields: dict[str, str]) -> bytes:
    """``INFO`` followed by one zero-terminated, word-aligned sub-chunk per field."""
    out = bytearray(b"INFO")
    for key, cid in _INFO_IDS.items():
        value = fields.get(key, "").encode("utf-8") + b"\0"
        out += cid.encode("ascii") + struct.pack("<I", len(value)) + value
        if len(value) % 2:
            out += b"\0"
    return bytes(out)


def _info_lists(riff: Any, name: str = "INFO") -> list[Any]:
    return [c for c in riff.root.subchunks() if c.id == "LIST" and c.name == name]


def _write_riff_info(
    path: Path, fields: dict[str, str], chapters: Sequence[Chapter] = (), duration: float = 0.0
) -> None:
    from mutagen._riff import RiffFile
    from mutagen.wave import WAVE

    rate = WAVE(path).info.sample_rate
    with path.open("rb+") as handle:
        riff = RiffFile(handle)
        old = [*_info_lists(riff), *_info_lists(riff, "adtl")]
        old += [c for c in riff.root.subchunks() if c.id.strip() == "cue"]
        for chunk in old:  # replace, never duplicate, on re-tagging
            chunk.delete()
        riff.insert_chunk("LIST", _info_payload(fields))
        if chapters and rate:
            cue, adtl = cue_chunks(chapters, duration, rate)
            riff.insert_chunk("cue ", cue)
            riff.insert_chunk("LIST", adtl)


# ---- reading ------------------------------------------------------------------------
def read_tags(path: str | os.PathLike[str]) -> FileTags:
    """The provenance and readable fields of a file; empty when it was never tagged."""
    import mutagen

    path = Path(path)
    kind = _kind(path)
    try:
        if kind in ("flac", "ogg", "opus"):
            fields, payload = _read_vorbis(path, kind)
        elif kind == "mp4":
            fields, payload = _read_mp4(path)
        else:
            fields, payload = _read_id3(path, kind)
            if kind == "wav":
                fields = {**_read_riff_info(path), **fields}
    except (mutagen.MutagenError, struct.error, IndexError, ValueError, EOFError) as exc:
        raise BadInput(f"Could not read the tags of {path.name}: {exc}.") from exc
    document = parse_document(payload, path.name) if payload else None
    return FileTags(document, fields)


def _depth(text: str) -> int:
    """How deep JSON brackets nest, strings left out; cheap, and it never recurses."""
    depth = deepest = 0
    for ch in re.findall(r"[\[\]{}]", _STRINGS.sub("", text)):
        depth += 1 if ch in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def parse_document(payload: str, name: str) -> dict[str, Any] | None:
    """The provenance document in a tag; None when the text is not JSON at all (a damaged
    tag reads as "no provenance"), :class:`BadTags` when it is too large, nested too deep
    or has fields of the wrong type (it would otherwise crash whoever shows it)."""

    def refuse(why: str) -> BadTags:
        return BadTags(
            f"{name}: its provenance tag was refused ({why}); it is not a tag this app "
            "writes, so none of it is shown."
        )

    if not isinstance(payload, str):
        raise refuse("it is not text")
    if len(payload) > MAX_DOCUMENT_CHARS:
        raise refuse(f"it is {len(payload) / 1e6:.1f} MB, at most {MAX_DOCUMENT_CHARS / 1e6:.1f}")
    if _depth(payload) > MAX_DOCUMENT_DEPTH:
        raise refuse(f"it is nested more than {MAX_DOCUMENT_DEPTH} levels deep")
    try:
        loaded = json.loads(payload)
    except RecursionError:
        raise refuse(f"it is nested more than {MAX_DOCUMENT_DEPTH} levels deep") from None
    except ValueError:
        return None  # a damaged field is reported as "no provenance", not a crash
    if not isinstance(loaded, dict):
        return None
    problem = _document_problem(loaded)
    if problem:
        raise refuse(problem)
    return loaded


def _document_problem(doc: dict[str, Any]) -> str | None:
    """What is wrong with a document's types, or None; checks what the front ends read."""
    for key in ("format", "app_version", "kind"):
        if doc.get(key) is not None and not isinstance(doc[key], str):
            return f"{key} is not text"
    takes = doc.get("takes", [])
    if takes is None:
        return None
    if not isinstance(takes, list) or len(takes) > MAX_TAKES:
        return f"takes is not a list of at most {MAX_TAKES}"
    for i, take in enumerate(takes):
        if not isinstance(take, dict):
            return f"take {i + 1} is not an object"
        for key in _TEXT_FIELDS:
            if take.get(key) is not None and not isinstance(take[key], str):
                return f"take {i + 1}: {key} is not text"
        seed = take.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            return f"take {i + 1}: seed is not a whole number"
        score = take.get("watermark_score")
        if score is not None and (
            isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score)
        ):
            return f"take {i + 1}: watermark_score is not a number"
        if not isinstance(take.get("watermarked", False), bool):
            return f"take {i + 1}: watermarked is not true or false"
        for key in ("params", "consent"):
            if take.get(key) is not None and not isinstance(take[key], dict):
                return f"take {i + 1}: {key} is not an object"
    return None


def _read_vorbis(path: Path, kind: str) -> tuple[dict[str, str], str | None]:
    audio = _vorbis_file(path, kind)
    tags = audio.tags or {}
    names = {"title": "TITLE", "software": "ENCODER", "date": "DATE", "comment": "COMMENT"}
    fields = {k: tags[v][0] for k, v in names.items() if v in tags}
    payload = tags[PROVENANCE_KEY][0] if PROVENANCE_KEY in tags else None
    return fields, payload


def _read_id3(path: Path, kind: str) -> tuple[dict[str, str], str | None]:
    from mutagen.mp3 import MP3
    from mutagen.wave import WAVE

    audio = WAVE(path) if kind == "wav" else MP3(path)
    tags = audio.tags
    if tags is None:
        return {}, None
    names = {"title": "TIT2", "software": "TSSE", "date": "TDRC"}
    fields = {k: str(tags[v].text[0]) for k, v in names.items() if v in tags}
    comments = tags.getall("COMM")
    if comments:
        fields["comment"] = str(comments[0].text[0])
    frame = tags.get(f"TXXX:{PROVENANCE_KEY}")
    return fields, (str(frame.text[0]) if frame is not None else None)


def _read_riff_info(path: Path) -> dict[str, str]:
    from mutagen._riff import RiffFile

    with path.open("rb") as handle:
        riff = RiffFile(handle)
        lists = _info_lists(riff)
        if not lists:
            return {}
        handle.seek(lists[0].data_offset + 4)
        data = handle.read(lists[0].data_size - 4)
    by_id = {v: k for k, v in _INFO_IDS.items()}
    fields: dict[str, str] = {}
    pos = 0
    while pos + 8 <= len(data):
        cid = data[pos : pos + 4].decode("ascii", "replace")
        size = struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        value = data[pos + 8 : pos + 8 + size].rstrip(b"\0").decode("utf-8", "replace")
        if cid in by_id:
            fields[by_id[cid]] = value
        pos += 8 + size + (size & 1)
    return fields


def write_tagged(
    path: str | os.PathLike[str],
    clip: Any,
    document: dict[str, Any],
    fmt: str | None = None,
    title: str = "",
    chapters: Sequence[Chapter] = (),
    encoding: Any = None,
) -> Path:
    """Write audio, its tags and its chapters, then rename into place: the final name never
    holds an untagged or half-tagged file. ``encoding``: bit rate and VBR/CBR
    (``engines.audio_io.Encoding``) for MP3, Opus and M4A."""
    from engines.audio_io import encode_audio, format_for
    from engines.files import atomic_write

    path = Path(path)
    fmt = format_for(path, fmt)
    with atomic_write(path) as tmp:
        encode_audio(tmp, clip, fmt, chapters=chapters, encoding=encoding)
        write_tags(tmp, document, title or path.stem, chapters, clip.duration)
    return path
