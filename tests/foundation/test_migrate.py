"""One open-and-migrate helper for every store: the project, the voice library, voice banks."""

from __future__ import annotations

import sqlite3

import pytest

from engines.blobs import SchemaTooNewError, connect, migrate
from engines.errors import BadInput


def test_migrate_steps_forward_backs_up_and_rolls_back_a_failed_step(tmp_path):
    path = tmp_path / "store.sqlite"
    steps = ["CREATE TABLE a (x INTEGER);", "ALTER TABLE a ADD COLUMN y TEXT;"]
    db = connect(path)
    assert migrate(db, steps[:1], backup=path) == 0
    db.execute("INSERT INTO a (x) VALUES (1)")
    db.commit()
    assert migrate(db, steps, backup=path) == 1
    assert (tmp_path / "store.sqlite.v1.bak").is_file()  # kept before changing it
    assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    with pytest.raises(sqlite3.OperationalError):
        migrate(db, [*steps, "ALTER TABLE a ADD COLUMN y TEXT;"])  # duplicate column
    assert db.execute("PRAGMA user_version").fetchone()[0] == 2  # step not half-applied
    with pytest.raises(SchemaTooNewError):
        migrate(db, steps[:1])
    db.close()


def test_a_library_or_bank_from_a_newer_version_is_refused_in_one_line(tmp_path):
    from engines.banking.bank import VoiceBank
    from engines.voices.library import VoiceLibrary

    VoiceLibrary(tmp_path / "lib")
    con = sqlite3.connect(tmp_path / "lib" / "library.sqlite")
    con.execute("PRAGMA user_version=99")
    con.close()
    with pytest.raises(BadInput, match="newer Timbre Studio"):
        VoiceLibrary(tmp_path / "lib")

    (tmp_path / "bank").mkdir()
    con = sqlite3.connect(tmp_path / "bank" / "bank.sqlite")
    con.execute("PRAGMA user_version=99")
    con.close()
    with pytest.raises(BadInput, match="newer Timbre Studio"):
        VoiceBank.open(tmp_path / "bank").meta("speaker")
