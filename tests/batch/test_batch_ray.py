"""Batch rows on a private Ray cluster on 127.0.0.1 (two workers), started by the test.

The small case (a plug-in engine's rows, no model) stays in the default suite; the full
case — a dozen Piper rows and debug MusicGen rows, a worker killed mid-run, a rerun — is
slow (a model load per worker process) and marked so.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
import soundfile as sf

from desktop.session.batch import STATE_NAME, run_batch
from desktop.session.manifest import build_rows, load_rows
from engines.cancel import CancelToken
from engines.errors import Cancelled
from tests.batch.conftest import SENTENCES, write_manifest
from tests.conftest import REPO

PLUGIN_DIR = REPO / "tests" / "foundation" / "plugin_fixture"


def ray_rows(title: str) -> list[int]:
    """Ray worker processes whose title says they are running a batch row."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if cmdline.startswith(title):
            found.append(int(entry.name))
    return found


def done_rows(folder: Path) -> list[int]:
    lines = (folder / STATE_NAME).read_text().splitlines()
    return sorted(json.loads(x)["row"] for x in lines if json.loads(x)["state"] == "done")


def test_plugin_rows_on_a_private_ray_cluster(tmp_path, ray_temp, tone_plugin):
    rows = build_rows([{"engine": "tone-plugin", "text": f"t{i}", "pitch_hz": 200 + 50 * i}
                       for i in range(4)], tmp_path)
    report = run_batch(rows, output_dir=tmp_path / "out", ray="local", workers=2,
                       ray_temp=ray_temp)
    assert report.count("done") == 4, [s.error for s in report.rows]
    assert done_rows(tmp_path / "out") == [1, 2, 3, 4]
    info = sf.info(str(tmp_path / "out" / "0003-sfx-t2.wav"))
    assert info.samplerate == 16_000 and abs(info.duration - 0.5) < 1e-3


@pytest.mark.slow
def test_a_dozen_speech_and_music_rows_survive_a_killed_worker(tmp_path, ray_temp):
    rows = [{"kind": "speech", "text": s, "voice": "joe", "seed": i}
            for i, s in enumerate(SENTENCES)]
    rows += [{"kind": "music", "prompt": p, "duration": 1, "seed": i, "model": "debug"}
             for i, p in enumerate(["calm piano", "drums"])]
    manifest = write_manifest(tmp_path / "m.jsonl", rows, "jsonl")
    killed: list[int] = []

    def progress(p):
        if p.count("done") >= 1 and not killed:
            running = ray_rows("ray::timbre-row-")
            if running:
                os.kill(running[0], signal.SIGKILL)
                killed.append(running[0])

    out = tmp_path / "out"
    report = run_batch(load_rows(manifest), output_dir=out, ray="local", workers=2,
                       progress=progress, ray_temp=ray_temp)
    assert killed, "no worker was running a row to kill"
    assert report.count("done") == 14, [s.error for s in report.rows if s.error]
    assert done_rows(out) == list(range(1, 15))  # every row once, the killed one redone
    assert len(list(out.glob("*.wav"))) == 14
    from engines.tags import read_tags

    (take,) = read_tags(out / "0013-music-calm-piano.wav").provenance["takes"]
    assert take["engine"] == "musicgen" and take["watermarked"]

    again = run_batch(load_rows(manifest), output_dir=out, ray="local", workers=2,
                      ray_temp=ray_temp)
    assert again.count("skipped") == 14 and again.count("done") == 0


@pytest.mark.slow
def test_cancel_on_ray_stops_the_rows_and_a_rerun_finishes_them(tmp_path, ray_temp):
    rows = [{"kind": "speech", "text": s, "voice": "joe"} for s in SENTENCES[:6]]
    manifest = write_manifest(tmp_path / "m.csv", rows)
    token = CancelToken()

    def progress(p):
        if p.count("done") >= 1:
            token.cancel()

    with pytest.raises(Cancelled):
        run_batch(load_rows(manifest), output_dir=tmp_path / "out", ray="local", workers=2,
                  progress=progress, cancel=token, ray_temp=ray_temp)
    assert not ray_rows("ray::timbre-row-")  # no task left running
    first = done_rows(tmp_path / "out")
    rest = run_batch(load_rows(manifest), output_dir=tmp_path / "out", workers=1)
    assert rest.count("skipped") == len(first) and rest.count("done") == 6 - len(first)
