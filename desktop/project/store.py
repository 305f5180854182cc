"""The project store: ``NAME.timbre/`` = ``project.db`` (SQLite) + ``audio/`` (by sha256).

Crash safety comes from ordering. Audio is written to a temporary file, fsynced and renamed
to its content hash *before* the rows that point at it are inserted in one transaction; a
crash in between leaves only an unreferenced file, which the next open removes. SQLite runs
in WAL mode with foreign keys on, so a killed commit simply never happened. Jobs still
"running" when the app died are marked failed on open; a take is only ever inserted whole.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from desktop.project.errors import (
    ProjectCorrupt,
    ProjectError,
    ProjectExists,
    ProjectNotFound,
    ProjectReadOnly,
    SchemaTooNew,
)
from desktop.project.models import Clip, Job, Marker, Take, Track
from desktop.project.schema import LATEST, MIGRATIONS
from engines.blobs import connect

SUFFIX = ".timbre"
DB_NAME = "project.db"
AUDIO_DIR = "audio"
DEFAULT_RATE = 48_000
DEFAULT_CHANNELS = 2

TRACK_FIELDS = ("name", "position", "gain_db", "pan", "mute", "solo")
CLIP_FIELDS = (
    "track_id",
    "take_id",
    "start_frame",
    "offset_frame",
    "length_frames",
    "gain_db",
    "fade_in_frames",
    "fade_out_frames",
)
EDITABLE = {"tracks": TRACK_FIELDS, "clips": CLIP_FIELDS, "markers": ("frame", "label", "kind")}


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def project_path(path: str | os.PathLike[str]) -> Path:
    """``foo`` and ``foo.timbre`` name the same project folder."""
    p = Path(path).expanduser()
    return p if p.suffix == SUFFIX else p.with_name(p.name + SUFFIX)


class Project:
    """An open project. Thread-safe for writes (one lock); reads are cheap."""

    def __init__(self, path: Path, db: sqlite3.Connection) -> None:
        self.path = path
        self.db = db
        self._lock = threading.RLock()
        self._load_audio = lru_cache(maxsize=64)(self._read_audio)

    # ---- opening -------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        sample_rate: int = DEFAULT_RATE,
        channels: int = DEFAULT_CHANNELS,
    ) -> Project:
        folder = project_path(path)
        if (folder / DB_NAME).exists():
            raise ProjectExists(f"A project already exists at {folder}. Open it instead.")
        parent = folder.parent
        if not parent.exists():
            raise ProjectError(f"The folder {parent} does not exist. Create it first.")
        if not os.access(parent, os.W_OK):
            raise ProjectReadOnly(
                f"Cannot create a project in {parent}: the folder is read-only. "
                "Choose a folder you can write to."
            )
        (folder / AUDIO_DIR).mkdir(parents=True, exist_ok=True)
        project = cls._connect(folder)
        with project.transaction():
            project._set_meta("name", folder.stem)
            project._set_meta("created", now())
            project._set_meta("sample_rate", str(sample_rate))
            project._set_meta("channels", str(channels))
        return project

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Project:
        folder = project_path(path)
        if not (folder / DB_NAME).is_file():
            if Path(path).is_dir() and (Path(path) / DB_NAME).is_file():
                folder = Path(path)
            else:
                raise ProjectNotFound(
                    f"There is no project at {folder}. Create one with: timbre project new {path}"
                )
        if not os.access(folder, os.W_OK) or not os.access(folder / DB_NAME, os.W_OK):
            raise ProjectReadOnly(
                f"The project {folder} is read-only (its folder or database cannot be "
                "written). Copy it to a folder you can write to, or fix its permissions."
            )
        (folder / AUDIO_DIR).mkdir(exist_ok=True)
        project = cls._connect(folder)
        project._recover()
        return project

    @classmethod
    def _connect(cls, folder: Path) -> Project:
        db_path = folder / DB_NAME
        try:
            db = connect(db_path, timeout=5.0, check_same_thread=False)
            db.isolation_level = None  # transactions are explicit (Project.transaction)
            db.execute("PRAGMA synchronous=FULL")
            version = db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise ProjectCorrupt(
                f"{db_path} is not a readable project database ({exc}). "
                "Restore it from a backup (project.db.v*.bak) if there is one."
            ) from exc
        if version > LATEST:
            db.close()
            raise SchemaTooNew(
                f"{folder.name} was saved by a newer Timbre Studio (project format {version}; "
                f"this version reads up to {LATEST}). Update Timbre Studio to open it."
            )
        project = cls(folder, db)
        if version < LATEST:
            project._migrate(version)
        return project

    def _migrate(self, version: int) -> None:
        if version > 0:  # an existing project: keep a copy before changing it
            backup = self.path / f"{DB_NAME}.v{version}.bak"
            dest = sqlite3.connect(backup)
            with dest:
                self.db.backup(dest)
            dest.close()
        for target in range(version, LATEST):
            # One script per step: schema change and version bump commit together or not at all.
            script = f"BEGIN IMMEDIATE;\n{MIGRATIONS[target]}\nPRAGMA user_version={target + 1};\nCOMMIT;"
            with self._lock:
                try:
                    self.db.executescript(script)
                except BaseException:
                    if self.db.in_transaction:
                        self.db.execute("ROLLBACK")
                    self.db.close()
                    raise

    def _recover(self) -> None:
        """After a crash: fail interrupted jobs, drop files no row points at."""
        with self.transaction():
            self.db.execute(
                "UPDATE jobs SET state='failed', finished=?, error=? "
                "WHERE state IN ('queued','running')",
                (now(), "Interrupted: Timbre Studio closed before this job finished. Run it again."),
            )
        known = {r[0] for r in self.db.execute("SELECT sha256 FROM audio_files")}
        for f in (self.path / AUDIO_DIR).iterdir():
            if f.is_file() and f.stem not in known:
                f.unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            try:
                self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass
            self.db.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def integrity_check(self) -> str:
        return str(self.db.execute("PRAGMA integrity_check").fetchone()[0])

    # ---- meta ----------------------------------------------------------------------
    def _set_meta(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self._set_meta(key, value)

    def get_state(self, key: str, default: Any = None) -> Any:
        """JSON-valued meta (view state such as zoom and scroll)."""
        raw = self.get_meta(key)
        return default if raw is None else json.loads(raw)

    def set_state(self, key: str, value: Any) -> None:
        self.set_meta(key, json.dumps(value))

    @property
    def name(self) -> str:
        return self.get_meta("name", self.path.stem) or self.path.stem

    @property
    def sample_rate(self) -> int:
        return int(self.get_meta("sample_rate", str(DEFAULT_RATE)) or DEFAULT_RATE)

    @property
    def channels(self) -> int:
        return int(self.get_meta("channels", str(DEFAULT_CHANNELS)) or DEFAULT_CHANNELS)

    # ---- audio files ---------------------------------------------------------------
    def audio_path(self, sha256: str) -> Path:
        return self.path / AUDIO_DIR / f"{sha256}.wav"

    def _write_audio_file(self, clip: Any) -> str:
        """Store float32 WAV under its sha256 (temp file, fsync, rename). Returns the hash."""
        from engines.blobs import put_audio

        return put_audio(clip, self.path / AUDIO_DIR, self.audio_path, "wav", "FLOAT")

    def _read_audio(self, sha256: str) -> Any:
        from engines.audio_io import read_audio

        return read_audio(self.audio_path(sha256))

    def load_audio(self, sha256: str) -> Any:
        """The AudioClip of a stored file (cached; clips are immutable)."""
        return self._load_audio(sha256)

    # ---- takes ---------------------------------------------------------------------
    def add_take(
        self,
        clip: Any,
        name: str,
        kind: str,
        provenance: Any | None = None,
        source_path: str = "",
        job_id: int | None = None,
        place_on_track: int | None = None,
        at_frame: int = 0,
    ) -> Take:
        """Store audio and its take row (and optionally a clip) in one transaction."""
        sha = self._write_audio_file(clip)
        prov = provenance.to_dict() if provenance is not None else {}
        with self.transaction() as db:
            take_id = self._insert_take(db, sha, clip, name, kind, prov, source_path, job_id)
            if place_on_track is not None:
                self._insert_clip(db, place_on_track, take_id, at_frame, clip)
        return self.take(take_id)

    def _insert_take(
        self,
        db: sqlite3.Connection,
        sha: str,
        clip: Any,
        name: str,
        kind: str,
        prov: dict[str, Any],
        source_path: str,
        job_id: int | None,
    ) -> int:
        db.execute(
            "INSERT OR IGNORE INTO audio_files(sha256, ext, sample_rate, channels, frames, created)"
            " VALUES (?, 'wav', ?, ?, ?, ?)",
            (sha, clip.sample_rate, clip.channels, clip.frames, now()),
        )
        cur = db.execute(
            "INSERT INTO takes(audio_sha256, name, kind, engine, model_id, model_version, prompt,"
            " params, seed, device, dtype, voice_id, consent, watermarked, provenance,"
            " source_path, job_id, duration, created)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                sha,
                name,
                kind,
                prov.get("engine", ""),
                prov.get("model_id", ""),
                prov.get("model_version", ""),
                prov.get("prompt", ""),
                json.dumps(prov.get("params", {}), sort_keys=True, default=str),
                prov.get("seed"),
                prov.get("device", ""),
                prov.get("dtype", ""),
                prov.get("voice"),
                json.dumps(prov["consent"], default=str) if prov.get("consent") else None,
                int(bool(prov.get("watermarked", False))),
                json.dumps(prov, sort_keys=True, default=str),
                source_path,
                job_id,
                clip.duration,
                prov.get("created") or now(),
            ),
        )
        return int(cur.lastrowid)

    def take_frames(self, take: Take) -> int:
        """The take's length in project frames."""
        row = self.db.execute(
            "SELECT sample_rate, frames FROM audio_files WHERE sha256=?", (take.audio_sha256,)
        ).fetchone()
        return round(row["frames"] * self.sample_rate / row["sample_rate"])

    def _insert_clip(
        self, db: sqlite3.Connection, track_id: int, take_id: int, at: int, clip: Any
    ) -> int:
        length = round(clip.frames * self.sample_rate / clip.sample_rate)
        cur = db.execute(
            "INSERT INTO clips(track_id, take_id, start_frame, offset_frame, length_frames)"
            " VALUES (?,?,?,0,?)",
            (track_id, take_id, at, length),
        )
        return int(cur.lastrowid)

    def import_file(self, path: str | os.PathLike[str]) -> tuple[Take, Track, Clip]:
        """A file becomes a take, a new track named after it, and a clip at frame 0."""
        from engines.blobs import put_audio_file

        src = Path(path)
        # Read and stored in blocks: a ten-hour file imports in bounded memory. ``clip``
        # is the stored format and length, all the rows need.
        clip = put_audio_file(src, self.path / AUDIO_DIR, self.audio_path)
        sha = clip.sha256
        with self.transaction() as db:
            take_id = self._insert_take(db, sha, clip, src.stem, "import", {}, str(src), None)
            track_id = self._insert_track(db, src.stem)
            clip_id = self._insert_clip(db, track_id, take_id, 0, clip)
        return self.take(take_id), self.track(track_id), self.clip(clip_id)

    def take(self, take_id: int) -> Take:
        row = self.db.execute("SELECT * FROM takes WHERE id=?", (take_id,)).fetchone()
        if row is None:
            raise ProjectError(f"There is no take {take_id} in {self.name}.")
        return Take.from_row(row)

    def takes(self) -> list[Take]:
        return [Take.from_row(r) for r in self.db.execute("SELECT * FROM takes ORDER BY id")]

    # ---- tracks, clips, markers ---------------------------------------------------
    def _insert_track(self, db: sqlite3.Connection, name: str) -> int:
        pos = db.execute("SELECT COALESCE(MAX(position), -1) + 1 FROM tracks").fetchone()[0]
        return int(db.execute("INSERT INTO tracks(name, position) VALUES (?, ?)", (name, pos)).lastrowid)

    def tracks(self) -> list[Track]:
        rows = self.db.execute("SELECT * FROM tracks ORDER BY position, id")
        return [Track(**{**dict(r), "mute": bool(r["mute"]), "solo": bool(r["solo"])}) for r in rows]

    def track(self, track_id: int) -> Track:
        for t in self.tracks():
            if t.id == track_id:
                return t
        raise ProjectError(f"There is no track {track_id} in {self.name}.")

    def clips(self, track_id: int | None = None) -> list[Clip]:
        if track_id is None:
            rows = self.db.execute("SELECT * FROM clips ORDER BY track_id, start_frame, id")
        else:
            rows = self.db.execute(
                "SELECT * FROM clips WHERE track_id=? ORDER BY start_frame, id", (track_id,)
            )
        return [Clip(**dict(r)) for r in rows]

    def clip(self, clip_id: int) -> Clip:
        row = self.db.execute("SELECT * FROM clips WHERE id=?", (clip_id,)).fetchone()
        if row is None:
            raise ProjectError(f"There is no clip {clip_id} in {self.name}.")
        return Clip(**dict(row))

    def markers(self) -> list[Marker]:
        return [Marker(**dict(r)) for r in self.db.execute("SELECT * FROM markers ORDER BY frame")]

    def row(self, table: str, row_id: int) -> dict[str, Any] | None:
        if table not in EDITABLE:
            raise ProjectError(f"unknown table {table}")
        r = self.db.execute(f"SELECT * FROM {table} WHERE id=?", (row_id,)).fetchone()
        return dict(r) if r else None

    def apply_changes(self, changes: list[tuple[str, int, dict | None, dict | None]]) -> None:
        """Apply ``(table, id, before, after)`` row changes in one transaction.

        ``after=None`` deletes, ``before=None`` inserts with that id, else updates. This is
        the single write path of timeline edits, so undo is the same call with the changes
        reversed and before/after swapped.
        """
        with self.transaction() as db:
            for table, row_id, _before, after in changes:
                fields = EDITABLE[table]
                if after is None:
                    db.execute(f"DELETE FROM {table} WHERE id=?", (row_id,))
                elif _before is None:
                    cols = ["id", *fields]
                    db.execute(
                        f"INSERT INTO {table}({','.join(cols)}) VALUES ({','.join('?' * len(cols))})",
                        [row_id, *[after[f] for f in fields]],
                    )
                else:
                    sets = ",".join(f"{f}=?" for f in fields)
                    db.execute(
                        f"UPDATE {table} SET {sets} WHERE id=?", [*[after[f] for f in fields], row_id]
                    )

    def next_id(self, table: str) -> int:
        if table not in EDITABLE:
            raise ProjectError(f"unknown table {table}")
        return int(self.db.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}").fetchone()[0])

    # ---- jobs ----------------------------------------------------------------------
    def create_job(self, kind: str, engine: str = "", request: dict | None = None) -> int:
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO jobs(kind, engine, request, state, created) VALUES (?,?,?,?,?)",
                (kind, engine, json.dumps(request or {}, default=str), "queued", now()),
            )
        return int(cur.lastrowid)

    def update_job(
        self, job_id: int, state: str | None = None, progress: float | None = None, error: str = ""
    ) -> None:
        with self.transaction() as db:
            if progress is not None:
                db.execute("UPDATE jobs SET progress=? WHERE id=?", (progress, job_id))
            if state == "running":
                db.execute("UPDATE jobs SET state=?, started=? WHERE id=?", (state, now(), job_id))
            elif state is not None:
                db.execute(
                    "UPDATE jobs SET state=?, finished=?, error=? WHERE id=?",
                    (state, now(), error, job_id),
                )

    def job(self, job_id: int) -> Job:
        return Job.from_row(self.db.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone())

    def jobs(self) -> list[Job]:
        return [Job.from_row(r) for r in self.db.execute("SELECT * FROM jobs ORDER BY id")]

    # ---- mixing --------------------------------------------------------------------
    def mix_tracks(self) -> list[Any]:
        """The timeline as plain data for ``engines.mixing.mixdown``."""
        from engines.mixing import MixClip, MixTrack
        from engines.stream import FileSource

        takes = {t.id: t for t in self.takes()}
        out = []
        for track in self.tracks():
            clips = []
            for c in self.clips(track.id):
                sha = takes[c.take_id].audio_sha256
                clips.append(
                    MixClip(
                        audio=FileSource(self.audio_path(sha)),  # read by seeking, per block
                        start=c.start_frame,
                        offset=c.offset_frame,
                        length=c.length_frames,
                        gain_db=c.gain_db,
                        fade_in=c.fade_in_frames,
                        fade_out=c.fade_out_frames,
                    )
                )
            out.append(MixTrack(clips, track.gain_db, track.mute, track.solo, track.pan))
        return out

    def mixdown(self, progress: Any = None, cancel: Any = None) -> Any:
        from engines.cancel import no_progress
        from engines.mixing import mixdown

        return mixdown(
            self.mix_tracks(), self.sample_rate, self.channels,
            progress=progress or no_progress, cancel=cancel,
        )
