"""Export a voice to one file and import it back, safely.

The file is a zip holding ``manifest.json`` and content-addressed members::

    clips/<sha256>.flac        clean reference speech and the consent recording
    originals/<sha256>.<ext>   the recordings as the user gave them
    clones/<sha256>.npy|.bin   clone artefacts (numpy arrays are read with allow_pickle=False)

Import trusts nothing in the file: every member name must match that pattern (so ``../``,
absolute paths and stray files are refused before anything is written), every member must be
named in the manifest and hash to its name, sizes are bounded, audio must decode, and the
library writes files only under names it computes from their content. Nothing is executed.
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
from pathlib import Path
from typing import Any

import numpy as np

from engines.errors import BadInput
from engines.voices.embedding import DIM
from engines.voices.library import (
    KIND_RE,
    Voice,
    VoiceLibrary,
    _blob_vec,
    _npy_load,
    _vec_blob,
    check_name,
)
from engines.voices.prepare import PrepareReport

FORMAT = "timbre-voice"
VERSION = 1
SUFFIX = ".timbrevoice"
MAX_BYTES = 2 << 30
MAX_ENTRIES = 512
MAX_MANIFEST = 4 << 20
_ENTRY = re.compile(
    r"(?:clips|originals)/[0-9a-f]{64}\.(?:wav|flac|ogg|mp3)|clones/[0-9a-f]{64}\.(?:bin|npy)"
)


def export_voice(lib: VoiceLibrary, name: str, path: Path) -> Path:
    """Write ``name`` to ``path`` (a zip); written to a temp file and renamed."""
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
    tmp = path.with_name(f".{path.name}.part")
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("manifest.json", json.dumps(manifest, indent=1, ensure_ascii=False))
            for entry, source in members.items():
                data = source.read_bytes() if isinstance(source, Path) else source
                zf.writestr(entry, data, compress_type=zipfile.ZIP_STORED)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


# -- import ---------------------------------------------------------------------------


def _bad(file: Path, why: str) -> BadInput:
    return BadInput(f"{file.name} is not a voice file this app can import: {why}.")


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

    def number(self, d: dict, key: str, where: str) -> float:
        value = d.get(key)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise _bad(self.file, f"{where}.{key} must be a finite number")
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


def _read_members(file: Path) -> tuple[dict, dict[str, bytes]]:
    try:
        zf = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _bad(file, f"it is not a voice export ({exc})") from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ENTRIES:
            raise _bad(file, f"it holds {len(infos)} files (at most {MAX_ENTRIES})")
        if sum(i.file_size for i in infos) > MAX_BYTES:
            raise _bad(file, "it unpacks to more than 2 GB")
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
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise _bad(file, f"its manifest is damaged ({exc})") from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise _bad(file, f"its manifest is not valid JSON ({exc})") from exc
        blobs = {}
        for info in infos:
            if info.filename == "manifest.json":
                continue
            try:  # sizes were checked above; zipfile stops at the declared size and CRC
                data = zf.read(info)
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                raise _bad(file, f"{info.filename} is damaged ({exc})") from exc
            digest = hashlib.sha256(data).hexdigest()
            if digest != info.filename.split("/")[1].split(".")[0]:
                raise _bad(file, f"{info.filename} is damaged (its checksum does not match)")
            blobs[info.filename] = data
    return manifest, blobs


def _check_audio(file: Path, entry: str, data: bytes) -> None:
    import soundfile as sf

    try:
        info = sf.info(io.BytesIO(data))
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise _bad(file, f"{entry} is not readable audio") from exc
    if info.frames <= 0:
        raise _bad(file, f"{entry} holds no audio")


def import_voice(lib: VoiceLibrary, file: Path, name: str | None = None) -> Voice:
    """Validate ``file`` completely, then add its voice (as ``name`` when given)."""
    if not file.is_file():
        raise BadInput(f"{file} does not exist or is not a file. Check the path and try again.")
    manifest, blobs = _read_members(file)
    r = _Reader(file)
    manifest = r.obj(manifest, "manifest")
    if manifest.get("format") != FORMAT:
        raise _bad(file, "its manifest is not a Timbre voice manifest")
    if manifest.get("version") != VERSION:
        raise _bad(
            file, f"it is format version {manifest.get('version')!r}; this app reads {VERSION}"
        )
    voice = r.obj(manifest.get("voice"), "voice")
    new_name = check_name(name or r.text(voice, "name", "voice", 80) or "")
    tags = voice.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and len(t) <= 100 for t in tags):
        raise _bad(file, "voice.tags must be a list of short texts")
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
    clips = []
    for i, c in enumerate(clips_in):
        where = f"clips[{i}]"
        c = r.obj(c, where)
        entry = r.member(c, "file", where, "clips")
        if not entry.endswith(".flac"):
            raise _bad(file, f"{where}.file must be a FLAC clip")
        original = r.member(c, "original", where, "originals", optional=True)
        report = r.obj(c.get("report"), f"{where}.report")
        try:
            report_obj = PrepareReport.from_dict(report)
        except TypeError as exc:
            raise _bad(file, f"{where}.report is incomplete ({exc})") from exc
        clips.append(
            {
                "data": blob(entry),
                "original": blob(original),
                "original_ext": original.rsplit(".", 1)[1] if original else None,
                "source_name": r.text(c, "source_name", where, 500),
                "duration": r.number(c, "duration", where),
                "embedding": r.vector(c, "embedding", where),
                "report": report_obj.to_dict(),
            }
        )
    consent = None
    if manifest.get("consent") is not None:
        c = r.obj(manifest["consent"], "consent")
        entry = r.member(c, "file", "consent", "clips")
        consent = {
            "data": blob(entry),
            "statement": r.text(c, "statement", "consent", 2000),
            "phrase": r.text(c, "phrase", "consent", 500),
            "similarity": r.number(c, "similarity", "consent"),
            "threshold": r.number(c, "threshold", "consent"),
            "transcript": r.text(c, "transcript", "consent", 5000, optional=True),
            "recorded": r.text(c, "recorded", "consent", 64),
        }
    clones = []
    clones_in = manifest.get("clones", [])
    if not isinstance(clones_in, list):
        raise _bad(file, "clones must be a list")
    for i, c in enumerate(clones_in):
        where = f"clones[{i}]"
        c = r.obj(c, where)
        kind = r.text(c, "kind", where, 64)
        if not KIND_RE.match(kind):
            raise _bad(file, f"{where}.kind '{kind}' is not a clone kind")
        entry = r.member(c, "file", where, "clones")
        data = blob(entry)
        encoding = "npy" if entry.endswith(".npy") else "bytes"
        if encoding == "npy":
            _npy_load(data)  # refuses pickled object arrays
        clones.append(
            {
                "kind": kind,
                "encoding": encoding,
                "data": data,
                "meta": json.dumps(r.obj(c.get("meta", {}), f"{where}.meta"), sort_keys=True),
                "updated": r.text(c, "updated", where, 64),
            }
        )
    unused = set(blobs) - used
    if unused:
        raise _bad(file, f"it contains files its manifest does not name ({sorted(unused)[0]})")
    for entry, data in blobs.items():
        if not entry.startswith("clones/"):
            _check_audio(file, entry, data)

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
