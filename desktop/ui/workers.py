"""Engine hosts: one QThread per loaded engine, a queue of jobs, cancel and progress.

Why one thread per engine: an engine's weights stay loaded on its own thread between jobs,
jobs for the same engine run in order (the thread's event queue is the job queue), and two
different engines can work at once. The GUI thread only receives signals. Cancel sets the
job's :class:`CancelToken`, which the engine checks between steps, so it takes effect within
one step even while the host is busy; a job cancelled while still queued never starts.
"""

from __future__ import annotations

import itertools
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from engines.cancel import CancelToken, Progress
from engines.devices import is_oom_error
from engines.errors import Cancelled, OutOfMemory, TimbreError

PROGRESS_INTERVAL_S = 0.1  # at most ten progress updates a second reach the GUI
TASKS = "tasks"  # the host that runs long library work (voice cloning) as cancellable jobs
_ids = itertools.count(1)


@dataclass(eq=False)
class Job:
    engine: str
    kind: str
    label: str
    request: Any
    device: str | None = None  # forced device ("cpu" for an out-of-memory retry)
    options: dict[str, Any] = field(default_factory=dict)  # engine constructor options (model)
    id: int = field(default_factory=lambda: next(_ids))
    token: CancelToken = field(default_factory=CancelToken)
    state: str = "queued"  # queued | loading | running | done | failed | cancelled
    progress: float = 0.0
    stage: str = "waiting"
    error: str = ""
    details: str = ""
    oom: bool = False
    store_id: int | None = None  # the project's jobs row
    project: Any = None  # where the takes are stored (by the worker, not the GUI thread)
    stored: list[Any] = field(default_factory=list)  # the project's take rows
    watermark: bool | None = None  # the project's watermark setting; None: the user's
    takes: list[Any] = field(default_factory=list)
    result: Any = None  # what a task job returned

    @property
    def active(self) -> bool:
        return self.state in ("queued", "loading", "running")


def build_engine(name: str, options: dict[str, Any], device: str | None) -> Any:
    """The engine instance for a job: always through the registry (session.create_engine)."""
    from desktop.session import create_engine

    return create_engine(name, options, device)


class EngineHost(QObject):
    """Lives on its own thread; builds, loads and runs one engine."""

    submitted = Signal(object)
    unload_requested = Signal()
    progressed = Signal(object)  # Job
    finished = Signal(object)  # Job (done, failed or cancelled)
    loaded_changed = Signal(str, bool)

    def __init__(self, engine_name: str, device: str | None = None,
                 options: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.engine_name, self.device, self.options = engine_name, device, dict(options or {})
        self.engine: Any = None
        self.submitted.connect(self._run)
        self.unload_requested.connect(self._unload)

    @property
    def loaded(self) -> bool:
        return bool(self.engine is not None and getattr(self.engine, "loaded", False))

    def _progress_sink(self, job: Job, offset: float, scale: float):
        last = [0.0]

        def sink(p: Progress) -> None:
            job.token.check()
            now = time.monotonic()
            job.progress = offset + scale * p.fraction
            job.stage = p.stage or job.stage
            if now - last[0] >= PROGRESS_INTERVAL_S or p.fraction >= 1.0:
                last[0] = now
                self.progressed.emit(job)

        return sink

    @Slot(object)
    def _run(self, job: Job) -> None:
        try:
            job.token.check()
            if self.engine_name == TASKS:
                job.state, job.stage = "running", "working"
                self.progressed.emit(job)
                job.result = job.request(self._progress_sink(job, 0.0, 1.0), job.token)
                job.state, job.progress = "done", 1.0
                self.finished.emit(job)
                return
            if self.engine is None:
                self.engine = build_engine(self.engine_name, self.options, self.device)
            if not self.loaded:
                job.state, job.stage = "loading", "loading model"
                self.progressed.emit(job)
                self.engine.load(self._progress_sink(job, 0.0, 0.2), job.token)
                self.loaded_changed.emit(self.engine_name, True)
            job.token.check()
            job.state, job.stage = "running", "generating"
            self.progressed.emit(job)
            from desktop.session import JobSpec, run_job

            # The whole lifecycle (watermark, storing, job row) runs here, off the GUI thread.
            spec = JobSpec(self.engine_name, job.kind, job.request, job.label, job.options,
                           job.watermark)
            outcome = run_job(spec, job.project, engine=self.engine, job_id=job.store_id,
                              progress=self._progress_sink(job, 0.2, 0.8), cancel=job.token)
            job.takes, job.stored = outcome.takes, outcome.stored
            job.state, job.progress = "done", 1.0
        except Cancelled:
            job.state, job.error = "cancelled", "Cancelled."
        except OutOfMemory as exc:  # the engine's own CPU fallback ran out too: no retry
            job.state, job.error, job.oom = "failed", str(exc), exc.device != "cpu"
        except TimbreError as exc:  # engine or project (disk full, busy): one line
            job.state, job.error = "failed", str(exc)
            job.details = traceback.format_exc()
        except Exception as exc:  # noqa: BLE001 - any crash becomes a notification, not a dead thread
            job.state, job.details = "failed", traceback.format_exc()
            job.oom = is_oom_error(exc)
            job.error = (f"{self.engine_name} ran out of memory." if job.oom
                         else f"{self.engine_name} failed: {type(exc).__name__}: {exc}")
        if job.project is not None and job.store_id is not None and job.state != "done":
            from desktop.session import end_job  # e.g. cancelled while queued: never started

            end_job(job.project, job.store_id, job.state, job.error)
        self.finished.emit(job)

    @Slot()
    def _unload(self) -> None:
        if self.engine is not None:
            self.engine.unload()
            self.engine = None
            self.loaded_changed.emit(self.engine_name, False)


class JobManager(QObject):
    """Queues jobs on per-engine hosts and reports to the GUI thread."""

    job_added = Signal(object)
    job_updated = Signal(object)
    job_finished = Signal(object)
    engines_changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.jobs: list[Job] = []
        self._hosts: dict[str, tuple[QThread, EngineHost]] = {}

    def _host(self, engine: str, device: str | None, options: dict[str, Any]) -> EngineHost:
        key = engine + "".join(f":{v}" for _k, v in sorted(options.items())) + (f"@{device}" if device else "")
        if key not in self._hosts:
            thread = QThread()
            thread.setObjectName(f"engine-{key}")
            host = EngineHost(engine, device, options)
            host.moveToThread(thread)
            host.progressed.connect(self.job_updated)
            host.finished.connect(self._finished)
            host.loaded_changed.connect(self._loaded_changed)
            thread.start()
            self._hosts[key] = (thread, host)
        return self._hosts[key][1]

    def submit(self, engine: str, kind: str, label: str, request: Any, device: str | None = None,
               options: dict[str, Any] | None = None, watermark: bool | None = None,
               project: Any = None, store_id: int | None = None) -> Job:
        job = Job(engine, kind, label, request, device, dict(options or {}), watermark=watermark,
                  project=project, store_id=store_id)
        self.jobs.append(job)
        self.job_added.emit(job)
        self._host(engine, device, job.options).submitted.emit(job)
        return job

    def submit_task(self, kind: str, label: str, fn: Any) -> Job:
        """Queue ``fn(progress, cancel) -> result`` (not an engine) on the tasks thread."""
        return self.submit(TASKS, kind, label, fn)

    def _loaded_changed(self, _engine: str, _loaded: bool) -> None:
        self.engines_changed.emit()

    def _finished(self, job: Job) -> None:
        self.job_updated.emit(job)
        self.job_finished.emit(job)

    def cancel(self, job: Job) -> None:
        if job.active:
            job.token.cancel()
            job.stage = "cancelling"
            self.job_updated.emit(job)

    def cancel_all(self) -> None:
        for job in self.jobs:
            self.cancel(job)

    def loaded_engines(self) -> list[str]:
        return sorted(key for key, (_t, host) in self._hosts.items() if host.loaded)

    def unload_all(self) -> None:
        """Free every loaded engine's weights (each on its own thread, between jobs)."""
        for _thread, host in self._hosts.values():
            host.unload_requested.emit()

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Cancel every job, stop every host thread and wait for them. True if all joined."""
        self.cancel_all()
        ok = True
        for thread, _host in self._hosts.values():
            thread.quit()
        for thread, _host in self._hosts.values():
            ok = thread.wait(timeout_ms) and ok
        self._hosts.clear()
        return ok
