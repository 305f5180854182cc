"""Render a manifest's rows: in this process, on a local pool of processes, or on Ray.

Workers only make takes (:func:`desktop.session.jobs.make_takes`, with the model cached in
the worker process, so each worker loads it once); the driver, this process, is the one
writer: it stores each row's takes through :func:`desktop.session.jobs.run_job` (job row,
provenance, resampling) or writes them as tagged files, exactly as a single ``timbre``
command would, and then appends the row's key to the state file beside the output.

Nothing lost, nothing done twice:
- a row whose key is in the state file (and whose files or takes are still there) is
  skipped; in a project, each job row also carries its batch key, so takes stored just
  before a crash (and not yet in the state file) are not stored again;
- a row that raises is tried again ``retries`` times, then reported failed with its
  number and error, and the batch goes on;
- a worker process that dies takes only its own row with it, which runs again (Ray
  re-runs the task; the local pool is rebuilt and the lost rows resubmitted);
- cancel (the token, or Ctrl-C) stops the remote tasks and worker processes too; rows
  already finished stay finished, so the next run picks up from there.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop.session.batch_runners import (
    InProcess,
    LocalPool,
    Made,
    RayRunner,
    Runner,
    Work,
    WorkerLost,
)
from desktop.session.manifest import BatchRow, slug
from engines.cancel import CancelToken
from engines.errors import BadInput, Cancelled, TimbreError

STATE_NAME = ".timbre-batch.jsonl"
CRASH_LIMIT = 3  # a row whose worker dies this many times is reported, not retried forever
POLL_S = 0.25


@dataclass
class RowState:
    """Where one row stands; the studio's table and the CLI's lines read these."""

    row: BatchRow
    state: str = "waiting"  # waiting | running | done | skipped | failed | cancelled
    attempts: int = 0
    crashes: int = 0
    error: str = ""
    outputs: list[str] = field(default_factory=list)  # files written, or "take N"
    seconds: float = 0.0
    started: float = 0.0


@dataclass
class BatchProgress:
    """The batch as a whole after each change; ``changed`` is the row that changed."""

    rows: list[RowState]
    elapsed: float
    changed: RowState | None = None

    def count(self, *states: str) -> int:
        return sum(r.state in states for r in self.rows)

    @property
    def finished(self) -> int:
        return self.count("done", "skipped", "failed")

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the pace of the rows rendered in this run; None before the first."""
        made = self.count("done")
        left = len(self.rows) - self.finished
        if made == 0:
            return None
        return self.elapsed / made * left

    def line(self) -> str:
        eta = self.eta_s
        left = "" if eta is None or self.finished == len(self.rows) else f", ~{_clock(eta)} left"
        return (f"{self.finished}/{len(self.rows)} rows: {self.count('done')} done, "
                f"{self.count('skipped')} already done, {self.count('failed')} failed{left}")


def _clock(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


BatchCallback = Callable[[BatchProgress], None]


# ---- the state file ------------------------------------------------------------------------
class BatchState:
    """Finished rows by key, one JSON line each, appended and synced as each row finishes,
    so a crash loses at most the row being written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: dict[str, dict[str, Any]] = {}
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            lines = []
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash: that row runs again
            if isinstance(record, dict) and record.get("state") == "done" and record.get("key"):
                self.done[str(record["key"])] = record

    def finished(self, row: BatchRow, folder: Path | None,
                 takes: set[int] | None = None) -> dict[str, Any] | None:
        """The row's record if it is done and its results are still there (a file or take
        someone deleted is made again); ``takes`` are the project's take ids."""
        record = self.done.get(row.key)
        if record is None:
            return None
        files = record.get("files") or []
        if folder is not None and not all((folder / f).is_file() for f in files):
            return None
        if takes is not None and not set(record.get("takes") or []) <= takes:
            return None
        return record

    def add(self, record: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        if record.get("state") == "done":
            self.done[record["key"]] = record


def state_path(output_dir: Path | None, project: Any | None) -> Path:
    if project is not None:
        folder = Path(project.path)
        return folder.with_name(folder.name + ".batch.jsonl")
    assert output_dir is not None
    return output_dir / STATE_NAME


# ---- the driver ------------------------------------------------------------------------------
@dataclass
class BatchReport:
    rows: list[RowState]
    elapsed: float
    state_file: Path

    def count(self, state: str) -> int:
        return sum(r.state == state for r in self.rows)

    @property
    def failed(self) -> list[RowState]:
        return [r for r in self.rows if r.state == "failed"]


def run_batch(
    rows: list[BatchRow],
    *,
    output_dir: str | Path | None = None,
    project: Any | None = None,
    ray: str | None = None,
    workers: int | None = None,
    retries: int = 1,
    progress: BatchCallback | None = None,
    cancel: CancelToken | None = None,
    ray_temp: str | Path | None = None,
) -> BatchReport:
    """Render every row not already done; see the module docstring for the guarantees.

    ``ray`` is None (this machine), ``"local"`` (a private Ray cluster here) or a cluster
    address. ``workers`` is the pool size here, or the private cluster's CPUs.
    """
    if (output_dir is None) == (project is None):
        raise BadInput("Say where the results go: an output folder or a project (one of them).")
    folder = Path(output_dir) if output_dir is not None else None
    if project is not None and any(r.kind == "master" for r in rows):
        raise BadInput("Master rows write episode files: run them with an output folder (-o DIR).")
    state = BatchState(state_path(folder, project))
    watermark = _watermark(project)
    states = [RowState(r) for r in rows]
    takes = {t.id for t in project.takes()} if project is not None else None
    if project is not None:
        state.done = {**stored_rows(project), **state.done}
    for s in states:
        record = state.finished(s.row, folder, takes)
        if record is not None:
            s.state, s.outputs = "skipped", list(record.get("files") or record.get("takes") or [])
    start = time.monotonic()
    notify = progress or (lambda _p: None)
    notify(BatchProgress(states, 0.0))
    todo = [s for s in states if s.state == "waiting"]
    if not todo:
        return BatchReport(states, 0.0, state.path)
    if ray:
        from engines.cluster import connect

        with connect(ray, workers, ray_temp) as cluster:
            _drive(RayRunner(cluster), todo, states, state, folder, project, watermark, retries,
                   notify, cancel, start)
    else:
        n = max(1, min(workers or (os.cpu_count() or 1), len(todo)))
        runner: Runner = InProcess(cancel) if n == 1 else LocalPool(n)
        _drive(runner, todo, states, state, folder, project, watermark, retries, notify,
               cancel, start)
    return BatchReport(states, time.monotonic() - start, state.path)


BATCH_KEY = "batch_key"  # in a project's job row: which batch row the job's takes are


def stored_rows(project: Any) -> dict[str, dict[str, Any]]:
    """Rows a project already holds, from its job rows: a crash between storing a row's
    takes and noting it in the state file must not store them twice."""
    by_job: dict[int, list[int]] = {}
    for take in project.takes():
        if take.job_id is not None:
            by_job.setdefault(take.job_id, []).append(take.id)
    found = {}
    for job in project.jobs():
        key = job.request.get(BATCH_KEY) if isinstance(job.request, dict) else None
        if key and job.state == "done" and by_job.get(job.id):
            found[str(key)] = {"key": key, "state": "done", "takes": by_job[job.id], "files": []}
    return found


def _watermark(project: Any | None) -> bool:
    from desktop.session.jobs import JobSpec, job_watermark
    from engines.settings import get_setting

    decided = job_watermark(JobSpec("", "", None, ""), project)
    return bool(get_setting("watermark")) if decided is None else bool(decided)


def _drive(runner: Runner, todo: list[RowState], states: list[RowState], state: BatchState,
           folder: Path | None, project: Any | None, watermark: bool, retries: int,
           notify: BatchCallback, cancel: CancelToken | None, start: float) -> None:
    queue = list(todo)
    flying: dict[Any, RowState] = {}
    limit = max(1, runner.capacity * runner.ahead)

    def report(changed: RowState) -> None:
        notify(BatchProgress(states, time.monotonic() - start, changed))

    try:
        while queue or flying:
            if cancel is not None and cancel.cancelled:
                raise Cancelled()
            while queue and len(flying) < limit:
                s = queue.pop(0)
                s.attempts += 1
                s.state, s.started, s.error = "running", time.monotonic(), ""
                flying[runner.submit(Work(s.row, watermark))] = s
                report(s)
            for handle in runner.ready(list(flying), POLL_S):
                s = flying.pop(handle, None)
                if s is None:
                    continue  # sent back to the queue with a lost worker's other rows
                try:
                    made = runner.result(handle)
                except WorkerLost as exc:
                    _lost(runner, flying, queue, s, exc)
                    report(s)
                    continue
                except Cancelled:
                    raise
                except Exception as exc:  # noqa: BLE001 - a row's error is reported, the batch goes on
                    s.error = _one_line(exc)
                    if s.attempts <= retries:
                        s.state = "waiting"
                        queue.append(s)
                    else:
                        s.state = "failed"
                        state.add({"key": s.row.key, "row": s.row.number, "state": "failed",
                                   "error": s.error})
                    report(s)
                    continue
                _finish(s, made, state, folder, project)
                report(s)
    except BaseException:
        runner.stop(list(flying))
        for s in states:
            if s.state in ("running", "waiting"):
                s.state = "cancelled"
        with contextlib.suppress(Exception):  # a cancelled sink must not hide why it ended
            notify(BatchProgress(states, time.monotonic() - start, None))
        raise
    finally:
        runner.close()


def _lost(runner: Runner, flying: dict[Any, RowState], queue: list[RowState], s: RowState,
          exc: Exception) -> None:
    """A dead local worker broke the pool: every row in it goes back to the queue."""
    lost = [s, *flying.values()]
    flying.clear()
    if isinstance(runner, LocalPool):
        runner.rebuild()
    for r in lost:
        r.crashes += 1
        r.attempts -= 1  # a crash is not the row's own failure
        if r.crashes >= CRASH_LIMIT:
            r.state, r.error = "failed", f"{exc} each time it ran ({r.crashes} times)"
        else:
            r.state = "waiting"
            queue.insert(0, r)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text and not isinstance(exc, TimbreError) \
        else (text[0] if text else type(exc).__name__)


def _finish(s: RowState, made: Made, state: BatchState, folder: Path | None,
            project: Any | None) -> None:
    """Write the row's result (the one writer), then record it as done."""
    row = s.row
    files: list[str] = []
    takes: list[int] = []
    if row.kind == "master":
        from engines.files import write_bytes

        assert folder is not None
        write_bytes(folder / row.output, made.data)
        files.append(row.output)
    elif project is not None:
        from desktop.session.jobs import run_job

        assert row.spec is not None
        from dataclasses import replace

        spec = replace(row.spec, options={**row.spec.options, BATCH_KEY: row.key})
        outcome = run_job(spec, project, takes=made.takes)  # the key goes in its job row
        takes = [t.id for t in outcome.stored]
    else:
        assert folder is not None
        files = _write_files(row, made.takes, folder)
    s.state, s.seconds = "done", made.seconds
    s.outputs = files or [f"take {t}" for t in takes]
    state.add({"key": row.key, "row": row.number, "state": "done", "files": files,
               "takes": takes, "seconds": round(made.seconds, 3), "label": row.label})


def row_file_names(row: BatchRow, count: int) -> list[str]:
    """The files a row writes in an output folder: its ``output`` name, else one made from
    its number, kind and label; several takes get ``-1``, ``-2``."""
    name = row.output or f"{row.number:04d}-{row.kind}-{slug(row.label)}.wav"
    if count == 1:
        return [name]
    p = Path(name)
    return [f"{p.stem}-{i + 1}{p.suffix}" for i in range(count)]


def _write_files(row: BatchRow, takes: list[Any], folder: Path) -> list[str]:
    from engines.tags import provenance_document, write_tagged

    names = row_file_names(row, len(takes))
    for name, take in zip(names, takes, strict=True):
        write_tagged(folder / name, take.clip, provenance_document([take.provenance.to_dict()]),
                     title=row.label)
    return names
