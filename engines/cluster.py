"""Ray, in one place: start or join a cluster, run a function as a task, wait, cancel.

Why one module: batch rendering uses it today and model training may tomorrow; each should
not learn Ray's start-up flags, its error types and its cancel rules on its own. Nothing
here knows about engines or projects: a caller hands in a module-level function and its
arguments and gets the return value (or the task's own exception) back.

- ``"local"`` starts a private cluster on 127.0.0.1 with no dashboard and a small object
  store (the machine is the user's, not a server), and stops it on leaving; any other
  address (``ray://host:10001`` or ``host:6379``) joins a cluster someone started with
  ``ray start``, which is left running.
- Worker processes are reused between tasks (``max_calls=0``, GPU tasks included), so a
  model a task caches with :func:`cached` is loaded once per worker process, not per task.
- A task whose worker process dies is re-run by Ray (``max_retries``); exceptions the task
  raises are not retried here: the caller decides (a batch row is tried again once).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engines.errors import EngineError

LOCAL = "local"
OBJECT_STORE_BYTES = 200 * 1024 * 1024  # results are audio takes, a few MB each
CRASH_RETRIES = 3  # a worker process that dies takes its task with it: Ray runs it again


class ClusterError(EngineError):
    """The cluster could not be started or reached, or lost a task for good."""


def available() -> str | None:
    """Why Ray cannot be used here (None when it can); cheap, imports nothing heavy."""
    import importlib.util

    if importlib.util.find_spec("ray") is None:
        return "Ray is not installed (pip install ray==2.60.0, or make setup)"
    return None


@dataclass
class Cluster:
    """A connection to a running cluster; ``gpus`` and ``cpus`` are its totals."""

    address: str
    cpus: float
    gpus: float
    private: bool

    def resources(self, cpus: float = 1.0, gpus: float = 0.0) -> dict[str, float]:
        """Ray task options asking for ``gpus`` only where the cluster has any."""
        return {"num_cpus": cpus, "num_gpus": gpus if self.gpus >= gpus > 0 else 0}


@contextmanager
def connect(address: str = LOCAL, workers: int | None = None,
            temp_dir: str | os.PathLike[str] | None = None) -> Iterator[Cluster]:
    """Start a private cluster (``"local"``, ``workers`` CPUs) or join ``address``."""
    reason = available()
    if reason:
        raise ClusterError(reason)
    import ray

    private = address in ("", LOCAL)
    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                               "configure_logging": False, "ignore_reinit_error": False}
    if private:
        options.update(address="local", num_cpus=workers or os.cpu_count() or 1,
                       object_store_memory=OBJECT_STORE_BYTES, _node_ip_address="127.0.0.1",
                       runtime_env={"env_vars": {"PYTHONPATH": _python_path(), **_openmp()}})
        if temp_dir:
            options["_temp_dir"] = str(Path(temp_dir).resolve())
    else:
        options["address"] = address
    if ray.is_initialized():  # one cluster connection per process, owned by one run
        raise ClusterError("Ray is already in use in this process (another batch or training "
                           "run); wait for it to finish, then try again.")
    try:
        ray.init(**options)
    except Exception as exc:  # noqa: BLE001 - Ray raises many kinds; the user needs one line
        what = "start a local Ray cluster" if private else f"join the Ray cluster at {address}"
        raise ClusterError(f"Could not {what}: {exc}. Check the address and that the cluster "
                           "runs the same Ray and Python versions as this app.") from exc
    try:
        total = ray.cluster_resources()
        yield Cluster(LOCAL if private else address, float(total.get("CPU", 0)),
                      float(total.get("GPU", 0)), private)
    finally:
        ray.shutdown()


def _openmp() -> dict[str, str]:
    """The driver's OpenMP wait policy (:mod:`engines.openmp`), so workers wait as it does."""
    from engines.openmp import USER_VARIABLES

    return {name: os.environ[name] for name in USER_VARIABLES if os.environ.get(name)}


def _python_path() -> str:
    """The driver's import path, so local workers import this app's code as it does."""
    import sys

    parts = [*os.environ.get("PYTHONPATH", "").split(os.pathsep),
             *(p for p in sys.path if p and Path(p).is_dir())]
    return os.pathsep.join(dict.fromkeys(p for p in parts if p))


def submit(func: Callable[..., Any], *args: Any, cpus: float = 1.0, gpus: float = 0.0,
           name: str = "") -> Any:
    """Run ``func(*args)`` as a task; returns its handle (a Ray ObjectRef)."""

    remote = _remote(func)
    return remote.options(num_cpus=cpus, num_gpus=gpus, name=name or func.__name__).remote(*args)


_REMOTES: dict[Callable[..., Any], Any] = {}


def _remote(func: Callable[..., Any]) -> Any:
    import ray

    if func not in _REMOTES:
        _REMOTES[func] = ray.remote(max_calls=0, max_retries=CRASH_RETRIES,
                                    retry_exceptions=False)(func)
    return _REMOTES[func]


def wait(handles: Sequence[Any], timeout: float) -> list[Any]:
    """The handles among ``handles`` that have finished, waiting up to ``timeout`` s for one."""
    import ray

    if not handles:
        return []
    ready, _ = ray.wait(list(handles), num_returns=1, timeout=timeout, fetch_local=True)
    if ready:  # collect every other finished one too, without waiting again
        more, _ = ray.wait(list(handles), num_returns=len(handles), timeout=0, fetch_local=True)
        ready = list(dict.fromkeys([*ready, *more]))
    return ready


def result(handle: Any) -> Any:
    """A finished task's return value, or the exception the task itself raised (re-raised
    as its own type); a task lost for good (its worker kept dying) is a ClusterError."""
    import ray
    from ray import exceptions as rx

    try:
        return ray.get(handle)
    except rx.TaskCancelledError:
        from engines.errors import Cancelled

        raise Cancelled() from None
    except rx.RayTaskError as exc:
        cause = exc.cause if isinstance(exc.cause, BaseException) else None
        if cause is not None:
            raise cause from None
        raise ClusterError(str(exc).splitlines()[0]) from None
    except (rx.WorkerCrashedError, rx.NodeDiedError, rx.ObjectLostError,
            rx.RaySystemError) as exc:
        raise ClusterError(f"the worker running it stopped ({type(exc).__name__})") from None


def cancel(handles: Sequence[Any]) -> None:
    """Stop tasks, running ones included (their worker processes are killed)."""
    import ray

    for handle in handles:
        try:
            ray.cancel(handle, force=True)
        except Exception:  # noqa: BLE001 - already finished or gone: nothing to stop
            pass


_CACHE: dict[Any, Any] = {}
_CACHE_LOCK = threading.Lock()


def cached(key: Any, make: Callable[[], Any]) -> Any:
    """One object per worker process for ``key`` (a loaded model): made on first use."""
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = make()
        return _CACHE[key]


def cluster_address() -> str:
    """The cluster address in Settings ("" or "local": a private cluster on this machine)."""
    from engines.settings import get_setting

    return str(get_setting(ADDRESS_SETTING) or "")


ADDRESS_SETTING = "cluster_address"


def _declare() -> None:
    from engines.settings import Setting, declare

    declare(Setting(ADDRESS_SETTING, "", str))


_declare()
