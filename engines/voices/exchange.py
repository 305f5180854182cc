"""Export a voice to one file and import it back, safely.

The file is a zip holding ``manifest.json`` and content-addressed members::

    clips/<sha256>.flac        clean reference speech and the consent recording
    originals/<sha256>.<ext>   the recordings as the user gave them
    clones/<sha256>.npy|.bin   clone artefacts (numpy arrays are read with allow_pickle=False)

Import trusts nothing in the file: every member name must match that pattern (so ``../``,
absolute paths and stray files are refused before anything is written), every member's
unpacked size is checked from the zip directory before a byte is inflated, every member must
be named in the manifest and hash to its name, every manifest field is checked by type and
range, audio must decode and be no longer than a reference may be, clone artefacts must have
the shape their engine reads, and the library writes files only under names it computes from
their content. Nothing is executed.

Numbers in the manifest are never trusted: speaker embeddings and durations are measured
again from the audio, and the consent recording is put through the same check as when consent
is recorded (:func:`engines.voices.consent.verify_recording`). A consent that does not pass is
dropped, with the clones that needed it, and the voice is imported without it.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import math
import re
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from engines.audio import AudioClip
from engines.errors import BadInput
from engines.voices.embedding import DIM
from engines.voices.library import (
    KIND_RE,
    Voice,
    VoiceLibrary,
    _blob_vec,
    _vec_blob,
    check_clone,
    check_name,
)
from engines.voices.prepare import MAX_REFERENCE_S, PrepareReport

FORMAT = "timbre-voice"
VERSION = 1
SUFFIX = ".timbrevoice"
# Limits on what an import may unpack, checked from the zip's directory (ZipInfo.file_size)
# before anything is inflated; zipfile never returns more than the declared size, so a
# member that lies about its size fails its CRC instead of filling memory. A voice is a few
# reference clips of at most MAX_REFERENCE_S each (a 15-minute 48 kHz stereo 16-bit WAV
# original is 173 MB), its consent and clone artefacts (< 1 MB each).
MAX_MEMBER_BYTES = 256 << 20  # one member, unpacked
MAX_TOTAL_BYTES = 1 << 30  # all members together, unpacked
MAX_ENTRIES = 512
MAX_MANIFEST = 4 << 20
_ENTRY = re.compile(
    r"(?:clips|originals)/[0-9a-f]{64}\.(?:wav|flac|ogg|mp3)|clones/[0-9a-f]{64}\.(?:bin|npy)"
)


def export_voice(lib: VoiceLibrary, name: str, path: str | Path) -> Path:
    """Write the voice, its recordings, consent and clones to one zip file at ``path``
    (written to a temporary file and renamed). Lives here, not on the library, so the
    library does not depend on its exchange format."""
    with lib._db() as db:
        vid = lib._voice_id(db, name)
        voice = db.execute("SELECT * FROM voices WHERE id = ?", (vid,)).fetchone()
        clips = db.execute(
            "SELECT * FROM clips WHERE voice_id = ? ORDER BY position", (vid,)
        ).fetchall()
        consent = db.execute("SELECT * FROM consent WHERE voice_id = ?", (vid,)).fetchone()
        clones = db.execute(
            "SELECT * FROM clones WHERE voice_id = ? ORDER BY kind", (vid,)
        ).fetchall()

    members: dict[str, bytes | Path] = {}
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "exported": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "voice": {k: voice[k] for k in ("name", "language", "notes", "created")}
        | {"tags": json.loads(voice["tags"])},
        "clips": [],
        "consent": None,
        "clones": [],
    }
    for c in clips:
        entry = f"clips/{c['sha256']}.flac"
        members[entry] = lib._blob_path(c["sha256"], "flac")
        original = None
        if c["original_sha256"]:
            original = f"originals/{c['original_sha256']}.{c['original_ext']}"
            members[original] = lib._blob_path(c["original_sha256"], c["original_ext"])
        manifest["clips"].append(
            {
                "file": entry,
                "original": original,
                "source_name": c["source_name"],
                "duration": c["duration"],
                "embedding": [float(x) for x in _blob_vec(c["embedding"])],
                "report": json.loads(c["report"]),
            }
        )
    if consent is not None:
        entry = f"clips/{consent['sha256']}.flac"
        members[entry] = lib._blob_path(consent["sha256"], "flac")
        manifest["consent"] = {"file": entry} | {
            k: consent[k]
            for k in ("statement", "phrase", "similarity", "threshold", "transcript", "recorded")
        }
    for c in clones:
        data = bytes(c["data"])
        entry = f"clones/{hashlib.sha256(data).hexdigest()}.{'npy' if c['encoding'] == 'npy' else 'bin'}"
        members[entry] = data
        manifest["clones"].append(
            {
                "kind": c["kind"],
                "file": entry,
                "meta": json.loads(c["meta"]),
                "updated": c["updated"],
            }
        )

    path = Path(path)
    if path.suffix == "":
        path = path.with_suffix(SUFFIX)
    if not path.parent.exists():
        raise BadInput(f"The folder {path.parent} does not exist. Create it or choose another.")
    from engines.files import atomic_write

    with atomic_write(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest, indent=1, ensure_ascii=False))
        for entry, source in members.items():
            data = source.read_bytes() if isinstance(source, Path) else source
            zf.writestr(entry, data, compress_type=zipfile.ZIP_STORED)
    return path


# -- import ---------------------------------------------------------------------------

NoticeFn = Callable[[str], None]


def _bad(file: Path, why: str) -> BadInput:
    return BadInput(
        f"{file.name} is not a voice file this app can import: {why}. Ask whoever sent it "
        "for a new export (timbre voice export)."
    )


def _mb(size: int) -> str:
    return f"{size / (1 << 20):,.0f} MB"


class _Reader:
    """Typed access to the untrusted manifest; every failure names the field."""

    def __init__(self, file: Path) -> None:
        self.file = file

    def obj(self, value: Any, where: str) -> dict:
        if not isinstance(value, dict):
            raise _bad(self.file, f"{where} must be an object")
        return value

    def text(
        self, d: dict, key: str, where: str, limit: int = 10_000, optional: bool = False
    ) -> str | None:
        value = d.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, str) or len(value) > limit:
            raise _bad(self.file, f"{where}.{key} must be text (at most {limit} characters)")
        return value

    def number(self, d: dict, key: str, where: str, low: float, high: float) -> float:
        value = d.get(key)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or not low <= value <= high
        ):
            raise _bad(self.file, f"{where}.{key} must be a number from {low:g} to {high:g}")
        return float(value)

    def vector(self, d: dict, key: str, where: str) -> np.ndarray:
        value = d.get(key)
        if (
            not isinstance(value, list)
            or len(value) != DIM
            or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in value)
        ):
            raise _bad(self.file, f"{where}.{key} must be a list of {DIM} numbers")
        vec = np.asarray(value, np.float32)
        if not np.all(np.isfinite(vec)):
            raise _bad(self.file, f"{where}.{key} holds invalid numbers")
        return vec

    def member(
        self, d: dict, key: str, where: str, prefix: str, optional: bool = False
    ) -> str | None:
        value = self.text(d, key, where, 200, optional)
        if value is None:
            return None
        if not _ENTRY.fullmatch(value) or not value.startswith(prefix + "/"):
            raise _bad(self.file, f"{where}.{key} names an unsafe or unknown file '{value}'")
        return value


def _check_sizes(file: Path, infos: list[zipfile.ZipInfo]) -> None:
    """Refuse by the sizes the zip directory declares, before anything is inflated."""
    if len(infos) > MAX_ENTRIES:
        raise _bad(file, f"it holds {len(infos)} files (at most {MAX_ENTRIES})")
    for info in infos:
        if info.file_size > MAX_MEMBER_BYTES:
            raise _bad(
                file,
                f"{info.filename} would unpack to {_mb(info.file_size)} (at most "
                f"{_mb(MAX_MEMBER_BYTES)} per file)",
            )
    total = sum(i.file_size for i in infos)
    if total > MAX_TOTAL_BYTES:
        raise _bad(
            file, f"it would unpack to {_mb(total)} (at most {_mb(MAX_TOTAL_BYTES)} in all)"
        )


def _read_members(file: Path) -> tuple[Any, dict[str, bytes]]:
    try:
        zf = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _bad(file, f"it is not a voice export ({exc})") from exc
    with zf:
        infos = zf.infolist()
        _check_sizes(file, infos)
        names = [i.filename for i in infos]
        if len(set(names)) != len(names):
            raise _bad(file, "it lists a file twice")
        for info in infos:
            if info.filename != "manifest.json" and not _ENTRY.fullmatch(info.filename):
                raise _bad(
                    file, f"it contains an unsafe or unexpected entry '{info.filename}' (refused)"
                )
        if "manifest.json" not in names:
            raise _bad(file, "it has no manifest.json")
        if zf.getinfo("manifest.json").file_size > MAX_MANIFEST:
            raise _bad(file, "its manifest is too large")
        try:
            manifest = json.loads(zf.read("manifest.json").decode("utf-8"))
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
            raise _bad(file, f"its manifest is damaged ({exc})") from exc
        except (ValueError, RecursionError) as exc:  # bad UTF-8 or JSON, 5,000-digit numbers
            raise _bad(file, f"its manifest is not valid JSON ({type(exc).__name__})") from exc
        blobs = {}
        for info in infos:
            if info.filename == "manifest.json":
                continue
            try:  # sizes were checked above; zipfile stops at the declared size and CRC
                data = zf.read(info)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
                raise _bad(file, f"{info.filename} is damaged ({exc})") from exc
            digest = hashlib.sha256(data).hexdigest()
            if digest != info.filename.split("/")[1].split(".")[0]:
                raise _bad(file, f"{info.filename} is damaged (its checksum does not match)")
            blobs[info.filename] = data
    return manifest, blobs


def _check_length(file: Path, entry: str, data: bytes) -> None:
    """Refuse audio by its header: unreadable, empty, or longer than a reference may be."""
    import soundfile as sf

    try:
        info = sf.info(io.BytesIO(data))
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise _bad(file, f"{entry} is not readable audio") from exc
    if info.frames <= 0 or info.samplerate <= 0:
        raise _bad(file, f"{entry} holds no audio")
    if info.frames / info.samplerate > MAX_REFERENCE_S:
        raise _bad(
            file,
            f"{entry} is {info.frames / info.samplerate / 60:.0f} min long (a voice recording "
            f"may be at most {MAX_REFERENCE_S / 60:.0f} min)",
        )


def _decode(file: Path, entry: str, data: bytes) -> AudioClip:
    """A clip's audio, its length checked from the header before it is decoded."""
    import soundfile as sf

    from engines.audio_io import validate

    _check_length(file, entry, data)
    try:
        samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
        clip = AudioClip(samples.T, rate)
        validate(clip, entry)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise _bad(file, f"{entry} is not readable audio") from exc
    except BadInput as exc:
        raise _bad(file, str(exc).split(". ")[0]) from exc
    return clip


def _consent_problem(check_result: Any, phrase: str) -> str:
    if check_result.similarity < check_result.threshold:
        return (
            f"it does not sound like the voice's reference clips (similarity "
            f"{check_result.similarity:.2f}, needs {check_result.threshold:.2f})"
        )
    return f"the phrase “{phrase}” was not heard in it"


def import_voice(
    lib: VoiceLibrary, file: str | Path, name: str | None = None, notice: NoticeFn | None = None
) -> Voice:
    """Validate ``file`` completely, then add its voice (as ``name`` when given).

    ``notice`` receives one sentence for each part that was dropped rather than refused
    (a consent recording that does not pass the consent check, and the clones made with it).
    """
    from engines.voices.embedding import embed, mean_embedding

    file = Path(file)
    if not file.is_file():
        raise BadInput(f"{file} does not exist or is not a file. Check the path and try again.")
    manifest, blobs = _read_members(file)
    r = _Reader(file)
    manifest = r.obj(manifest, "manifest")
    if manifest.get("format") != FORMAT:
        raise _bad(file, "its manifest is not a Timbre voice manifest")
    if manifest.get("version") != VERSION:
        version = manifest.get("version")
        shown = repr(version)[:20] if isinstance(version, int | float | str) else "unknown"
        raise _bad(file, f"it is format version {shown}; this app reads {VERSION}")
    voice = r.obj(manifest.get("voice"), "voice")
    new_name = check_name(name or r.text(voice, "name", "voice", 80) or "")
    tags = voice.get("tags", [])
    if (
        not isinstance(tags, list)
        or len(tags) > 100
        or not all(isinstance(t, str) and len(t) <= 100 for t in tags)
    ):
        raise _bad(file, "voice.tags must be a list of at most 100 short texts")
    fields = {
        "language": r.text(voice, "language", "voice", 100),
        "notes": r.text(voice, "notes", "voice"),
        "created": r.text(voice, "created", "voice", 64),
    }

    used: set[str] = set()

    def blob(entry: str | None) -> bytes | None:
        if entry is None:
            return None
        if entry not in blobs:
            raise _bad(file, f"the manifest names {entry}, which the file does not contain")
        used.add(entry)
        return blobs[entry]

    clips_in = manifest.get("clips")
    if not isinstance(clips_in, list) or not clips_in:
        raise _bad(file, "it holds no reference clips")
    if len(clips_in) > MAX_ENTRIES:
        raise _bad(file, f"it lists {len(clips_in)} clips (at most {MAX_ENTRIES})")
    clips = []
    for i, c in enumerate(clips_in):
        where = f"clips[{i}]"
        c = r.obj(c, where)
        entry = r.member(c, "file", where, "clips")
        if not entry.endswith(".flac"):
            raise _bad(file, f"{where}.file must be a FLAC clip")
        original = r.member(c, "original", where, "originals", optional=True)
        try:
            report = PrepareReport.from_dict(c.get("report"))
        except ValueError as exc:
            raise _bad(file, f"{where}.report is not valid ({exc})") from exc
        r.number(c, "duration", where, 0, MAX_REFERENCE_S)
        r.vector(c, "embedding", where)  # checked for shape; measured again from the audio
        clips.append(
            {
                "entry": entry,
                "data": blob(entry),
                "original": blob(original),
                "original_entry": original,
                "original_ext": original.rsplit(".", 1)[1] if original else None,
                "source_name": r.text(c, "source_name", where, 500),
                "report": report.to_dict(),
            }
        )
    consent = None
    if manifest.get("consent") is not None:
        c = r.obj(manifest["consent"], "consent")
        entry = r.member(c, "file", "consent", "clips")
        r.number(c, "similarity", "consent", -1, 1)  # checked for type; measured again below
        r.number(c, "threshold", "consent", -1, 1)
        consent = {
            "entry": entry,
            "data": blob(entry),
            "statement": r.text(c, "statement", "consent", 2000),
            "phrase": r.text(c, "phrase", "consent", 500),
            "transcript": r.text(c, "transcript", "consent", 5000, optional=True),
            "recorded": r.text(c, "recorded", "consent", 64),
        }
    clones = []
    clones_in = manifest.get("clones", [])
    if not isinstance(clones_in, list) or len(clones_in) > MAX_ENTRIES:
        raise _bad(file, f"clones must be a list of at most {MAX_ENTRIES}")
    for i, c in enumerate(clones_in):
        where = f"clones[{i}]"
        c = r.obj(c, where)
        kind = r.text(c, "kind", where, 64)
        if not KIND_RE.match(kind):
            raise _bad(file, f"{where}.kind '{kind}' is not a clone kind")
        entry = r.member(c, "file", where, "clones")
        data = blob(entry)
        encoding = "npy" if entry.endswith(".npy") else "bytes"
        meta = c.get("meta", {})
        try:
            check_clone(kind, encoding, data, meta)  # arrays without pickle, shapes, meta
        except ValueError as exc:
            raise _bad(file, f"{where} ('{kind}') is not valid: {exc}") from exc
        clones.append(
            {
                "kind": kind,
                "encoding": encoding,
                "data": data,
                "meta": json.dumps(meta, sort_keys=True),
                "updated": r.text(c, "updated", where, 64),
            }
        )
    unused = set(blobs) - used
    if unused:
        raise _bad(file, f"it contains files its manifest does not name ({sorted(unused)[0]})")
    for c in clips:
        if c["original"] is not None:
            _check_length(file, c["original_entry"], c["original"])

    # Every number that matters is measured here, from the audio, never read from the file.
    for c in clips:
        audio = _decode(file, c["entry"], c["data"])
        c["duration"] = audio.duration
        c["embedding"] = embed(audio)
    if consent is not None:
        voice_embedding = mean_embedding([c["embedding"] for c in clips])
        problem = _verify_consent(file, consent, clips, voice_embedding)
        if problem is not None:
            dropped = " and without its clones" if clones else ""
            if notice is not None:
                notice(
                    f"{file.name}: its consent recording did not pass this app's consent check "
                    f"({problem}), so '{new_name}' was imported without consent{dropped} and "
                    f"cannot be cloned; to clone it, the speaker must read a new statement "
                    f"(timbre voice statement {new_name!r}, then timbre voice consent "
                    f"{new_name!r} RECORDING)."
                )
            consent, clones = None, []
    elif clones:
        if notice is not None:
            notice(
                f"{file.name}: it holds clones but no consent recording, so '{new_name}' was "
                f"imported without its clones; record consent (timbre voice statement "
                f"{new_name!r}) before cloning it."
            )
        clones = []

    if lib.exists(new_name):
        raise BadInput(
            f"A voice called '{new_name}' already exists; import it under another name "
            f"(timbre voice import FILE --name NEW) or remove the existing one."
        )
    with lib._db() as db:
        vid = int(
            db.execute(
                "INSERT INTO voices (name, language, notes, tags, created) VALUES (?,?,?,?,?)",
                (
                    new_name,
                    fields["language"],
                    fields["notes"],
                    json.dumps(tags),
                    fields["created"],
                ),
            ).lastrowid
        )
        for pos, c in enumerate(clips):
            original_sha = (
                lib._put_blob(c["original"], c["original_ext"])
                if c["original"] is not None
                else None
            )
            db.execute(
                "INSERT INTO clips (voice_id, position, sha256, original_sha256, original_ext,"
                " source_name, duration, embedding, report) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    vid,
                    pos,
                    lib._put_blob(c["data"], "flac"),
                    original_sha,
                    c["original_ext"],
                    c["source_name"],
                    c["duration"],
                    _vec_blob(c["embedding"]),
                    json.dumps(c["report"]),
                ),
            )
        if consent is not None:
            db.execute(
                "INSERT INTO consent (voice_id, sha256, statement, phrase, similarity, threshold,"
                " transcript, recorded) VALUES (?,?,?,?,?,?,?,?)",
                (
                    vid,
                    lib._put_blob(consent["data"], "flac"),
                    consent["statement"],
                    consent["phrase"],
                    consent["similarity"],
                    consent["threshold"],
                    consent["transcript"],
                    consent["recorded"],
                ),
            )
        for c in clones:
            db.execute(
                "INSERT INTO clones (voice_id, kind, encoding, data, meta, updated)"
                " VALUES (?,?,?,?,?,?)",
                (vid, c["kind"], c["encoding"], c["data"], c["meta"], c["updated"]),
            )
    return lib.get(new_name)


def _verify_consent(
    file: Path, consent: dict[str, Any], clips: list[dict[str, Any]], voice_embedding: np.ndarray
) -> str | None:
    """Put an imported consent recording through the consent check; None when it passes.

    On success ``consent`` gets the measured similarity, threshold and transcript, so what
    is stored is what this app measured, never what the file claimed.
    """
    from engines.voices.consent import verify_recording
    from engines.voices.embedding import embed

    phrase, statement = consent["phrase"].strip(), consent["statement"]
    if not phrase or phrase.lower() not in statement.lower():
        return "its phrase is not part of its statement"
    if any(c["entry"] == consent["entry"] for c in clips):
        return "it is one of the voice's reference clips, not a reading of the statement"
    try:
        audio = _decode(file, consent["entry"], consent["data"])
        result = verify_recording(audio, embed(audio), voice_embedding, phrase)
    except BadInput as exc:
        return str(exc).rstrip(".")
    if not result.accepted:
        return _consent_problem(result, phrase)
    consent.update(
        similarity=result.similarity, threshold=result.threshold, transcript=result.transcript
    )
    return None
