"""``timbre batch``: rows rendered once each, where the user asked, however the run ends.

Real engines where they ship (Piper joe); an engine of the test's own only to make rows fail
on purpose. The local pool and the in-process runner here; Ray in test_batch_ray.py.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal

import pytest

from desktop.project.store import Project
from desktop.session.batch import STATE_NAME, run_batch
from desktop.session.manifest import build_rows, load_rows
from engines.cancel import CancelToken
from engines.errors import BadInput, Cancelled
from engines.settings import set_setting
from engines.tags import read_tags
from tests.batch.conftest import speech_manifest, write_manifest


def done_records(folder):
    lines = (folder / STATE_NAME).read_text().splitlines()
    return [json.loads(x) for x in lines if json.loads(x)["state"] == "done"]


def test_rows_are_known_by_what_they_ask_for_not_where_they_stand(tmp_path, flaky_engine):
    rows = [{"engine": "flaky-test", "text": t} for t in ("a", "b", "a")]
    keys = [r.key for r in build_rows(rows, tmp_path)]
    assert keys[0] != keys[1] and keys[2] == keys[0] + "#2"  # the same job twice: two takes
    swapped = [r.key for r in build_rows([rows[1], rows[0]], tmp_path)]
    assert swapped == [keys[1], keys[0]]
    manifest = write_manifest(tmp_path / "m.csv", [{"kind": "speech", "text": "Hi.", "voice": "joe"},
                                                   {"kind": "speech", "text": "Hi.", "pace": "2"}])
    with pytest.raises(BadInput, match=r"m\.csv, row 2: .*no setting called pace"):
        load_rows(manifest)
    bad = write_manifest(tmp_path / "b.jsonl", [{"kind": "music", "prompt": "x", "duration": "long"}],
                         "jsonl")
    with pytest.raises(BadInput, match=r"row 1: .*duration must be a number"):
        load_rows(bad)


def test_a_batch_writes_what_single_runs_write_and_a_rerun_skips_it(tmp_path):
    set_setting("watermark", False)  # the driver's decision reaches the worker (and is quick)
    rows = load_rows(speech_manifest(tmp_path / "m.csv", 3))
    out = tmp_path / "out"
    report = run_batch(rows, output_dir=out, workers=1)
    assert report.count("done") == 3 and not report.failed
    files = sorted(p.name for p in out.glob("*.wav"))
    assert len(files) == 3 and files[0].startswith("0001-speech-one")
    tags = read_tags(out / files[0])
    (take,) = tags.provenance["takes"]
    assert take["engine"] == "piper" and take["prompt"] == "One. 0" and not take["watermarked"]

    again = run_batch(load_rows(tmp_path / "m.csv"), output_dir=out, workers=1)
    assert again.count("skipped") == 3 and again.count("done") == 0
    (out / files[1]).unlink()  # a deleted result is made again, only it
    third = run_batch(load_rows(tmp_path / "m.csv"), output_dir=out, workers=1)
    assert third.count("done") == 1 and (out / files[1]).is_file()

    Project.create(tmp_path / "p").close()
    with Project.open(tmp_path / "p.timbre") as project:
        stored = run_batch(rows[:2], project=project, workers=1)
        assert stored.count("done") == 2
        takes = project.takes()
        assert len(takes) == 2 and all(project.job(t.job_id).state == "done" for t in takes)
        assert {t.provenance["prompt"] for t in takes} == {"One. 0", "Two birds. 1"}
        assert project.load_audio(takes[0].audio_sha256).sample_rate == project.sample_rate
        assert run_batch(rows[:2], project=project, workers=1).count("skipped") == 2
        state_file = tmp_path / "p.timbre.batch.jsonl"
        state_file.unlink()  # as if it crashed after storing, before noting the rows
        assert run_batch(rows[:2], project=project, workers=1).count("skipped") == 2
        assert len(project.takes()) == 2


def test_a_failing_row_is_retried_then_reported_and_the_rest_finish(tmp_path, flaky_engine):
    rows = build_rows([{"engine": "flaky-test", "text": t} for t in ("ok", "flaky", "fail")], tmp_path)
    report = run_batch(rows, output_dir=tmp_path / "out", workers=1, retries=1)
    assert report.count("done") == 2
    (failed,) = report.failed
    assert failed.row.number == 3 and "the fail row broke" in failed.error
    assert flaky_engine == {"ok": 1, "flaky": 2, "fail": 2}
    from tests.batch.conftest import FlakyEngine

    assert FlakyEngine.made == 1  # one engine for the worker's five calls
    rerun = run_batch(rows, output_dir=tmp_path / "out", workers=1, retries=0)
    assert rerun.count("skipped") == 2 and len(rerun.failed) == 1  # failed rows run again
    assert flaky_engine["fail"] == 3 and flaky_engine["ok"] == 1


def test_cancel_stops_the_batch_and_a_rerun_finishes_only_the_rest(tmp_path, flaky_engine):
    rows = build_rows([{"engine": "flaky-test", "text": f"ok {i}"} for i in range(5)], tmp_path)
    token = CancelToken()

    def progress(p):
        if p.count("done") == 2:
            token.cancel()

    with pytest.raises(Cancelled):
        run_batch(rows, output_dir=tmp_path / "out", workers=1, progress=progress, cancel=token)
    assert len(done_records(tmp_path / "out")) == 2
    rest = run_batch(rows, output_dir=tmp_path / "out", workers=1)
    assert rest.count("skipped") == 2 and rest.count("done") == 3
    assert sorted(flaky_engine.values()) == [1] * 5  # nothing made twice


def test_a_local_pool_renders_rows_in_worker_processes(tmp_path, tone_plugin):
    rows = build_rows([{"engine": "tone-plugin", "text": f"t{i}", "pitch_hz": 300 + 10 * i}
                       for i in range(6)], tmp_path)
    seen = set()

    def progress(p):
        seen.update(c.pid for c in multiprocessing.active_children())

    report = run_batch(rows, output_dir=tmp_path / "out", workers=2, progress=progress)
    assert report.count("done") == 6 and len(seen) == 2  # two workers, each used for rows
    assert sorted(r["row"] for r in done_records(tmp_path / "out")) == [1, 2, 3, 4, 5, 6]
    (take,) = read_tags(tmp_path / "out" / "0004-sfx-t3.wav").provenance["takes"]
    assert take["engine"] == "tone-plugin" and take["params"]["pitch_hz"] == 330


@pytest.mark.slow
def test_local_pool_loses_no_row_when_a_worker_is_killed(tmp_path):
    set_setting("watermark", False)
    rows = load_rows(speech_manifest(tmp_path / "m.jsonl", 6, "jsonl"))
    killed = []

    def progress(p):
        if p.count("done") == 1 and not killed:
            workers = multiprocessing.active_children()
            assert len(workers) == 2
            os.kill(workers[0].pid, signal.SIGKILL)
            killed.append(workers[0].pid)

    report = run_batch(rows, output_dir=tmp_path / "out", workers=2, progress=progress)
    assert killed and report.count("done") == 6 and not report.failed
    assert any(s.crashes == 1 for s in report.rows)  # a row was lost with the worker, and redone
    records = done_records(tmp_path / "out")
    assert sorted(r["row"] for r in records) == [1, 2, 3, 4, 5, 6]  # each once
    assert len(list((tmp_path / "out").glob("*.wav"))) == 6


def test_the_batch_command_reports_rows_and_resumes(timbre_cli, tmp_path):
    from tests.batch.test_batch_ray import PLUGIN_DIR
    from tests.conftest import REPO

    env = {"PYTHONPATH": os.pathsep.join([str(PLUGIN_DIR), str(REPO)])}
    manifest = write_manifest(tmp_path / "tones.csv", [
        {"engine": "tone-plugin", "text": "low", "pitch_hz": 220, "output": "low.flac"},
        {"engine": "tone-plugin", "text": "high", "pitch_hz": 880}])
    ran = timbre_cli("batch", manifest, "-o", tmp_path / "out", "--workers", "1", env=env)
    assert ran.returncode == 0, ran.stderr
    assert "2 rendered, 0 already done, 0 failed" in ran.stdout
    assert "row 1 done" in ran.stderr and "low.flac" in ran.stderr
    assert (tmp_path / "out" / "low.flac").is_file()
    again = timbre_cli("batch", manifest, "-o", tmp_path / "out", env=env)
    assert again.returncode == 0 and "0 rendered, 2 already done" in again.stdout
    bad = write_manifest(tmp_path / "bad.csv", [{"kind": "song", "prompt": "x"}])
    refused = timbre_cli("batch", bad, "-o", tmp_path / "out", env=env)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        "timbre: bad.csv, row 1: 'song' is not a kind of job; use music, sfx, speech, convert, "
        "master (or an engine column)."]


@pytest.mark.slow
def test_a_master_row_writes_the_episode_once(tmp_path):
    from engines.audio_io import write_audio
    from tests.podcast.synth import music_bed, say

    write_audio(tmp_path / "host.wav", say("Welcome back to the show. Today we talk about gardens."))
    write_audio(tmp_path / "bed.wav", music_bed(4.0))
    manifest = write_manifest(tmp_path / "m.csv", [
        {"kind": "master", "inputs": "host.wav", "music": "bed.wav", "output": "ep1.flac",
         "title": "Episode one", "denoise": "false"}])
    report = run_batch(load_rows(manifest), output_dir=tmp_path / "out", workers=1)
    assert report.count("done") == 1, [s.error for s in report.rows]
    tags = read_tags(tmp_path / "out" / "ep1.flac")
    assert tags.fields.get("title") == "Episode one"
    again = run_batch(load_rows(manifest), output_dir=tmp_path / "out", workers=1)
    assert again.count("skipped") == 1
    with pytest.raises(BadInput, match="Master rows write episode files"):
        Project.create(tmp_path / "p").close()
        with Project.open(tmp_path / "p.timbre") as project:
            run_batch(load_rows(manifest), project=project)


def test_rows_ask_for_a_gpu_only_where_the_cluster_has_one(tmp_path, flaky_engine):
    from desktop.session.manifest import resources_for
    from engines.cluster import Cluster

    assert resources_for("musicgen") == {"cpus": 1.0, "gpus": 1.0}
    assert resources_for("piper") == {"cpus": 1.0, "gpus": 0.0}
    assert Cluster("local", 2, 0, True).resources(1, 1) == {"num_cpus": 1, "num_gpus": 0}
    assert Cluster("ray://h:10001", 64, 8, False).resources(1, 1) == {"num_cpus": 1, "num_gpus": 1}
    (row,) = build_rows([{"kind": "music", "prompt": "x", "model": "debug"}], tmp_path)
    assert row.engine == "musicgen" and row.resources["gpus"] == 1.0
    assert row.spec.options == {"model": "debug"}
