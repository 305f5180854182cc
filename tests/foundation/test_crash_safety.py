"""Kill the process mid-write (SIGKILL), reopen: nothing half-written, nothing lost."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile as sf

from desktop.project.store import Project
from tests.conftest import REPO

WRITER = r"""
import sys, numpy as np
from desktop.project.store import Project
from engines.provenance import Provenance
from engines.audio import AudioClip
p = Project.open(sys.argv[1])
job = p.create_job("music", "test", {})
p.update_job(job, "running")
rng = np.random.default_rng(int(sys.argv[2]))
i = 0
while True:   # until killed: imports and generated takes, as fast as possible
    p.import_file(sys.argv[3])
    clip = AudioClip(rng.standard_normal((2, 48000)).astype("float32") * 0.1, 48000)
    p.add_take(clip, f"take{i}", "music", provenance=Provenance(engine="test", seed=i),
               job_id=job, place_on_track=p.tracks()[0].id, at_frame=i * 1000)
    i += 1
    print(i, flush=True)
"""


def _check_consistent(path):
    with Project.open(path) as p:
        assert p.integrity_check() == "ok"
        db = p.db
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        files = {f.stem for f in (p.path / "audio").iterdir()}
        rows = {r[0] for r in db.execute("SELECT sha256 FROM audio_files")}
        assert files == rows, "every file has a row and every row has its file"
        for sha in rows:
            data = (p.path / "audio" / f"{sha}.wav").read_bytes()
            assert hashlib.sha256(data).hexdigest() == sha, "committed audio is intact"
        for take in p.takes():
            clip = p.load_audio(take.audio_sha256)
            assert abs(clip.duration - take.duration) < 1e-6
        orphans = db.execute(
            "SELECT COUNT(*) FROM clips WHERE take_id NOT IN (SELECT id FROM takes)"
        ).fetchone()[0]
        assert orphans == 0
        assert all(j.state != "running" for j in p.jobs())
        return len(p.takes())


@pytest.mark.parametrize("delay", [0.35, 0.8, 1.3])
def test_sigkill_mid_import_or_commit_then_reopen(tmp_path, delay):
    src = tmp_path / "in.wav"
    t = np.arange(48000 * 2) / 48000
    sf.write(src, np.stack([np.sin(2 * np.pi * 330 * t)] * 2, 1) * 0.3, 48000)
    with Project.create(tmp_path / "p") as p:
        p.import_file(src)
    path = tmp_path / "p.timbre"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(int(delay * 100)), str(src)],
        cwd=REPO, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    first = proc.stdout.readline()  # at least one full round committed
    assert first.strip(), "writer did not start"
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    committed = _check_consistent(path)
    assert committed >= 3
    # The project stays usable after recovery.
    with Project.open(path) as p:
        p.import_file(src)
    _check_consistent(path)
