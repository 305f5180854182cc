"""The voice library: one SQLite database per user, shared by every project.

Layout under ``engines.paths.data_dir() / "voices"``::

    library.sqlite        voices, clips, consent, statements, clones
    blobs/ab/<sha256>.flac  clean reference clips, stored once by content
    blobs/cd/<sha256>.wav   original recordings as the user gave them

A blob is deleted only when no row refers to it any more, so two voices made from the
same recording share one file. Export writes a voice to one zip file with a JSON manifest;
import checks every entry against the manifest and every file against its SHA-256 before
anything is stored, writes files only under names it computes itself, and never unpickles.

API used by the speech engines (keep it small)::

    lib = open_library()
    voice = lib.get("Ada")                  # Voice: name, language, embedding, clips, consent
    ref = lib.reference_audio("Ada")        # AudioClip, clean speech at −23 LUFS, 24 kHz
    lib.require_consent("Ada")              # raises ConsentRequired with a clear sentence
    lib.set_clone("Ada", "kokoro-style", vector, {"similarity": 0.8})
    clone = lib.get_clone("Ada", "kokoro-style")   # Clone(kind, data, meta) or None
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import math
import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engines.audio import AudioClip
from engines.audio_io import IMPORT_EXTENSIONS
from engines.blobs import SchemaTooNewError, connect, migrate, put_audio, put_bytes
from engines.cancel import CancelToken, Progress
from engines.errors import BadInput
from engines.voices.consent import (
    ConsentCheck,
    ConsentRefused,
    ConsentRequired,
    Statement,
)
from engines.voices.embedding import DIM, cosine, mean_embedding
from engines.voices.prepare import DEFAULT_LUFS, PreparedReference, PrepareReport

ProgressFn = Callable[[Progress], None]

AUDIO_EXTS = IMPORT_EXTENSIONS  # an original keeps its own extension
KIND_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")

# Clone artefacts are read back by the speech engines, so every one is checked on the way in
# (import) and on the way out (get_clone): a crafted array or meta field then costs one
# sentence, not a crash in ``timbre speak --voice``.
MAX_CLONE_BYTES = 32 << 20  # a Kokoro style table is 0.5 MB, a Piper config a few kB
MAX_META_BYTES = 64 << 10
MAX_META_DEPTH = 4
KOKORO_STYLE = "kokoro-style"  # engines.speech.voices.CLONE_KIND: a 510×256 float table
KOKORO_STYLE_SIZE = 510 * 256
PIPER = "piper"  # engines.banking.voice_import.CLONE_KIND: a Piper config (JSON bytes)
MAX_SEMITONES = 24.0
CLONE_ENGINES = ("kokoro", "piper", "espeak")  # what a kokoro-style clone may speak through
PIPER_VOICE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # an imported voice's name
ESPEAK_VOICE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}(\+[A-Za-z0-9][A-Za-z0-9_-]{0,31})?")
MAX_EQ_DB = 12.0  # a clone's equaliser gains (fitted within ±10 dB)
MAX_EQ_BANDS = 64

MIGRATIONS = [  # engines.blobs.migrate: append new steps, never edit released ones
    """
CREATE TABLE IF NOT EXISTS voices (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    language TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]',
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS clips (
    id INTEGER PRIMARY KEY,
    voice_id INTEGER NOT NULL REFERENCES voices(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    original_sha256 TEXT,
    original_ext TEXT,
    source_name TEXT NOT NULL,
    duration REAL NOT NULL,
    embedding BLOB NOT NULL,
    report TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS consent (
    voice_id INTEGER PRIMARY KEY REFERENCES voices(id) ON DELETE CASCADE,
    sha256 TEXT NOT NULL,
    statement TEXT NOT NULL,
    phrase TEXT NOT NULL,
    similarity REAL NOT NULL,
    threshold REAL NOT NULL,
    transcript TEXT,
    recorded TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS statements (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    text TEXT NOT NULL,
    phrase TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS clones (
    voice_id INTEGER NOT NULL REFERENCES voices(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    encoding TEXT NOT NULL CHECK (encoding IN ('bytes', 'npy')),
    data BLOB NOT NULL,
    meta TEXT NOT NULL,
    updated TEXT NOT NULL,
    PRIMARY KEY (voice_id, kind)
);
""",
]


@dataclass(frozen=True)
class ReferenceClip:
    sha256: str
    path: Path  # clean speech (FLAC)
    source_name: str
    duration: float
    embedding: np.ndarray = field(repr=False)
    report: PrepareReport = field(repr=False)
    original_path: Path | None


@dataclass(frozen=True)
class ConsentRecord:
    path: Path
    statement: str
    phrase: str
    similarity: float
    threshold: float
    transcript: str | None
    recorded: str


@dataclass(frozen=True)
class Clone:
    kind: str
    data: bytes | np.ndarray = field(repr=False)
    meta: dict
    updated: str


@dataclass(frozen=True)
class Voice:
    name: str
    language: str
    notes: str
    tags: tuple[str, ...]
    created: str
    clips: tuple[ReferenceClip, ...]
    consent: ConsentRecord | None
    clone_kinds: tuple[str, ...]

    @property
    def embedding(self) -> np.ndarray:
        """The normalised mean of the clips' embeddings (unit length, 256-d)."""
        return mean_embedding([c.embedding for c in self.clips])

    @property
    def has_consent(self) -> bool:
        return self.consent is not None

    @property
    def speech_duration(self) -> float:
        return sum(c.duration for c in self.clips)


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _vec_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, "<f4").reshape(-1).tobytes()


def _blob_vec(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, "<f4").astype(np.float32)


def _npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(array), allow_pickle=False)
    return buf.getvalue()


def _npy_load(data: bytes) -> np.ndarray:
    """An array from ``.npy`` bytes: no pickles, and the header's shape must match the data
    (numpy allocates the declared shape before reading, so a header claiming 10¹² numbers
    would otherwise ask for terabytes)."""
    fmt = np.lib.format
    buf = io.BytesIO(data)
    try:
        version = fmt.read_magic(buf)
        read_header = {(1, 0): fmt.read_array_header_1_0, (2, 0): fmt.read_array_header_2_0}
        if version not in read_header:
            raise ValueError(f"npy format version {version} is not supported")
        shape, _fortran, dtype = read_header[version](buf)
        if dtype.hasobject:
            raise ValueError("it holds Python objects, which are never unpickled")
        if math.prod(shape) * dtype.itemsize != len(data) - buf.tell():
            raise ValueError("its size does not match the shape in its header")
        buf.seek(0)
        return np.load(buf, allow_pickle=False)
    except (ValueError, EOFError, OSError) as exc:
        raise BadInput(f"A stored array could not be read safely: {exc}.") from exc


def _check_json(value: Any, where: str, depth: int = 0) -> None:
    """Plain JSON only: bounded depth, finite numbers, short texts (ValueError otherwise)."""
    if depth > MAX_META_DEPTH:
        raise ValueError(f"{where} is nested more than {MAX_META_DEPTH} levels deep")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or len(key) > 100:
                raise ValueError(f"{where} has a key that is not a short text")
            _check_json(item, f"{where}.{key}", depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_json(item, f"{where}[{i}]", depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where} is not a finite number")
    elif isinstance(value, str) and len(value) > 10_000:
        raise ValueError(f"{where} is too long")
    elif value is not None and not isinstance(value, str | int | float):
        raise ValueError(f"{where} is not plain JSON")


def _meta_number(meta: dict, key: str, low: float, high: float) -> None:
    value = meta.get(key)
    if value is None:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not low <= value <= high
    ):
        raise ValueError(f"meta.{key} must be a number from {low:g} to {high:g}")


def _check_eq(eq: Any) -> None:
    """A clone's equaliser (``engines.speech.spectral_eq``): matching lists of band centres
    (Hz, rising, 20 Hz–24 kHz) and gains (dB, within ±``MAX_EQ_DB``)."""
    if eq is None:
        return
    if not isinstance(eq, dict) or not isinstance(eq.get("hz"), list) or not isinstance(eq.get("db"), list):
        raise ValueError("meta.eq must hold lists hz and db")
    hz, db = eq["hz"], eq["db"]
    if not 1 <= len(hz) <= MAX_EQ_BANDS or len(db) != len(hz):
        raise ValueError(f"meta.eq must hold 1 to {MAX_EQ_BANDS} bands, as many gains as centres")
    for key, values, low, high in (("hz", hz, 20.0, 24000.0), ("db", db, -MAX_EQ_DB, MAX_EQ_DB)):
        for value in values:
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or not low <= value <= high
            ):
                raise ValueError(f"meta.eq.{key} must hold numbers from {low:g} to {high:g}")
    if any(b <= a for a, b in zip(hz, hz[1:], strict=False)):
        raise ValueError("meta.eq.hz must rise from band to band")


def _check_speaker(meta: dict) -> None:
    """The engine and voice a style clone speaks through (``engines.speech.clone``): Kokoro
    (the table itself; clones made before other engines were tried have no ``engine``),
    a Piper voice of the model store by its name, or an espeak-ng voice id. Only these
    names are ever looked up; nothing in them is run."""
    engine = meta.get("engine", "kokoro")
    if engine not in CLONE_ENGINES:
        raise ValueError(f"meta.engine must be one of {', '.join(CLONE_ENGINES)}")
    if engine == "kokoro":
        return
    voice = meta.get("voice")
    pattern = PIPER_VOICE_RE if engine == "piper" else ESPEAK_VOICE_RE
    if not isinstance(voice, str) or not pattern.fullmatch(voice):
        raise ValueError(f"meta.voice must name a {engine} voice")


def check_clone(kind: str, encoding: str, data: bytes, meta: Any) -> bytes | np.ndarray:
    """The clone's data decoded and checked for its kind, or ``ValueError`` saying why not.

    Arrays are read with ``allow_pickle=False`` and must be plain numbers; the kinds the
    speech engines read (Kokoro style tables, Piper configs) must have their exact shape,
    and the meta fields those engines turn into numbers must be numbers in range.
    """
    if not KIND_RE.match(kind):
        raise ValueError(f"'{kind}' is not a clone kind")
    if not isinstance(meta, dict):
        raise ValueError("meta must be an object")
    _check_json(meta, "meta")
    if len(json.dumps(meta)) > MAX_META_BYTES:
        raise ValueError(f"meta is larger than {MAX_META_BYTES >> 10} kB")
    if len(data) > MAX_CLONE_BYTES:
        raise ValueError(f"its data is larger than {MAX_CLONE_BYTES >> 20} MB")
    decoded: bytes | np.ndarray
    if encoding == "npy":
        try:
            decoded = _npy_load(data)
        except BadInput as exc:
            raise ValueError(str(exc).rstrip(".")) from exc
        if decoded.dtype.kind not in "fiu" or decoded.ndim > 4:
            raise ValueError(f"its array holds {decoded.dtype} values, not plain numbers")
        if decoded.dtype.kind == "f" and not np.all(np.isfinite(decoded)):
            raise ValueError("its array holds invalid numbers (NaN or infinity)")
    elif encoding == "bytes":
        decoded = bytes(data)
    else:
        raise ValueError(f"'{encoding}' is not a clone encoding")

    if kind == KOKORO_STYLE:
        if (
            not isinstance(decoded, np.ndarray)
            or decoded.dtype.kind != "f"
            or decoded.size != KOKORO_STYLE_SIZE
        ):
            raise ValueError("a Kokoro style must be a 510×256 table of numbers")
        base = meta.get("base")
        if base is not None and (not isinstance(base, str) or len(base) > 64):
            raise ValueError("meta.base must be a voice name")
        _meta_number(meta, "pitch_offset", -MAX_SEMITONES, MAX_SEMITONES)
        world = meta.get("world")
        if world:
            if not isinstance(world, dict) or "pitch" not in world or "warp" not in world:
                raise ValueError("meta.world must hold a pitch and a warp")
            _meta_number(world, "pitch", -MAX_SEMITONES, MAX_SEMITONES)
            _meta_number(world, "warp", 0.25, 4.0)
        _check_eq(meta.get("eq"))
        _check_speaker(meta)
    elif kind == PIPER:
        if not isinstance(decoded, bytes):
            raise ValueError("a Piper clone must be its config file")
        try:
            config = json.loads(decoded.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ValueError("its Piper config is not valid JSON") from exc
        if not isinstance(config, dict):
            raise ValueError("its Piper config must be a JSON object")
        model = meta.get("piper_voice")
        if not isinstance(model, str) or len(model) > 200:
            raise ValueError("meta.piper_voice must name a Piper voice")
    return decoded


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 80 or any(ord(ch) < 32 for ch in name):
        raise BadInput(
            f"'{name}' is not a usable voice name; use 1–80 printable characters, e.g. 'Ada'."
        )
    return name


class VoiceLibrary:
    """The user's voices. Every method opens its own short connection (thread-safe)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.blobs = self.root / "blobs"
        self.blobs.mkdir(parents=True, exist_ok=True)
        self.db_path = self.root / "library.sqlite"
        db = connect(self.db_path, timeout=15)
        try:
            migrate(db, MIGRATIONS, backup=self.db_path)
        except SchemaTooNewError as exc:
            raise BadInput(f"The voice library {self.root} was written by a newer Timbre "
                           f"Studio ({exc}). Update Timbre Studio to use it.") from exc
        finally:
            db.close()

    # -- storage plumbing -------------------------------------------------------------

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = connect(self.db_path, timeout=15)
        try:
            with db:
                yield db
        finally:
            db.close()

    def _blob_path(self, sha: str, ext: str) -> Path:
        return self.blobs / sha[:2] / f"{sha}.{ext}"

    def _put_blob(self, data: bytes, ext: str) -> str:
        return put_bytes(data, self.blobs, lambda sha: self._blob_path(sha, ext))

    def _put_clip(self, clip: AudioClip) -> str:
        return put_audio(clip, self.blobs, lambda sha: self._blob_path(sha, "flac"))

    def _collect_garbage(self, db: sqlite3.Connection, shas: set[str]) -> None:
        """Delete blob files no row refers to any more (the refcount is the query)."""
        for sha in shas:
            used = db.execute(
                "SELECT (SELECT COUNT(*) FROM clips WHERE sha256 = ?1 OR original_sha256 = ?1)"
                " + (SELECT COUNT(*) FROM consent WHERE sha256 = ?1)",
                (sha,),
            ).fetchone()[0]
            if not used:
                for path in (self.blobs / sha[:2]).glob(f"{sha}.*"):
                    path.unlink(missing_ok=True)

    def _voice_id(self, db: sqlite3.Connection, name: str) -> int:
        row = db.execute("SELECT id FROM voices WHERE name = ?", (name,)).fetchone()
        if row is None:
            known = [r[0] for r in db.execute("SELECT name FROM voices ORDER BY name")]
            hint = f" Voices in the library: {', '.join(known)}." if known else ""
            raise BadInput(
                f"There is no voice called '{name}' in the library (timbre voice list).{hint}"
            )
        return int(row[0])

    # -- reading ----------------------------------------------------------------------

    def names(self) -> list[str]:
        with self._db() as db:
            return [
                r[0] for r in db.execute("SELECT name FROM voices ORDER BY name COLLATE NOCASE")
            ]

    def exists(self, name: str) -> bool:
        with self._db() as db:
            return db.execute("SELECT 1 FROM voices WHERE name = ?", (name,)).fetchone() is not None

    def get(self, name: str) -> Voice:
        with self._db() as db:
            vid = self._voice_id(db, name)
            row = db.execute("SELECT * FROM voices WHERE id = ?", (vid,)).fetchone()
            clips = tuple(
                self._clip_from_row(row["name"], c)
                for c in db.execute(
                    "SELECT * FROM clips WHERE voice_id = ? ORDER BY position", (vid,)
                )
            )
            c = db.execute("SELECT * FROM consent WHERE voice_id = ?", (vid,)).fetchone()
            consent = (
                ConsentRecord(
                    self._blob_path(c["sha256"], "flac"),
                    c["statement"],
                    c["phrase"],
                    c["similarity"],
                    c["threshold"],
                    c["transcript"],
                    c["recorded"],
                )
                if c
                else None
            )
            kinds = tuple(
                r[0]
                for r in db.execute(
                    "SELECT kind FROM clones WHERE voice_id = ? ORDER BY kind", (vid,)
                )
            )
        try:
            tags = json.loads(row["tags"])
        except ValueError:
            tags = None
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise self._damaged(row["name"], "its tags are not a list of texts")
        return Voice(
            name=row["name"],
            language=row["language"],
            notes=row["notes"],
            tags=tuple(tags),
            created=row["created"],
            clips=clips,
            consent=consent,
            clone_kinds=kinds,
        )

    @staticmethod
    def _damaged(name: str, why: str) -> BadInput:
        return BadInput(
            f"The voice '{name}' in the library is damaged ({why}); remove it "
            f"(timbre voice remove {name!r}) and add or import it again."
        )

    def _clip_from_row(self, name: str, c: sqlite3.Row) -> ReferenceClip:
        """A stored clip, its report and embedding checked: a bad row is one sentence."""
        try:
            report = PrepareReport.from_dict(json.loads(c["report"]))
        except (ValueError, TypeError) as exc:
            raise self._damaged(name, f"a clip's report is not valid: {exc}") from exc
        blob = c["embedding"]
        if not isinstance(blob, bytes) or len(blob) != DIM * 4:
            raise self._damaged(name, "a clip's speaker embedding is not 256 numbers")
        embedding = _blob_vec(blob)
        if not np.all(np.isfinite(embedding)):
            raise self._damaged(name, "a clip's speaker embedding holds invalid numbers")
        duration = c["duration"]
        if not isinstance(duration, int | float) or not math.isfinite(duration) or duration < 0:
            raise self._damaged(name, "a clip's duration is not a number of seconds")
        return ReferenceClip(
            sha256=c["sha256"],
            path=self._blob_path(c["sha256"], "flac"),
            source_name=c["source_name"],
            duration=float(duration),
            embedding=embedding,
            report=report,
            original_path=(
                self._blob_path(c["original_sha256"], c["original_ext"])
                if c["original_sha256"]
                else None
            ),
        )

    def voices(self) -> list[Voice]:
        return [self.get(n) for n in self.names()]

    def reference_clips(self, name: str) -> list[AudioClip]:
        from engines.audio_io import read_audio

        return [read_audio(c.path) for c in self.get(name).clips]

    def reference_audio(self, name: str) -> AudioClip:
        """All of a voice's clean reference speech as one mono clip."""
        clips = self.reference_clips(name)
        rate = clips[0].sample_rate
        return AudioClip(
            np.concatenate([c.mono().resampled(rate).samples for c in clips], axis=1), rate
        )

    def embedding(self, name: str) -> np.ndarray:
        return self.get(name).embedding

    def closest(
        self, embedding: np.ndarray, k: int = 5, exclude: str | None = None
    ) -> list[tuple[str, float]]:
        """The ``k`` library voices most similar to ``embedding``, best first."""
        scores = [
            (v.name, cosine(embedding, v.embedding))
            for v in self.voices()
            if v.clips and (exclude is None or v.name.lower() != exclude.lower())
        ]
        return sorted(scores, key=lambda s: -s[1])[:k]

    # -- adding and editing -----------------------------------------------------------

    def add(
        self,
        name: str,
        references: Sequence[str | Path],
        *,
        language: str = "",
        notes: str = "",
        tags: Sequence[str] = (),
        target_lufs: float = DEFAULT_LUFS,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> Voice:
        """Clean each reference recording and store the voice; nothing is kept on error."""
        from engines.voices.prepare import prepare_reference

        name = check_name(name)
        if not references:
            raise BadInput("Give at least one reference recording of the voice.")
        if self.exists(name):
            raise BadInput(
                f"A voice called '{name}' already exists; choose another name or remove it first."
            )
        prepared = []
        for i, ref in enumerate(references):
            if progress is not None:
                progress(Progress(i, len(references), f"cleaning {Path(ref).name}"))
            prepared.append(
                (Path(ref), prepare_reference(ref, target_lufs=target_lufs, cancel=cancel))
            )
        if progress is not None:
            progress(Progress(len(references), len(references), "storing"))
        with self._db() as db:
            cur = db.execute(
                "INSERT INTO voices (name, language, notes, tags, created) VALUES (?,?,?,?,?)",
                (name, language.strip(), notes, json.dumps(list(tags)), _now()),
            )
            vid = int(cur.lastrowid)
            for pos, (path, prep) in enumerate(prepared):
                ext = path.suffix.lstrip(".").lower()
                ext = ext if ext in AUDIO_EXTS else "wav"
                original = self._put_blob(path.read_bytes(), ext)
                self._insert_clip(db, vid, pos, prep, original, ext, path.name)
        return self.get(name)

    def _insert_clip(
        self,
        db: sqlite3.Connection,
        vid: int,
        pos: int,
        prep: PreparedReference,
        original_sha: str | None,
        original_ext: str | None,
        source_name: str,
    ) -> None:
        db.execute(
            "INSERT INTO clips (voice_id, position, sha256, original_sha256, original_ext,"
            " source_name, duration, embedding, report) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                vid,
                pos,
                self._put_clip(prep.clip),
                original_sha,
                original_ext,
                source_name,
                prep.clip.duration,
                _vec_blob(prep.embedding),
                json.dumps(prep.report.to_dict()),
            ),
        )

    def update(
        self,
        name: str,
        *,
        language: str | None = None,
        notes: str | None = None,
        tags: Sequence[str] | None = None,
    ) -> Voice:
        with self._db() as db:
            vid = self._voice_id(db, name)
            if language is not None:
                db.execute("UPDATE voices SET language = ? WHERE id = ?", (language.strip(), vid))
            if notes is not None:
                db.execute("UPDATE voices SET notes = ? WHERE id = ?", (notes, vid))
            if tags is not None:
                db.execute("UPDATE voices SET tags = ? WHERE id = ?", (json.dumps(list(tags)), vid))
        return self.get(name)

    def rename(self, old: str, new: str) -> Voice:
        new = check_name(new)
        with self._db() as db:
            vid = self._voice_id(db, old)
            clash = db.execute("SELECT id FROM voices WHERE name = ?", (new,)).fetchone()
            if clash is not None and int(clash[0]) != vid:
                raise BadInput(f"A voice called '{new}' already exists; choose another name.")
            db.execute("UPDATE voices SET name = ? WHERE id = ?", (new, vid))
        return self.get(new)

    def remove(self, name: str) -> None:
        """Delete a voice; its files go only when no other voice uses them."""
        with self._db() as db:
            vid = self._voice_id(db, name)
            shas = {
                s
                for row in db.execute(
                    "SELECT sha256, original_sha256 FROM clips WHERE voice_id = ?", (vid,)
                )
                for s in row
                if s
            }
            shas |= {
                r[0] for r in db.execute("SELECT sha256 FROM consent WHERE voice_id = ?", (vid,))
            }
            db.execute("DELETE FROM voices WHERE id = ?", (vid,))
            db.execute("DELETE FROM statements WHERE name = ?", (name,))
            self._collect_garbage(db, shas)

    # -- consent ----------------------------------------------------------------------

    def statement(self, name: str, renew: bool = False) -> Statement:
        """The statement the speaker must read; kept until it is used or renewed.

        ``name`` need not be in the library yet, so a consent recording can be made before
        ``timbre voice add NAME REF --consent WAV``.
        """
        from engines.voices.consent import new_statement

        name = check_name(name)
        with self._db() as db:
            row = db.execute("SELECT * FROM statements WHERE name = ?", (name,)).fetchone()
            if row is not None and not renew:
                return Statement(name, row["text"], row["phrase"], row["created"])
            made = new_statement(name)
            db.execute(
                "INSERT OR REPLACE INTO statements (name, text, phrase, created) VALUES (?,?,?,?)",
                (name, made.text, made.phrase, made.created),
            )
        return made

    def pending_statement(self, name: str) -> Statement | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM statements WHERE name = ?", (name,)).fetchone()
        return Statement(name, row["text"], row["phrase"], row["created"]) if row else None

    def record_consent(
        self,
        name: str,
        recording: str | Path,
        *,
        check_phrase: bool | None = None,
        cancel: CancelToken | None = None,
    ) -> ConsentCheck:
        """Check a consent recording against the voice and store it when it passes.

        ``check_phrase`` None means "when the recogniser is installed". Raises
        :class:`ConsentRefused` with the reason when the recording does not pass.
        """
        from engines.voices.consent import verify_recording
        from engines.voices.prepare import prepare_reference

        voice = self.get(name)
        statement = self.pending_statement(voice.name)
        if statement is None:
            raise ConsentRefused(
                f"No statement was generated for '{voice.name}'; run timbre voice statement "
                f"{voice.name!r}, have the speaker read it aloud, and record that."
            )
        prep = prepare_reference(recording, cancel=cancel)
        result = verify_recording(
            prep.clip, prep.embedding, voice.embedding, statement.phrase, check_phrase
        )
        if not result.accepted:
            raise ConsentRefused(result.reason(voice.name))
        with self._db() as db:
            vid = self._voice_id(db, voice.name)
            old = {
                r[0] for r in db.execute("SELECT sha256 FROM consent WHERE voice_id = ?", (vid,))
            }
            db.execute(
                "INSERT OR REPLACE INTO consent (voice_id, sha256, statement, phrase, similarity,"
                " threshold, transcript, recorded) VALUES (?,?,?,?,?,?,?,?)",
                (
                    vid,
                    self._put_clip(prep.clip),
                    statement.text,
                    statement.phrase,
                    result.similarity,
                    result.threshold,
                    result.transcript,
                    _now(),
                ),
            )
            db.execute("DELETE FROM statements WHERE name = ?", (voice.name,))
            self._collect_garbage(db, old)
        return result

    def require_consent(self, name: str) -> Voice:
        """The voice, or :class:`ConsentRequired` saying how to give consent."""
        voice = self.get(name)
        if voice.consent is None:
            raise ConsentRequired(
                f"The voice '{voice.name}' has no consent recording, so it cannot be cloned; "
                f"run timbre voice statement {voice.name!r}, record the speaker reading it, "
                f"then timbre voice consent {voice.name!r} RECORDING.wav."
            )
        return voice

    # -- clones (artefacts the speech engines store per voice) -------------------------

    def set_clone(
        self, name: str, kind: str, data: bytes | np.ndarray, meta: dict | None = None
    ) -> None:
        """Store a clone artefact (e.g. a Kokoro style vector); needs consent."""
        if not KIND_RE.match(kind):
            raise BadInput(f"'{kind}' is not a clone kind; use lower-case letters, digits, - _ .")
        self.require_consent(name)
        if isinstance(data, np.ndarray):
            encoding, payload = "npy", _npy_bytes(data)
        elif isinstance(data, bytes | bytearray):
            encoding, payload = "bytes", bytes(data)
        else:
            raise BadInput("A clone is stored as bytes or a numpy array.")
        try:
            check_clone(kind, encoding, payload, meta or {})
        except ValueError as exc:
            raise BadInput(f"The '{kind}' clone cannot be stored: {exc}.") from exc
        meta_json = json.dumps(meta or {}, sort_keys=True)
        with self._db() as db:
            vid = self._voice_id(db, name)
            db.execute(
                "INSERT OR REPLACE INTO clones (voice_id, kind, encoding, data, meta, updated)"
                " VALUES (?,?,?,?,?,?)",
                (vid, kind, encoding, payload, meta_json, _now()),
            )

    def get_clone(self, name: str, kind: str) -> Clone | None:
        with self._db() as db:
            vid = self._voice_id(db, name)
            row = db.execute(
                "SELECT * FROM clones WHERE voice_id = ? AND kind = ?", (vid, kind)
            ).fetchone()
        if row is None:
            return None
        try:
            meta = json.loads(row["meta"])
            data = check_clone(kind, row["encoding"], bytes(row["data"]), meta)
        except (ValueError, TypeError) as exc:
            raise BadInput(
                f"The stored '{kind}' clone of the voice '{name}' is damaged ({exc}); make it "
                f"again (timbre voice clone {name!r}, or timbre bank import-voice for a banked "
                "voice)."
            ) from exc
        return Clone(kind, data, meta, row["updated"])


def open_library(root: str | Path | None = None) -> VoiceLibrary:
    """The user's voice library (``TIMBRE_DATA_DIR``/voices unless ``root`` is given)."""
    from engines.paths import data_dir

    return VoiceLibrary(Path(root) if root is not None else data_dir() / "voices")
