"""Project store: layout, content addressing, migrations, recovery."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from desktop.project import schema
from desktop.project.errors import ProjectExists, ProjectNotFound, SchemaTooNew
from desktop.project.store import Project
from engines.audio import AudioClip


def tone(seconds=1.0, rate=48_000, f=440.0):
    t = np.arange(int(seconds * rate)) / rate
    return AudioClip(0.2 * np.sin(2 * np.pi * f * t), rate)


def test_new_project_layout_and_pragmas(tmp_path):
    with Project.create(tmp_path / "song") as p:
        assert p.path.name == "song.timbre"
        assert (p.path / "project.db").is_file() and (p.path / "audio").is_dir()
        assert p.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert p.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert p.db.execute("PRAGMA user_version").fetchone()[0] == schema.LATEST
        assert p.sample_rate == 48_000
    with pytest.raises(ProjectExists):
        Project.create(tmp_path / "song")


def test_audio_is_content_addressed_and_deduplicated(project):
    a = project.add_take(tone(), "a", "import")
    b = project.add_take(tone(), "b", "import")
    c = project.add_take(tone(f=220.0), "c", "import")
    assert a.audio_sha256 == b.audio_sha256 != c.audio_sha256
    files = sorted(f.stem for f in (project.path / "audio").iterdir())
    assert files == sorted({a.audio_sha256, c.audio_sha256})
    import hashlib

    for sha in files:
        assert hashlib.sha256(project.audio_path(sha).read_bytes()).hexdigest() == sha
    back = project.load_audio(a.audio_sha256)
    np.testing.assert_array_equal(back.samples, tone().samples)


def test_provenance_is_stored_with_the_take(project):
    from engines.provenance import Provenance

    prov = Provenance(engine="musicgen", model_id="facebook/musicgen-small", prompt="lo-fi beat",
                      params={"temperature": 1.0, "top_k": 250}, seed=42, device="cpu")
    take = project.add_take(tone(), "lofi", "music", provenance=prov)
    assert take.engine == "musicgen" and take.seed == 42 and take.params["top_k"] == 250
    assert take.provenance["prompt"] == "lo-fi beat" and take.model_id == "facebook/musicgen-small"


def test_reopen_recovers_interrupted_jobs_and_removes_orphans(tmp_path):
    with Project.create(tmp_path / "p") as p:
        done = p.create_job("music", "musicgen", {"prompt": "x"})
        p.update_job(done, "done")
        running = p.create_job("speech", "piper", {"text": "hi"})
        p.update_job(running, "running", progress=0.5)
        orphan = p.path / "audio" / ("0" * 64 + ".wav")
        orphan.write_bytes(b"half written")
        (p.path / "audio" / ".incoming-x.part").write_bytes(b"tmp")
    with Project.open(tmp_path / "p") as p:
        assert p.job(done).state == "done"
        job = p.job(running)
        assert job.state == "failed" and "Interrupted" in job.error
        assert list((p.path / "audio").iterdir()) == []


def test_missing_project_says_how_to_create_one(tmp_path):
    with pytest.raises(ProjectNotFound, match="timbre project new"):
        Project.open(tmp_path / "nope")


def test_newer_schema_is_refused_with_a_clear_message(tmp_path):
    with Project.create(tmp_path / "p") as p:
        p.db.execute("PRAGMA user_version=99")
    with pytest.raises(SchemaTooNew, match="newer Timbre Studio.*Update"):
        Project.open(tmp_path / "p")


def test_forward_migration_backs_up_first_and_keeps_data(tmp_path, monkeypatch):
    with Project.create(tmp_path / "p") as p:
        p.add_take(tone(), "kept", "import")
    base = schema.LATEST
    extra = "ALTER TABLE takes ADD COLUMN rating INTEGER NOT NULL DEFAULT 0;"
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, extra])
    monkeypatch.setattr(schema, "LATEST", len(schema.MIGRATIONS))
    import desktop.project.store as store

    monkeypatch.setattr(store, "MIGRATIONS", schema.MIGRATIONS)
    monkeypatch.setattr(store, "LATEST", schema.LATEST)
    with Project.open(tmp_path / "p") as p:
        assert p.db.execute("PRAGMA user_version").fetchone()[0] == base + 1
        assert p.db.execute("SELECT name, rating FROM takes").fetchall()[0][:] == ("kept", 0)
    backup = tmp_path / "p.timbre" / f"project.db.v{base}.bak"
    assert backup.is_file()
    old = sqlite3.connect(backup)
    assert old.execute("PRAGMA user_version").fetchone()[0] == base
    assert old.execute("SELECT name FROM takes").fetchone()[0] == "kept"
    old.close()


def test_failed_migration_leaves_project_at_old_version(tmp_path, monkeypatch):
    with Project.create(tmp_path / "p") as p:
        p.add_take(tone(), "kept", "import")
    import desktop.project.store as store

    monkeypatch.setattr(store, "MIGRATIONS", [*schema.MIGRATIONS, "ALTER TABLE nosuch ADD x;"])
    monkeypatch.setattr(store, "LATEST", len(schema.MIGRATIONS) + 1)
    with pytest.raises(sqlite3.OperationalError):
        Project.open(tmp_path / "p")
    monkeypatch.undo()
    with Project.open(tmp_path / "p") as p:
        assert p.db.execute("PRAGMA user_version").fetchone()[0] == schema.LATEST
        assert [t.name for t in p.takes()] == ["kept"]


def test_same_audio_written_later_is_still_deduplicated(project):
    """Float WAVs carry no write-time stamp, so identical audio always has one address."""
    import time

    a = project.add_take(tone(f=330.0), "a", "import")
    time.sleep(1.1)
    b = project.add_take(tone(f=330.0), "b", "import")
    assert a.audio_sha256 == b.audio_sha256
