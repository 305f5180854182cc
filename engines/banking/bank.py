"""A voice bank on disk: one folder per person, resumable across days.

Layout::

    NAME/bank.sqlite             prompts (script lines, messages, the consent statement),
                                 takes with their verdicts, metrics and status
    NAME/takes/ab/<sha256>.flac  recordings, stored once by content (original and trimmed)

Every take ever recorded is kept; per prompt at most one is *accepted* (the one exported).
Nothing is held in memory between calls, so closing the app mid-session loses nothing and
``next_prompt`` resumes where the person stopped.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engines.audio import AudioClip
from engines.banking.prompts import DEFAULT_SCRIPT, load_script
from engines.banking.quality import GREEN, RED, QualityReport, check_take
from engines.blobs import SchemaTooNewError, connect, migrate
from engines.errors import BadInput
from engines.provenance import now_iso

DB_NAME = "bank.sqlite"
MILESTONES = ((50, "quick"), (400, "usable"), (800, "good"), (1600, "best"))
SCRIPT, MESSAGE, CONSENT = "script", "message", "consent"
ACCEPTED, REJECTED, REPLACED = "accepted", "rejected", "replaced"

MIGRATIONS = [  # engines.blobs.migrate: append new steps, never edit released ones
    """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS prompts (
    id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('script', 'message', 'consent')),
    text TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS takes (
    id INTEGER PRIMARY KEY,
    prompt_id TEXT NOT NULL REFERENCES prompts(id) ON DELETE CASCADE,
    sha256 TEXT NOT NULL,
    trimmed_sha256 TEXT,
    source_name TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    verdict TEXT NOT NULL,
    reasons TEXT NOT NULL,
    metrics TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected', 'replaced'))
);
CREATE INDEX IF NOT EXISTS takes_prompt ON takes(prompt_id);
""",
]



# A bank phrase is one sentence read aloud (2–10 s; the consent statement ~20 s). A take a
# minute long is the wrong file, and a 10-hour one used 4.8 GB and minutes of checking before
# it was refused; so the length is checked from the file header before anything is decoded.
MAX_TAKE_S = 60.0
_LONG_TAKE_HINT = "Record one phrase per take, or cut the phrase out of the long recording."


def check_take_length(clip: AudioClip, name: str = "The take") -> None:
    """Refuse a decoded take longer than :data:`MAX_TAKE_S` (one sentence, not a session)."""
    from engines.audio_limits import describe_seconds

    if clip.duration > MAX_TAKE_S:
        raise BadInput(
            f"{name} is {describe_seconds(clip.duration)} long; a bank take may be at most "
            f"{describe_seconds(MAX_TAKE_S)}. {_LONG_TAKE_HINT}"
        )


def read_take(path: str | os.PathLike[str]) -> AudioClip:
    """A recording for the bank, its length checked from the header before decoding."""
    from engines.audio_io import read_audio
    from engines.audio_limits import check_length

    check_length(path, MAX_TAKE_S, "a bank take", _LONG_TAKE_HINT)
    clip = read_audio(path)
    check_take_length(clip, Path(path).name)
    return clip


@dataclass(frozen=True)
class Prompt:
    id: str
    text: str
    kind: str
    position: int
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Take:
    id: int
    prompt_id: str
    sha256: str
    trimmed_sha256: str | None
    source_name: str
    created: str
    verdict: str
    reasons: tuple[str, ...]
    metrics: dict[str, Any] = field(repr=False)
    status: str

    @property
    def clean_seconds(self) -> float:
        return float(self.metrics.get("speech_seconds", 0.0))


@dataclass(frozen=True)
class BankStatus:
    script: str
    prompts: int
    recorded: int  # script prompts with an accepted take
    verdicts: dict[str, int]  # over accepted script takes
    clean_seconds: float
    messages: int
    milestone: tuple[int, str] | None  # the largest size reached
    next_milestone: tuple[int, str] | None
    next_prompt: Prompt | None

    @property
    def clean_minutes(self) -> float:
        return self.clean_seconds / 60


def _prompt(row: sqlite3.Row) -> Prompt:
    return Prompt(
        row["id"], row["text"], row["kind"], row["position"], tuple(json.loads(row["tags"]))
    )


def _take(row: sqlite3.Row) -> Take:
    return Take(
        row["id"],
        row["prompt_id"],
        row["sha256"],
        row["trimmed_sha256"],
        row["source_name"],
        row["created"],
        row["verdict"],
        tuple(json.loads(row["reasons"])),
        json.loads(row["metrics"]),
        row["status"],
    )


class VoiceBank:
    """One person's bank folder. Cheap to construct; every method opens its own connection."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.db_path = self.path / DB_NAME
        self._migrated = False

    # -- lifecycle --------------------------------------------------------------------

    @classmethod
    def create(
        cls, path: str | os.PathLike[str], script: str = DEFAULT_SCRIPT, speaker: str = ""
    ) -> VoiceBank:
        path = Path(path)
        if (path / DB_NAME).exists():
            raise BadInput(f"{path} is already a voice bank; open it to carry on recording.")
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise BadInput(
                f"{path} exists and is not empty; choose a new folder name for the bank."
            )
        lines = load_script(script)
        path.mkdir(parents=True, exist_ok=True)
        bank = cls(path)
        now = now_iso()
        with bank._db() as db:
            db.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [
                    ("script", script),
                    ("speaker", speaker),
                    ("created", now),
                    ("format", "timbre-bank/1"),
                ],
            )
            db.executemany(
                "INSERT INTO prompts (id, position, kind, text, created) VALUES (?,?,?,?,?)",
                [(line.id, i, SCRIPT, line.text, now) for i, line in enumerate(lines)],
            )
        return bank

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> VoiceBank:
        bank = cls(path)
        if not bank.db_path.is_file():
            raise BadInput(
                f"{path} is not a voice bank (no {DB_NAME} in it); create one with: timbre bank new {path}"
            )
        return bank

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = connect(self.db_path, timeout=10)
        try:
            if not self._migrated:  # once per bank object, not on every connection
                try:
                    migrate(db, MIGRATIONS, backup=self.db_path)
                except SchemaTooNewError as exc:
                    raise BadInput(f"The voice bank {self.path} was written by a newer Timbre "
                                   f"Studio ({exc}). Update Timbre Studio to use it.") from exc
                self._migrated = True
            with db:
                yield db
        finally:
            db.close()

    def meta(self, key: str, default: str = "") -> str:
        with self._db() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # -- audio blobs ------------------------------------------------------------------

    def blob_path(self, sha: str) -> Path:
        return self.path / "takes" / sha[:2] / f"{sha}.flac"

    def _put(self, clip: AudioClip) -> str:
        """Store ``clip`` as FLAC under the SHA-256 of its encoded bytes (once)."""
        from engines.blobs import put_audio

        return put_audio(clip, self.path / "takes", self.blob_path, "flac")

    def audio(self, take: Take, trimmed: bool = True) -> AudioClip:
        from engines.audio_io import read_audio

        sha = take.trimmed_sha256 if trimmed and take.trimmed_sha256 else take.sha256
        return read_audio(self.blob_path(sha))

    # -- prompts ----------------------------------------------------------------------

    def prompts(self, kind: str = SCRIPT) -> list[Prompt]:
        with self._db() as db:
            rows = db.execute(
                "SELECT * FROM prompts WHERE kind = ? ORDER BY position", (kind,)
            ).fetchall()
        return [_prompt(r) for r in rows]

    def prompt(self, prompt_id: str) -> Prompt:
        with self._db() as db:
            row = db.execute("SELECT * FROM prompts WHERE id = ?", (prompt_id,)).fetchone()
        if row is None:
            raise BadInput(
                f"There is no prompt '{prompt_id}' in this bank; list them with: timbre bank prompts {self.path}"
            )
        return _prompt(row)

    def _add_prompt(
        self, db: sqlite3.Connection, prefix: str, kind: str, text: str, tags: list[str]
    ) -> str:
        text = " ".join(text.split())
        if not text:
            raise BadInput("Give the words of the message, so it can be found and named later.")
        count = db.execute("SELECT COUNT(*) FROM prompts WHERE kind = ?", (kind,)).fetchone()[0]
        pid = f"{prefix}{count + 1:04d}"
        while db.execute("SELECT 1 FROM prompts WHERE id = ?", (pid,)).fetchone():
            count += 1
            pid = f"{prefix}{count + 1:04d}"
        position = db.execute("SELECT COALESCE(MAX(position), -1) + 1 FROM prompts").fetchone()[0]
        clean_tags = sorted({t.strip().lower() for t in tags if t.strip()})
        db.execute(
            "INSERT INTO prompts (id, position, kind, text, tags, created) VALUES (?,?,?,?,?,?)",
            (pid, position, kind, text, json.dumps(clean_tags), now_iso()),
        )
        return pid

    # -- takes ------------------------------------------------------------------------

    def add_take(
        self, prompt_id: str, clip: AudioClip, accept: bool | None = None, source_name: str = ""
    ) -> tuple[Take, QualityReport]:
        """Check and store a recording of a prompt.

        ``accept`` None accepts anything that is not red; an accepted take replaces the
        prompt's previous accepted take (which is kept, marked replaced).
        """
        prompt = self.prompt(prompt_id)
        check_take_length(clip, source_name and Path(source_name).name or "The take")
        report = check_take(clip, prompt.text)
        accepted = report.verdict != RED if accept is None else accept
        sha = self._put(clip)
        trimmed = self._put(report.trimmed) if report.trimmed is not None else None
        with self._db() as db:
            if accepted:
                db.execute(
                    "UPDATE takes SET status = ? WHERE prompt_id = ? AND status = ?",
                    (REPLACED, prompt_id, ACCEPTED),
                )
            cur = db.execute(
                "INSERT INTO takes (prompt_id, sha256, trimmed_sha256, source_name, created, verdict,"
                " reasons, metrics, status) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    prompt_id,
                    sha,
                    trimmed,
                    source_name,
                    now_iso(),
                    report.verdict,
                    json.dumps(report.reasons),
                    json.dumps(report.metrics),
                    ACCEPTED if accepted else REJECTED,
                ),
            )
            take_id = int(cur.lastrowid)
            if accepted and prompt.kind == SCRIPT:  # a rejected take leaves it to redo
                db.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('cursor', ?)", (prompt_id,)
                )
        return self.take(take_id), report

    def take(self, take_id: int) -> Take:
        with self._db() as db:
            row = db.execute("SELECT * FROM takes WHERE id = ?", (take_id,)).fetchone()
        if row is None:
            raise BadInput(f"There is no take {take_id} in this bank.")
        return _take(row)

    def takes(self, prompt_id: str | None = None) -> list[Take]:
        with self._db() as db:
            if prompt_id is None:
                rows = db.execute("SELECT * FROM takes ORDER BY id").fetchall()
            else:
                rows = db.execute(
                    "SELECT * FROM takes WHERE prompt_id = ? ORDER BY id", (prompt_id,)
                ).fetchall()
        return [_take(r) for r in rows]

    def accept(self, take_id: int) -> Take:
        """Make this take the prompt's accepted one (e.g. an amber take the person likes)."""
        take = self.take(take_id)
        with self._db() as db:
            db.execute(
                "UPDATE takes SET status = ? WHERE prompt_id = ? AND status = ?",
                (REPLACED, take.prompt_id, ACCEPTED),
            )
            db.execute("UPDATE takes SET status = ? WHERE id = ?", (ACCEPTED, take_id))
            if self.prompt(take.prompt_id).kind == SCRIPT:  # the session moves on from here
                db.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('cursor', ?)",
                    (take.prompt_id,),
                )
        return self.take(take_id)

    def reject(self, take_id: int) -> Take:
        with self._db() as db:
            db.execute("UPDATE takes SET status = ? WHERE id = ?", (REJECTED, take_id))
        return self.take(take_id)

    def accepted(self, kind: str = SCRIPT) -> list[tuple[Prompt, Take]]:
        """Accepted takes in script order."""
        with self._db() as db:
            rows = db.execute(
                "SELECT p.*, t.id AS take_id FROM takes t JOIN prompts p ON p.id = t.prompt_id"
                " WHERE t.status = ? AND p.kind = ? ORDER BY p.position",
                (ACCEPTED, kind),
            ).fetchall()
        return [(_prompt(r), self.take(r["take_id"])) for r in rows]

    def review(self) -> list[tuple[Prompt, Take]]:
        """Accepted script takes, worst first (red, amber, then by SNR), to re-record."""
        rank = {RED: 0, "amber": 1, GREEN: 2}

        def key(item: tuple[Prompt, Take]) -> tuple[int, float]:
            _, take = item
            snr = take.metrics.get("snr_db")
            return rank[take.verdict], 100.0 if snr is None else float(snr)

        return sorted(self.accepted(), key=key)

    # -- session position -------------------------------------------------------------

    def next_prompt(self) -> Prompt | None:
        """The first script prompt without an accepted take, after where the person stopped
        (wrapping round to ones they skipped); None when every prompt is recorded."""
        cursor = self.meta("cursor")
        with self._db() as db:
            pos = db.execute("SELECT position FROM prompts WHERE id = ?", (cursor,)).fetchone()
            start = pos[0] if pos else -1
            query = (
                "SELECT * FROM prompts p WHERE kind = 'script' AND {cond} AND NOT EXISTS"
                " (SELECT 1 FROM takes t WHERE t.prompt_id = p.id AND t.status = 'accepted')"
                " ORDER BY position LIMIT 1"
            )
            row = db.execute(query.format(cond="position > ?"), (start,)).fetchone()
            if row is None:
                row = db.execute(query.format(cond="position >= ?"), (0,)).fetchone()
        return _prompt(row) if row else None

    def skip_to(self, prompt_id: str) -> None:
        """Move the session to just before ``prompt_id`` (the 'next' key without recording)."""
        prompt = self.prompt(prompt_id)
        with self._db() as db:
            row = db.execute(
                "SELECT id FROM prompts WHERE kind = 'script' AND position < ? ORDER BY position DESC LIMIT 1",
                (prompt.position,),
            ).fetchone()
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('cursor', ?)",
                (row[0] if row else "",),
            )

    def status(self) -> BankStatus:
        done = self.accepted()
        verdicts = {GREEN: 0, "amber": 0, RED: 0}
        for _, take in done:
            verdicts[take.verdict] += 1
        recorded = len(done)
        reached = [m for m in MILESTONES if recorded >= m[0]]
        ahead = [m for m in MILESTONES if recorded < m[0]]
        return BankStatus(
            script=self.meta("script"),
            prompts=len(self.prompts()),
            recorded=recorded,
            verdicts=verdicts,
            clean_seconds=sum(t.clean_seconds for _, t in done if t.verdict != RED),
            messages=len(self.prompts(MESSAGE)),
            milestone=reached[-1] if reached else None,
            next_milestone=ahead[0] if ahead else None,
            next_prompt=self.next_prompt(),
        )

    # -- message banking --------------------------------------------------------------

    def add_message(
        self, text: str, clip: AudioClip, tags: list[str] | None = None
    ) -> tuple[Prompt, Take, QualityReport]:
        """A free phrase the person wants to keep in their own voice ("I love you", a joke)."""
        check_take_length(clip)  # before the prompt is made: a refused take leaves nothing
        with self._db() as db:
            pid = self._add_prompt(db, "msg", MESSAGE, text, list(tags or []))
        take, report = self.add_take(pid, clip, accept=True)
        return self.prompt(pid), take, report

    def messages(self, query: str = "") -> list[tuple[Prompt, Take | None]]:
        """Messages whose words or tags contain every word of ``query`` (case-insensitive)."""
        words = query.lower().split()
        out = []
        for prompt in self.prompts(MESSAGE):
            hay = (prompt.text + " " + " ".join(prompt.tags)).lower()
            if all(w in hay for w in words):
                accepted = [t for t in self.takes(prompt.id) if t.status == ACCEPTED]
                out.append((prompt, accepted[-1] if accepted else None))
        return out

    def tag_message(self, prompt_id: str, tags: list[str]) -> Prompt:
        prompt = self.prompt(prompt_id)
        merged = sorted({*prompt.tags, *(t.strip().lower() for t in tags if t.strip())})
        with self._db() as db:
            db.execute("UPDATE prompts SET tags = ? WHERE id = ?", (json.dumps(merged), prompt_id))
        return self.prompt(prompt_id)

    # -- consent ----------------------------------------------------------------------

    def consent_prompt(self, statement_text: str) -> Prompt:
        """The voice library's consent statement as a prompt of this bank (one at a time)."""
        statement_text = " ".join(statement_text.split())
        with self._db() as db:
            db.execute(
                "DELETE FROM prompts WHERE kind = 'consent' AND text != ?", (statement_text,)
            )
            row = db.execute("SELECT id FROM prompts WHERE kind = 'consent'").fetchone()
            pid = row[0] if row else self._add_prompt(db, "consent", CONSENT, statement_text, [])
        return self.prompt(pid)
