"""Several programs on one project, symlinks and damaged databases: nothing of ours or
anybody else's is lost, and the user gets one line, not a traceback."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from desktop.project import store
from desktop.project.errors import ProjectBusy, ProjectCorrupt, ProjectDamaged
from desktop.project.repair import repair_project
from desktop.project.store import Project
from desktop.project.timeline import Timeline
from engines.audio import AudioClip
from tests.conftest import REPO

ENV = {**os.environ, "PYTHONPATH": str(REPO)}

WRITER = r"""
import sys, numpy as np
from desktop.project.store import Project
from desktop.project.timeline import Timeline
from engines.audio import AudioClip
path, seed, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(seed)
for i in range(n):
    # A fresh open for every take, as a loop of command lines does.
    with Project.open(path) as p:
        clip = AudioClip(rng.standard_normal((1, 4800)).astype("float32") * 0.1, 48000)
        track = Timeline(p).add_track(f"w{seed}-{i}")
        p.add_take(clip, f"w{seed}-{i}", "speech", place_on_track=track)
print("done", flush=True)
"""

OPENER = r"""
import sys, time
from desktop.project.store import Project
end = time.monotonic() + float(sys.argv[2])
n = 0
while time.monotonic() < end:
    with Project.open(sys.argv[1]) as p:
        p.tracks()
    n += 1
print(n, flush=True)
"""


def _clip(seed: int = 0, frames: int = 4800) -> AudioClip:
    rng = np.random.default_rng(seed)
    return AudioClip(rng.standard_normal((1, frames)).astype(np.float32) * 0.1, 48_000)


def _missing_audio(path) -> list[int]:
    with Project.open(path) as p:
        return [t.id for t in p.takes() if not p.audio_path(t.audio_sha256).is_file()]


def test_two_writers_and_an_opener_lose_no_take(tmp_path):
    """The probe's loss: opening deleted other writers' staged and uncommitted audio."""
    Project.create(tmp_path / "shared").close()
    path = tmp_path / "shared.timbre"
    per_writer = 150
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(s), str(per_writer)],
                         cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
        for s in (1, 2)
    ]
    opener = subprocess.Popen([sys.executable, "-c", OPENER, str(path), "1000"], cwd=REPO,
                              env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for w in writers:
            out, err = w.communicate(timeout=300)
            assert w.returncode == 0, err  # no UNIQUE clash, no "database is locked"
    finally:
        opener.kill()
        _, opener_err = opener.communicate()
    assert "Traceback" not in opener_err
    with Project.open(path) as p:
        takes = p.takes()
        assert len(takes) == 2 * per_writer
        assert len(p.tracks()) == 2 * per_writer
        assert len(p.clips()) == 2 * per_writer
    assert _missing_audio(path) == []


def test_open_elsewhere_keeps_the_other_programs_running_job_and_staging(tmp_path):
    with Project.create(tmp_path / "p") as studio:
        job = studio.create_job("music", "musicgen", {})
        studio.update_job(job, "running")
        staged = studio.path / "audio" / ".incoming-abc.wav.part"
        staged.write_bytes(b"being written")
        renamed = studio.path / "audio" / ("a" * 64 + ".wav")  # renamed, rows not yet committed
        renamed.write_bytes(b"committing")
        with Project.open(studio.path) as cli:  # e.g. `timbre project info` meanwhile
            assert cli.job(job).state == "running"
        assert staged.exists() and renamed.exists()
        assert studio.job(job).state == "running"
    # Alone again: the leftovers of a program that is gone are cleaned.
    with Project.open(tmp_path / "p") as p:
        assert p.job(job).state == "failed"
        assert not staged.exists() and not renamed.exists()


def test_symlinked_audio_folder_is_never_cleaned_through(tmp_path):
    elsewhere = tmp_path / "synced"
    elsewhere.mkdir()
    precious = [elsewhere / "holiday.wav", elsewhere / ("b" * 64 + ".wav"), elsewhere / "notes"]
    for f in precious:
        f.write_bytes(b"not the project's")
    with Project.create(tmp_path / "p") as p:
        (p.path / "audio").rmdir()
        (p.path / "audio").symlink_to(elsewhere, target_is_directory=True)
        p.add_take(_clip(), "t", "import")
    with Project.open(tmp_path / "p") as p:
        assert all(f.exists() for f in precious)
        assert p.load_audio(p.takes()[0].audio_sha256).frames == 4800
    # A symlink inside a real audio folder is not followed or removed either.
    with Project.create(tmp_path / "q") as q:
        link = q.path / "audio" / ("c" * 64 + ".wav")
        link.symlink_to(precious[0])
        user_file = q.path / "audio" / "readme.txt"
        user_file.write_text("mine")
    Project.open(tmp_path / "q").close()
    assert link.is_symlink() and precious[0].exists() and user_file.exists()


def _flip_index_bytes(db_path, index_name: str, sha: str) -> None:
    """Change 4 bytes of ``sha`` inside the given index's page (the probe's corruption)."""
    con = sqlite3.connect(db_path)
    page = con.execute("SELECT rootpage FROM sqlite_master WHERE name=?", (index_name,)).fetchone()[0]
    size = con.execute("PRAGMA page_size").fetchone()[0]
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    data = bytearray(db_path.read_bytes())
    start = (page - 1) * size
    at = data.index(sha.encode(), start, start + size)
    data[at + 10 : at + 14] = b"ZZZZ"
    db_path.write_bytes(bytes(data))


def test_byte_flipped_index_deletes_nothing_and_repair_salvages(tmp_path, timbre_cli):
    with Project.create(tmp_path / "p") as p:
        track = Timeline(p).add_track("t")
        shas = [p.add_take(_clip(i), f"take{i}", "import", place_on_track=track,
                           at_frame=i * 4800).audio_sha256 for i in range(3)]
    path = tmp_path / "p.timbre"
    _flip_index_bytes(path / "project.db", "sqlite_autoindex_audio_files_1", shas[1])

    info = timbre_cli("project", "info", path)
    assert info.returncode != 0 and "Traceback" not in info.stderr
    assert "damaged" in info.stderr and "timbre project repair" in info.stderr
    assert all((path / "audio" / f"{s}.wav").exists() for s in shas), "nothing deleted"

    with Project.open(path) as p:  # read-only: writes refused before any audio is written
        assert p.damaged
        with pytest.raises(ProjectDamaged, match="repair"):
            p.add_take(_clip(9), "new", "import")
    before = len(list((path / "audio").iterdir()))
    assert before == 3
    # what is still readable can be heard and exported before any repair
    exported = timbre_cli("export", path, "-o", tmp_path / "before-repair.wav")
    assert exported.returncode == 0, exported.stderr
    assert sf.info(str(tmp_path / "before-repair.wav")).frames >= 3 * 4800

    check = timbre_cli("project", "check", path)
    assert check.returncode == 1 and "repair" in check.stderr
    fixed = timbre_cli("project", "repair", path)
    assert fixed.returncode == 0, fixed.stderr
    assert list(path.glob("project.db.damaged-*")), "the damaged file is kept"
    with Project.open(path) as p:
        assert p.damaged is None
        assert sorted(t.audio_sha256 for t in p.takes()) == sorted(shas)
        p.add_take(_clip(9), "new", "import")  # writable again
    assert timbre_cli("project", "check", path).returncode == 0


def test_damaged_table_page_opens_read_only_and_import_writes_nothing(tmp_path, timbre_cli,
                                                                     make_wav):
    with Project.create(tmp_path / "p") as p:
        for i in range(60):  # a few pages of takes
            p.add_take(_clip(i, 480), f"take number {i} " + "x" * 200, "import")
    path = tmp_path / "p.timbre"
    db = path / "project.db"
    con = sqlite3.connect(db)
    page = con.execute("SELECT rootpage FROM sqlite_master WHERE name='takes'").fetchone()[0]
    size = con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    data = bytearray(db.read_bytes())
    data[(page - 1) * size + 8 : (page - 1) * size + 40] = b"\xff" * 32  # interior page header
    db.write_bytes(bytes(data))
    snapshot = db.read_bytes()

    result = timbre_cli("import", path, make_wav())
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "repair" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert db.read_bytes() == snapshot, "nothing written into the damaged file"
    assert len(list((path / "audio").glob("*.wav"))) == 60

    assert timbre_cli("project", "repair", path).returncode == 0
    with Project.open(path) as p:
        assert p.damaged is None
        takes = p.takes()  # every intact audio file is a take again, none deleted
        assert len(takes) == 60
        assert all(p.audio_path(t.audio_sha256).is_file() for t in takes)
        assert any(t.name.startswith("Recovered audio") for t in takes)


def test_a_long_lock_by_another_program_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "BUSY_TIMEOUT_S", 0.3)
    with Project.create(tmp_path / "p") as p:
        other = sqlite3.connect(p.path / "project.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(ProjectBusy, match="busy: another program"):
                p.add_take(_clip(), "t", "import")
        finally:
            other.execute("ROLLBACK")
            other.close()
        p.add_take(_clip(), "t", "import")  # and works once the other lets go
        assert len(p.takes()) == 1


def test_repair_refuses_while_the_project_is_open(tmp_path):
    with Project.create(tmp_path / "p") as p:
        with pytest.raises(ProjectBusy, match="Close it there"):
            repair_project(p.path)


def test_crafted_numbers_in_project_db_are_one_line(tmp_path, timbre_cli):
    with Project.create(tmp_path / "p") as p:
        take = p.add_take(_clip(), "t", "import")
        tl = Timeline(p)
        track = tl.add_track()
        clip_id = tl.add_clip(track, take.id, 0)
    path = tmp_path / "p.timbre"
    con = sqlite3.connect(path / "project.db")
    con.execute("UPDATE clips SET gain_db=1e308 WHERE id=?", (clip_id,))
    con.commit()
    out = timbre_cli("export", path, "-o", tmp_path / "out.wav")
    assert out.returncode == 1 and "impossible gain db" in out.stderr
    assert "Traceback" not in out.stderr
    con.execute("UPDATE clips SET gain_db=0")
    con.execute("UPDATE meta SET value='0' WHERE key='sample_rate'")
    con.commit()
    con.close()
    with Project.open(path) as p, pytest.raises(ProjectCorrupt, match="sample rate"):
        p.mixdown()
    out = timbre_cli("export", path, "-o", tmp_path / "out.wav")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert timbre_cli("project", "repair", path).returncode == 0
    with Project.open(path) as p:
        assert p.sample_rate == 48_000


def test_ids_are_reserved_so_two_editors_never_clash(tmp_path):
    with Project.create(tmp_path / "p") as a, Project.open(a.path) as b:
        ta, tb = Timeline(a), Timeline(b)
        ids = [ta.add_track(), tb.add_track(), ta.add_track()]
        assert len(set(ids)) == 3
        ta.undo()  # the id of an undone insert is not handed to anybody else
        fresh = tb.add_track()
        assert fresh not in ids
        ta.redo()
        assert {t.id for t in a.tracks()} == {*ids, fresh}
        clip = b.add_take(_clip(), "t", "import", place_on_track=ids[0])
        assert clip.id


@pytest.fixture
def make_wav(tmp_path):
    def make() -> os.PathLike:
        f = tmp_path / "in.wav"
        sf.write(f, np.zeros((4800, 2), np.float32) + 0.01, 48_000)
        return f

    return make


def test_stored_audio_gets_the_users_file_mode(tmp_path):
    old = os.umask(0o022)
    try:
        with Project.create(tmp_path / "p") as p:
            take = p.add_take(_clip(), "t", "import")
            assert (p.audio_path(take.audio_sha256).stat().st_mode & 0o777) == 0o644
    finally:
        os.umask(old)
