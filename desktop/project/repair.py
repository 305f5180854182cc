"""Checking a project, and salvaging a damaged one into a new database.

Why salvage rather than fix in place: a damaged SQLite file can mislead every later read (a
broken index hides rows that exist), so repair never writes into it. It reads what it can —
whole tables when they scan, row by row where a page is broken — into a fresh database built
from the same migrations, drops only what cannot stand (a take whose audio is gone, a clip
whose take is gone), and swaps the files: the damaged one is kept beside it as
``project.db.damaged-<time>``. It needs the project to itself (the lease held exclusively),
so nothing else is writing meanwhile.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from desktop.project.errors import ProjectBusy, ProjectNotFound
from desktop.project.lease import Lease
from desktop.project.schema import LATEST, MIGRATIONS
from desktop.project.store import AUDIO_DIR, DB_NAME, RATE_RANGE, Project, project_path
from engines.blobs import file_sha256
from engines.files import fsync_folder

# Parents before children, so the copy never needs foreign keys switched back on midway.
TABLES = ("meta", "audio_files", "jobs", "takes", "tracks", "clips", "markers",
          "transcripts", "transcript_words")
MAX_PROBE = 2_000_000  # row ids tried one by one when a table will not scan


@dataclass
class CheckReport:
    """What ``timbre project check`` found; ``problems`` empty means healthy."""

    path: Path
    takes: int = 0
    problems: list[str] = field(default_factory=list)
    unreferenced: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class RepairReport:
    path: Path
    kept: Path
    rows: dict[str, int] = field(default_factory=dict)
    unreadable: dict[str, int] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    recovered: int = 0  # audio files whose take row was lost, kept as "Recovered audio" takes


def check_project(path: str | os.PathLike[str]) -> CheckReport:
    """Database integrity, and every take's audio present and hashing to its name."""
    with Project.open(path) as project:
        report = CheckReport(project.path)
        if project.damaged:
            report.problems.append(project.damaged)
            return report
        for row in project.db.execute("PRAGMA foreign_key_check"):
            report.problems.append(f"a row of {row[0]} points at a missing {row[2]} row")
        takes = project.takes()
        report.takes = len(takes)
        for take in takes:
            f = project.audio_path(take.audio_sha256)
            if not f.is_file():
                report.problems.append(f"take {take.id} ({take.name}): its audio file is missing")
            elif file_sha256(f) != take.audio_sha256:
                report.problems.append(f"take {take.id} ({take.name}): its audio file is damaged")
        known = {t.audio_sha256 for t in takes}
        folder = project.path / AUDIO_DIR
        if folder.is_dir():
            report.unreferenced = sum(
                1 for f in folder.glob("*.wav") if f.stem not in known and not f.is_symlink()
            )
        return report


def repair_project(path: str | os.PathLike[str]) -> RepairReport:
    """Salvage ``project.db`` into a new file and swap it in; the old one is kept."""
    folder = project_path(path)
    if not (folder / DB_NAME).is_file() and (Path(path) / DB_NAME).is_file():
        folder = Path(path)
    db_path = folder / DB_NAME
    if not db_path.is_file():
        raise ProjectNotFound(f"There is no project at {folder}.")
    lease = Lease(folder)
    if not lease.try_exclusive():
        lease.release()
        raise ProjectBusy(
            f"{folder} is open in another program (the studio or another timbre command). "
            "Close it there and run the repair again."
        )
    try:
        return _salvage(folder, db_path)
    finally:
        lease.release()


def _salvage(folder: Path, db_path: Path) -> RepairReport:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    kept = folder / f"{DB_NAME}.damaged-{stamp}"
    fresh = folder / f"{DB_NAME}.repairing"
    fresh.unlink(missing_ok=True)
    report = RepairReport(folder, kept)
    src = sqlite3.connect(db_path)
    dst = sqlite3.connect(fresh, isolation_level=None)
    try:
        for script in MIGRATIONS:
            dst.executescript(script)
        dst.execute(f"PRAGMA user_version={LATEST}")
        dst.execute("BEGIN")
        for table in TABLES:
            cols = [r[1] for r in dst.execute(f"PRAGMA table_info({table})")]
            rows, bad = _read_rows(src, table, cols)
            dst.executemany(
                f"INSERT OR IGNORE INTO {table}({','.join(cols)}) "
                f"VALUES ({','.join('?' * len(cols))})",
                rows,
            )
            report.rows[table], report.unreadable[table] = len(rows), bad
        _mend(dst, folder, report)
        dst.execute("COMMIT")
        problem = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if problem != "ok":  # pragma: no cover - a fresh file failing means a bug here
            raise RuntimeError(f"salvaged database failed its check: {problem}")
    finally:
        src.close()
        dst.close()
    # Keep the damaged file (and its WAL, which must not be replayed into the new one).
    for suffix in ("", "-wal", "-shm"):
        old = Path(f"{db_path}{suffix}")
        if old.exists():
            os.replace(old, Path(f"{kept}{suffix}"))
    os.replace(fresh, db_path)
    fsync_folder(folder)
    return report


def _read_rows(src: sqlite3.Connection, table: str, cols: list[str]) -> tuple[list, int]:
    """Every readable row: a table scan that ignores indexes, else row ids one by one."""
    have = {r[1] for r in _safe(src, f"PRAGMA table_info({table})")}
    if not have:
        return [], 0
    select = ",".join(c if c in have else "NULL" for c in cols)
    try:
        return src.execute(f"SELECT {select} FROM {table} NOT INDEXED").fetchall(), 0
    except sqlite3.DatabaseError:
        pass
    try:
        top = int(src.execute(f"SELECT MAX(rowid) FROM {table}").fetchone()[0] or 0)
    except sqlite3.DatabaseError:
        top = MAX_PROBE
    rows, bad = [], 0
    for rowid in range(1, min(top, MAX_PROBE) + 1):
        try:
            row = src.execute(f"SELECT {select} FROM {table} WHERE rowid=?", (rowid,)).fetchone()
        except sqlite3.DatabaseError:
            bad += 1
            continue
        if row is not None:
            rows.append(row)
    return rows, bad


def _safe(db: sqlite3.Connection, sql: str) -> list:
    try:
        return db.execute(sql).fetchall()
    except sqlite3.DatabaseError:
        return []


def _mend(db: sqlite3.Connection, folder: Path, report: RepairReport) -> None:
    """Make the salvaged rows consistent with each other and with the audio on disk."""
    import soundfile as sf

    audio = folder / AUDIO_DIR
    # Takes whose audio row was lost: rebuild the row from the file when the file is intact.
    for (sha,) in db.execute(
        "SELECT DISTINCT audio_sha256 FROM takes WHERE audio_sha256 NOT IN "
        "(SELECT sha256 FROM audio_files)"
    ).fetchall():
        f = audio / f"{sha}.wav"
        if f.is_file() and file_sha256(f) == sha:
            info = sf.info(str(f))
            db.execute(
                "INSERT INTO audio_files(sha256, ext, sample_rate, channels, frames, created) "
                "VALUES (?, 'wav', ?, ?, ?, ?)",
                (sha, info.samplerate, info.channels, info.frames, datetime.now(UTC).isoformat()),
            )
    _adopt_stray_audio(db, audio, report)
    stored = {r[0] for r in db.execute("SELECT sha256 FROM audio_files")}
    for take_id, name, sha in db.execute("SELECT id, name, audio_sha256 FROM takes").fetchall():
        if sha not in stored or not (audio / f"{sha}.wav").is_file():
            report.dropped.append(f"take {take_id} ({name}): its audio is gone")
            db.execute("DELETE FROM clips WHERE take_id=?", (take_id,))
            db.execute("DELETE FROM takes WHERE id=?", (take_id,))
    n = db.execute(
        "DELETE FROM clips WHERE take_id NOT IN (SELECT id FROM takes) "
        "OR track_id NOT IN (SELECT id FROM tracks)"
    ).rowcount
    if n:
        report.dropped.append(f"{n} clip(s) whose take or track was lost")
    db.execute("UPDATE takes SET job_id=NULL WHERE job_id NOT IN (SELECT id FROM jobs)")
    db.execute(
        "UPDATE jobs SET state='failed', error='Interrupted.' WHERE state IN ('queued','running')"
    )
    _mend_meta(db, folder)


def _adopt_stray_audio(db: sqlite3.Connection, audio: Path, report: RepairReport) -> None:
    """Intact audio whose take row was lost comes back as a "recovered" take: a damaged
    database must not turn into deleted audio at the next open's clean-up."""
    import soundfile as sf

    used = {r[0] for r in db.execute("SELECT audio_sha256 FROM takes")}
    if not audio.is_dir():
        return
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
    for f in sorted(audio.glob("*.wav")):
        sha = f.stem
        if sha in used or f.is_symlink() or len(sha) != 64 or file_sha256(f) != sha:
            continue
        try:
            info = sf.info(str(f))
        except (RuntimeError, OSError):
            continue
        db.execute(
            "INSERT OR IGNORE INTO audio_files(sha256, ext, sample_rate, channels, frames, "
            "created) VALUES (?, 'wav', ?, ?, ?, ?)",
            (sha, info.samplerate, info.channels, info.frames, stamp),
        )
        db.execute(
            "INSERT INTO takes(audio_sha256, name, kind, duration, created) "
            "VALUES (?, ?, 'import', ?, ?)",
            (sha, f"Recovered audio {sha[:8]}", info.frames / info.samplerate, stamp),
        )
        report.recovered += 1


def _mend_meta(db: sqlite3.Connection, folder: Path) -> None:
    """Impossible format settings are replaced by what the stored audio says."""
    meta = dict(db.execute("SELECT key, value FROM meta").fetchall())

    def valid(key: str, low: int, high: int) -> bool:
        return str(meta.get(key, "")).isdigit() and low <= int(meta[key]) <= high

    common = db.execute(
        "SELECT sample_rate FROM audio_files GROUP BY sample_rate ORDER BY COUNT(*) DESC LIMIT 1"
    ).fetchone()
    fixes = {"name": folder.stem}
    if not valid("sample_rate", *RATE_RANGE):
        fixes["sample_rate"] = str(common[0] if common else 48_000)
    if not valid("channels", 1, 2):
        fixes["channels"] = "2"
    for key, value in fixes.items():
        if key == "name" and meta.get("name"):
            continue
        db.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

