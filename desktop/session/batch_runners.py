"""Where batch rows run: in this process, on a local pool of processes, or as Ray tasks.

Every runner sends a :class:`Work` (a row and the driver's watermark decision) to
:func:`render` and gets a :class:`Made` back (takes, or a master's file bytes). ``render``
keeps each engine it builds for the life of its process (``engines.cluster.cached``), so a
worker loads a model once, whatever number of rows it is given. Runners only make; the
driver (:mod:`desktop.session.batch`) writes.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop.session.manifest import BatchRow
from engines.cancel import CancelToken
from engines.errors import TimbreError


@dataclass(frozen=True)
class Work:
    """What a worker gets for one row: the spec (or master settings) and the driver's
    watermark decision (a remote node's own setting must not decide)."""

    row: BatchRow
    watermark: bool


@dataclass
class Made:
    """What a worker sends back: takes, or a finished file's bytes (a master row)."""

    takes: list[Any] = field(default_factory=list)
    data: bytes = b""
    seconds: float = 0.0


def render(work: Work, cancel: CancelToken | None = None) -> Made:
    """Make one row's result where the worker is (any process, any node)."""
    from desktop.session.jobs import create_engine, make_takes
    from engines.cluster import cached

    start = time.perf_counter()
    row = work.row
    if row.kind == "master":
        return Made(data=_master(row), seconds=time.perf_counter() - start)
    spec = row.spec
    assert spec is not None
    key = (spec.engine, json.dumps(spec.options, sort_keys=True, default=str))
    engine = cached(key, lambda: create_engine(spec.engine, spec.options))
    takes = make_takes(spec, engine, work.watermark, cancel=cancel)
    return Made(takes=takes, seconds=time.perf_counter() - start)


def _master(row: BatchRow) -> bytes:
    """A podcast master rendered to a temporary file on the worker; the driver writes it."""
    import tempfile
    from dataclasses import replace

    from engines.podcast.cleanup import CleanupSettings
    from engines.podcast.master import MasterRequest, export_episode, master
    from engines.podcast.presets import resolve_preset
    from engines.stream import AudioStream

    s = row.master

    def track(key: str) -> Any:
        return AudioStream.from_file(s[key]) if s.get(key) else None

    denoise = str(s.get("denoise", "true")).lower() not in ("0", "false", "no", "off")
    request = MasterRequest(
        voices=[AudioStream.from_file(p) for p in s["inputs"]],
        music=track("music"), intro=track("intro"), outro=track("outro"),
        preset=resolve_preset(str(s.get("lufs", "podcast")), None),
        duck_db=float(s.get("duck", 12.0)),
        max_pause_s=float(s.get("max_pause", 1.0)) or None,
        cleanup=replace(CleanupSettings(), noise_reduction=denoise),
    )
    with tempfile.TemporaryDirectory(prefix="timbre-master-") as tmp:
        result = master(request)
        with result:  # its spooled files go when the episode is written
            path = export_episode(result, Path(tmp) / row.output, title=str(s.get("title", "")))
        return path.read_bytes()


def _pool_init(threads: int) -> None:
    """Each pool process gets its share of the cores (torch and onnxruntime take them all)."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)


# ---- where rows run ------------------------------------------------------------------------
class Runner:
    """The interface the driver loop uses; one per backend."""

    capacity = 1
    ahead = 2  # rows sent per worker: one running, one waiting so no worker idles

    def submit(self, work: Work) -> Any: ...

    def ready(self, handles: list[Any], timeout: float) -> list[Any]: ...

    def result(self, handle: Any) -> Made: ...

    def stop(self, handles: list[Any]) -> None: ...

    def close(self) -> None: ...


class InProcess(Runner):
    """Rows one after another in this process (one worker: no second process to start)."""

    ahead = 1

    def __init__(self, cancel: CancelToken | None) -> None:
        self.cancel = cancel
        self._results: dict[int, Any] = {}
        self._n = 0

    def submit(self, work: Work) -> Any:
        self._n += 1
        self._results[self._n] = work
        return self._n

    def ready(self, handles: list[Any], timeout: float) -> list[Any]:
        return handles[:1]

    def result(self, handle: Any) -> Made:
        return render(self._results.pop(handle), self.cancel)


class LocalPool(Runner):
    """``workers`` processes on this machine, each keeping its models loaded."""

    def __init__(self, workers: int) -> None:
        self.capacity = workers
        self._pool = self._make()

    def _make(self) -> Any:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        threads = max(1, (os.cpu_count() or 1) // self.capacity)
        return ProcessPoolExecutor(self.capacity, multiprocessing.get_context("spawn"),
                                   initializer=_pool_init, initargs=(threads,))

    def submit(self, work: Work) -> Any:
        return self._pool.submit(render, work)

    def ready(self, handles: list[Any], timeout: float) -> list[Any]:
        from concurrent.futures import FIRST_COMPLETED
        from concurrent.futures import wait as wait_futures

        done, _ = wait_futures(handles, timeout=timeout, return_when=FIRST_COMPLETED)
        return [h for h in handles if h in done]

    def result(self, handle: Any) -> Made:
        from concurrent.futures.process import BrokenProcessPool

        try:
            return handle.result()
        except BrokenProcessPool:
            raise WorkerLost("a worker process stopped") from None

    def rebuild(self) -> None:
        """After a worker died the pool refuses work: a fresh one takes the lost rows."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._make()

    def stop(self, handles: list[Any]) -> None:
        for h in handles:
            h.cancel()
        # ProcessPoolExecutor cannot stop a running call; its processes are ended instead.
        for process in list(getattr(self._pool, "_processes", {}).values()):
            process.terminate()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class RayRunner(Runner):
    """Rows as Ray tasks, each asking for the resources its engine needs."""

    def __init__(self, cluster: Any) -> None:
        self.cluster = cluster
        self.capacity = max(1, int(cluster.cpus))

    def submit(self, work: Work) -> Any:
        from engines import cluster

        r = work.row.resources
        options = self.cluster.resources(r.get("cpus", 1.0), r.get("gpus", 0.0))
        return cluster.submit(render, work, cpus=options["num_cpus"], gpus=options["num_gpus"],
                              name=f"timbre-row-{work.row.number}")

    def ready(self, handles: list[Any], timeout: float) -> list[Any]:
        from engines import cluster

        return cluster.wait(handles, timeout)

    def result(self, handle: Any) -> Made:
        from engines import cluster

        return cluster.result(handle)

    def stop(self, handles: list[Any]) -> None:
        from engines import cluster

        cluster.cancel(handles)


class WorkerLost(TimbreError):
    """A local worker process died under a row (killed, out of memory): the row runs again."""
