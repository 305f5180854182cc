"""The project store: ``NAME.timbre/`` = ``project.db`` (SQLite) + ``audio/`` (by sha256).

Crash safety comes from ordering. Audio is written to a temporary file, fsynced and renamed
to its content hash *before* the rows that point at it are inserted in one transaction; a
crash in between leaves only an unreferenced file. SQLite runs in WAL mode with foreign keys
on, so a killed commit simply never happened; a take is only ever inserted whole.

Several programs may have one project open at once (the studio and a command line, a batch
of workers). The clean-up of a crash's leftovers — unreferenced audio, staging files, jobs
still "running" — therefore runs only when this opener is provably alone (see
``desktop.project.lease``), never follows a symlink, touches only names the store itself
makes, and never runs on a database that fails its integrity check: a damaged project opens
read-only and ``timbre project repair`` salvages it into a new file, keeping the original.
"""

from __future__ import annotations

import json
import math
import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from desktop.project.errors import (
    ProjectBusy,
    ProjectCorrupt,
    ProjectDamaged,
    ProjectError,
    ProjectExists,
    ProjectNotFound,
    ProjectReadOnly,
    SchemaTooNew,
)
from desktop.project.lease import Lease
from desktop.project.models import Clip, Job, Marker, Take, Track
from desktop.project.schema import LATEST, MIGRATIONS
from engines.blobs import connect

SUFFIX = ".timbre"
DB_NAME = "project.db"
AUDIO_DIR = "audio"
DEFAULT_RATE = 48_000
DEFAULT_CHANNELS = 2
BUSY_TIMEOUT_S = 30.0  # how long a write waits for another program's transaction
RATE_RANGE = (8_000, 384_000)
MAX_TIMELINE_HOURS = 48  # no clip position or length beyond this is a real edit
# Only names the store itself creates are ever removed from audio/.
_STORE_NAME = re.compile(r"(?:[0-9a-f]{64}\.wav|\.incoming-[^/]+)\Z")

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


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "database is locked" in text or "database is busy" in text


def _busy_message(folder: Path) -> str:
    return (
        f"The project {folder} is busy: another program kept it locked for "
        f"{BUSY_TIMEOUT_S:.0f} s. Wait for it to finish (or close it) and try again."
    )


class Project:
    """An open project. Thread-safe for writes (one lock); reads are cheap."""

    def __init__(self, path: Path, db: sqlite3.Connection, lease: Lease | None = None) -> None:
        self.path = path
        self.db = db
        self.lease = lease
        # Set when the database failed its integrity check: every write is refused with it.
        self.damaged: str | None = None
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
        assert project.lease is not None
        project.lease.share()
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
        audio = folder / AUDIO_DIR
        if not audio.is_symlink():
            audio.mkdir(exist_ok=True)
        project = cls._connect(folder)
        try:
            project._recover()
        except BaseException:
            project.close()
            raise
        return project

    @classmethod
    def _connect(cls, folder: Path) -> Project:
        db_path = folder / DB_NAME
        lease = Lease(folder)
        try:
            db = connect(db_path, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
            db.isolation_level = None  # transactions are explicit (Project.transaction)
            db.execute("PRAGMA synchronous=FULL")
            version = db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            lease.release()
            if _is_busy(exc):
                raise ProjectBusy(_busy_message(folder)) from exc
            raise ProjectCorrupt(
                f"{db_path} is not a readable project database ({exc}). Run: timbre project "
                f"repair {folder} — or restore it from a backup (project.db.v*.bak) if there is one."
            ) from exc
        if version > LATEST:
            db.close()
            lease.release()
            raise SchemaTooNew(
                f"{folder.name} was saved by a newer Timbre Studio (project format {version}; "
                f"this version reads up to {LATEST}). Update Timbre Studio to open it."
            )
        project = cls(folder, db, lease)
        if version < LATEST:
            try:
                project._migrate(version)
            except BaseException:
                lease.release()
                raise
        return project

    def _migrate(self, version: int) -> None:
        """Forward to the latest schema (backup ``project.db.vN.bak`` first)."""
        from engines.blobs import migrate

        with self._lock:
            try:
                migrate(self.db, MIGRATIONS, backup=self.path / DB_NAME)
            except BaseException:
                self.db.close()
                raise

    def _recover(self) -> None:
        """Check the database; when alone, fail interrupted jobs and drop crash leftovers.

        Nothing is deleted unless this opener holds the lease exclusively (no other program
        can still commit what looks unreferenced) and the database passed its integrity
        check (a damaged index must not turn into deleted takes).
        """
        assert self.lease is not None
        alone = self.lease.try_exclusive()
        try:
            self.damaged = self._integrity_problem()
            if self.damaged is None and alone:
                with self.transaction():
                    self.db.execute(
                        "UPDATE jobs SET state='failed', finished=?, error=? "
                        "WHERE state IN ('queued','running')",
                        (now(), "Interrupted: Timbre Studio closed before this job finished. "
                         "Run it again."),
                    )
                self._remove_leftovers()
        finally:
            self.lease.share()

    def _integrity_problem(self) -> str | None:
        """None when ``PRAGMA integrity_check`` passes, else a one-line message for users.

        integrity_check (not quick_check) because only it compares indexes with their
        tables, and a damaged index is exactly what made a take look unreferenced.
        """
        try:
            result = [r[0] for r in self.db.execute("PRAGMA integrity_check(20)")]
        except sqlite3.DatabaseError as exc:
            result = [str(exc)]
        if result == ["ok"]:
            return None
        return (
            f"The project {self.path.name} is damaged ({result[0]}); it was opened read-only "
            f"and nothing in it was changed. Run: timbre project repair {self.path} "
            "(the damaged file is kept)."
        )

    def _remove_leftovers(self) -> None:
        """Delete unreferenced audio and staging files — only in a real ``audio/`` folder,
        only regular files, only names the store makes; never through a symlink."""
        folder = self.path / AUDIO_DIR
        if folder.is_symlink() or not folder.is_dir():
            return
        known = {r[0] for r in self.db.execute("SELECT sha256 FROM audio_files")}
        known |= {r[0] for r in self.db.execute("SELECT audio_sha256 FROM takes")}
        with os.scandir(folder) as entries:
            for entry in entries:
                if not _STORE_NAME.match(entry.name) or not entry.is_file(follow_symlinks=False):
                    continue
                if entry.name.endswith(".wav") and entry.name[:-4] in known:
                    continue
                try:
                    os.unlink(entry.path)
                except OSError:
                    pass  # a read-only file or a race with the user: leave it

    def close(self) -> None:
        with self._lock:
            if self.lease is not None and self.damaged is None:
                try:
                    self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                except sqlite3.Error:
                    pass
            self.db.close()
            if self.lease is not None:
                self.lease.release()
                self.lease = None

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check_writable(self) -> None:
        """Refuse a write up front (before any audio is stored) on a damaged project."""
        if self.damaged is not None:
            raise ProjectDamaged(self.damaged)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; SQLite's own errors become one-line ``ProjectError``s."""
        self.check_writable()
        with self._lock:
            try:
                self.db.execute("BEGIN IMMEDIATE")
            except sqlite3.DatabaseError as exc:
                raise self._translate(exc) from exc
            try:
                yield self.db
                self.db.execute("COMMIT")
            except BaseException as exc:
                if self.db.in_transaction:
                    try:
                        self.db.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                if isinstance(exc, sqlite3.DatabaseError) and not isinstance(
                    exc, sqlite3.IntegrityError
                ):
                    raise self._translate(exc) from exc
                raise

    def _translate(self, exc: sqlite3.DatabaseError) -> ProjectError:
        text = str(exc).lower()
        if _is_busy(exc):
            return ProjectBusy(_busy_message(self.path))
        if "disk is full" in text or "disk i/o error" in text:
            return ProjectError(
                f"Could not save to {self.path}: the disk is full (or failing). Free some "
                "space and try again; what was saved before is intact."
            )
        if "readonly" in text or "read-only" in text:
            return ProjectReadOnly(
                f"The project {self.path} cannot be written (read-only). Copy it to a folder "
                "you can write to, or fix its permissions."
            )
        if "malformed" in text or "not a database" in text:
            self.damaged = self.damaged or (
                f"The project {self.path.name} is damaged ({exc}). Run: timbre project repair "
                f"{self.path} (the damaged file is kept)."
            )
            return ProjectDamaged(self.damaged)
        return ProjectError(f"Could not save to {self.path}: {exc}.")

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
        if self.damaged is None:  # view state is not worth an error on a read-only project
            self.set_meta(key, json.dumps(value))

    @property
    def name(self) -> str:
        return self.get_meta("name", self.path.stem) or self.path.stem

    @property
    def sample_rate(self) -> int:
        return self._meta_int("sample_rate", DEFAULT_RATE, *RATE_RANGE)

    @property
    def channels(self) -> int:
        return self._meta_int("channels", DEFAULT_CHANNELS, 1, 2)

    def _meta_int(self, key: str, default: int, low: int, high: int) -> int:
        """A numeric setting read back checked: a crafted or damaged value must become a
        message, not a 745 GiB allocation or a division by zero."""
        raw = self.get_meta(key, str(default)) or str(default)
        try:
            value = int(raw)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise ProjectCorrupt(
                f"The project {self.path} has an impossible {key.replace('_', ' ')} "
                f"({raw!r}; expected {low}–{high}). Run: timbre project repair {self.path}"
            )
        return value

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
        self.check_writable()
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

    def _from(self, table: str) -> str:
        """``table``, read without its indexes when the project is damaged: a broken index
        hides rows, while the table itself usually still reads, so a damaged project can
        still be played and exported (and checked) before it is repaired."""
        return f"{table} NOT INDEXED" if self.damaged else table

    def take_frames(self, take: Take) -> int:
        """The take's length in project frames."""
        row = self.db.execute(
            f"SELECT sample_rate, frames FROM {self._from('audio_files')} WHERE sha256=?",
            (take.audio_sha256,),
        ).fetchone()
        if row is None:
            raise ProjectCorrupt(
                f"The audio of take {take.id} ({take.name}) is missing from {self.path.name}'s "
                f"index. Run: timbre project repair {self.path}"
            )
        return round(row["frames"] * self.sample_rate / row["sample_rate"])

    def _insert_clip(
        self, db: sqlite3.Connection, track_id: int, take_id: int, at: int, clip: Any
    ) -> int:
        length = round(clip.frames * self.sample_rate / clip.sample_rate)
        clip_id = self._reserve_id(db, "clips")
        db.execute(
            "INSERT INTO clips(id, track_id, take_id, start_frame, offset_frame, length_frames)"
            " VALUES (?,?,?,?,0,?)",
            (clip_id, track_id, take_id, at, length),
        )
        return clip_id

    def import_file(self, path: str | os.PathLike[str]) -> tuple[Take, Track, Clip]:
        """A file becomes a take, a new track named after it, and a clip at frame 0."""
        return self._import(path, place=True)  # type: ignore[return-value]

    def import_take(self, path: str | os.PathLike[str]) -> Take:
        """A file becomes a take only (the studio places it with undoable edits)."""
        return self._import(path, place=False)  # type: ignore[return-value]

    def _import(self, path: str | os.PathLike[str], place: bool) -> Take | tuple[Take, Track, Clip]:
        from engines.blobs import put_audio_file

        self.check_writable()
        src = Path(path)
        # Read and stored in blocks: a ten-hour file imports in bounded memory. ``clip``
        # is the stored format and length, all the rows need.
        clip = put_audio_file(src, self.path / AUDIO_DIR, self.audio_path)
        with self.transaction() as db:
            take_id = self._insert_take(db, clip.sha256, clip, src.stem, "import", {}, str(src), None)
            if place:
                track_id = self._insert_track(db, src.stem)
                clip_id = self._insert_clip(db, track_id, take_id, 0, clip)
        if not place:
            return self.take(take_id)
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
        track_id = self._reserve_id(db, "tracks")
        db.execute("INSERT INTO tracks(id, name, position) VALUES (?, ?, ?)", (track_id, name, pos))
        return track_id

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
                f"SELECT * FROM {self._from('clips')} WHERE track_id=? ORDER BY start_frame, id",
                (track_id,),
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
        """Reserve a fresh id for a row an edit is about to insert.

        Reserved in the database (a counter in ``meta``, committed at once), not read as
        ``MAX(id) + 1``: two programs editing one project would otherwise both pick the
        same id and the second insert would fail. Ids are never reused, so an undone
        insert can be redone with its id.
        """
        if table not in EDITABLE:
            raise ProjectError(f"unknown table {table}")
        with self.transaction() as db:
            return self._reserve_id(db, table)

    def _reserve_id(self, db: sqlite3.Connection, table: str) -> int:
        """Inside a write transaction: the next id of ``table`` no program has had yet."""
        key = f"next_id.{table}"
        highest = db.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}").fetchone()[0]
        row = db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        counter = int(row[0]) if row and str(row[0]).isdigit() else 0
        new_id = max(int(highest), counter)
        self._set_meta(key, str(new_id + 1))
        return new_id

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
            self._check_values("track", track.id, gain_db=track.gain_db, pan=track.pan)
            clips = []
            for c in self.clips(track.id):
                sha = takes[c.take_id].audio_sha256
                self._check_clip(c, self.take_frames(takes[c.take_id]))
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

    def _check_clip(self, c: Clip, take_frames: int) -> None:
        """A clip's numbers as stored must describe audio that exists (see _check_values)."""
        self._check_values(
            "clip", c.id, gain_db=c.gain_db, start_frame=c.start_frame,
            offset_frame=c.offset_frame, length_frames=c.length_frames,
            fade_in_frames=c.fade_in_frames, fade_out_frames=c.fade_out_frames,
        )
        if c.offset_frame + c.length_frames > take_frames + 1:
            self._impossible("clip", c.id, "length_frames", c.length_frames)

    def _check_values(self, kind: str, row_id: int, **values: Any) -> None:
        """Refuse numbers no edit can make (a crafted or damaged project.db): a gain of
        1e308 dB or a clip a year long must become one line, not a huge allocation."""
        limit = MAX_TIMELINE_HOURS * 3600 * self.sample_rate
        for name, value in values.items():
            if name == "gain_db":
                ok = isinstance(value, int | float) and -200.0 <= value <= 60.0
            elif name == "pan":
                ok = isinstance(value, int | float) and -1.0 <= value <= 1.0
            else:
                ok = isinstance(value, int) and 0 <= value <= limit
            if not ok or (isinstance(value, float) and not math.isfinite(value)):
                self._impossible(kind, row_id, name, value)

    def _impossible(self, kind: str, row_id: int, name: str, value: Any) -> None:
        raise ProjectCorrupt(
            f"The project {self.path} has an impossible {name.replace('_', ' ')} ({value!r}) "
            f"on {kind} {row_id}. Undo the last edit, or delete that {kind}, and try again."
        )

    def mixdown(self, progress: Any = None, cancel: Any = None) -> Any:
        from engines.cancel import no_progress
        from engines.mixing import mixdown

        return mixdown(
            self.mix_tracks(), self.sample_rate, self.channels,
            progress=progress or no_progress, cancel=cancel,
        )
