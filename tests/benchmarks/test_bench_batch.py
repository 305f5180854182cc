"""Batch throughput: one manifest run in this process, on a local pool and on a private
Ray cluster, and Ray's own cost per row.

- Throughput: a manifest of Piper (joe) sentences, watermark off (the marker is the same
  work everywhere), rendered sequentially (one process, one model load), with the local
  pool (``--workers N``) and on a private Ray cluster on 127.0.0.1 with N CPUs. Times
  include each worker's model load, as a user's run does.
- Ray overhead per row: rows that do almost nothing (the test plug-in's half-second tone)
  on Ray, minus the cluster's start-up and the same rows in-process, per row.

Run: ``make bench-batch`` (BATCH_ROWS, BATCH_WORKERS to change the size; a few minutes).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time

import pytest

from desktop.session.batch import run_batch
from desktop.session.manifest import build_rows
from engines.settings import set_setting
from tests.batch.conftest import SENTENCES
from tests.batch.conftest import tone_plugin as tone_plugin_fixture  # noqa: F401 - its fixture

pytestmark = [pytest.mark.bench, pytest.mark.timeout(3600)]
ROWS = int(os.environ.get("BATCH_ROWS", "24"))
WORKERS = int(os.environ.get("BATCH_WORKERS", "2"))


def timed(rows, tmp_path, name, **kw) -> float:
    t0 = time.perf_counter()
    report = run_batch(rows, output_dir=tmp_path / name, **kw)
    elapsed = time.perf_counter() - t0
    assert report.count("done") == len(rows), [s.error for s in report.failed]
    return elapsed


@pytest.mark.usefixtures("tone_plugin_fixture")
def test_bench_batch_throughput_and_ray_overhead(tmp_path):
    from engines.cluster import connect

    set_setting("watermark", False)
    text = [SENTENCES[i % len(SENTENCES)] + " It is a fine day for a walk." for i in range(ROWS)]
    rows = build_rows([{"kind": "speech", "text": f"{t} {i}", "voice": "joe"}
                       for i, t in enumerate(text)], tmp_path)
    ray_dir = tempfile.mkdtemp(prefix="rb", dir="/tmp")
    print(f"\nbatch of {ROWS} Piper rows, {WORKERS} workers, {os.cpu_count()} cores "
          f"(load {os.getloadavg()[0]:.1f}):")
    try:
        seq = timed(rows, tmp_path, "seq", workers=1)
        print(f"  sequential   {seq:7.1f} s  {ROWS / seq:5.2f} rows/s  1.00x", flush=True)
        pool = timed(rows, tmp_path, "pool", workers=WORKERS)
        print(f"  local pool   {pool:7.1f} s  {ROWS / pool:5.2f} rows/s  {seq / pool:.2f}x",
              flush=True)
        ray = timed(rows, tmp_path, "ray", ray="local", workers=WORKERS, ray_temp=ray_dir)
        print(f"  local Ray    {ray:7.1f} s  {ROWS / ray:5.2f} rows/s  {seq / ray:.2f}x",
              flush=True)

        tones = build_rows([{"engine": "tone-plugin", "text": f"t{i}", "seconds": 0.1}
                            for i in range(4 * ROWS)], tmp_path)
        t0 = time.perf_counter()
        with connect("local", WORKERS, ray_dir):
            pass
        start = time.perf_counter() - t0
        here = timed(tones, tmp_path, "tones-here", workers=1)
        on_ray = timed(tones, tmp_path, "tones-ray", ray="local", workers=WORKERS,
                       ray_temp=ray_dir)
    finally:
        shutil.rmtree(ray_dir, ignore_errors=True)
    overhead = (on_ray - start - here) / len(tones)
    print(f"Ray: cluster start+stop {start:.1f} s; {len(tones)} near-empty rows {on_ray:.1f} s "
          f"on Ray vs {here:.2f} s here → overhead {overhead * 1000:.0f} ms a row "
          "(worker start-up included)")
