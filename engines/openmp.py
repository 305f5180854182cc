"""How torch's OpenMP threads wait for work, and how many of them a job uses.

torch's CPU kernels (and MKL's, oneDNN's and fbgemm's inside it) run on an OpenMP thread
team: libgomp in the Linux wheels, LLVM's libomp on macOS. Between two parallel regions a
worker thread busy-waits ("spins") for a while before it sleeps. A MusicGen decoding step is
hundreds of short regions, so how the workers wait decides much of its time:

- **Sleeping at once** (``PASSIVE``) pays a wake-up per region. On a 2-core AMD EPYC VM
  (idle; a MusicGen-small-sized step, 2 threads; the settings took turns, 2 rounds of 3
  steps' medians) the fp16-weight step took 70-113 ms sleeping, 44-54 when the worker spun
  ~0.1 ms first (``GOMP_SPINCOUNT=10000``; libgomp counts ~100 000 spins a millisecond)
  and 39-48 with the runtime's default 3 ms spin; the float32 gemv step 136-216, 87-126
  and 80-127.
- **Spinning while another program needs the core** is far worse: with one busy-looping
  program beside it the fp16-weight step took 228-256 ms spinning 0.1 ms, 57-74 sleeping;
  ``make bench-openmp`` (6 layers, float32) 231 ms with the default spin, 79 sleeping.

So both: workers spin briefly (:data:`SPIN`, libgomp's ``GOMP_SPINCOUNT``), and each job runs
on the cores the other programs leave free (:func:`fitted_threads`, measured when it starts):
with one core busy elsewhere the fp16-weight step took 47-67 ms on one thread, and
``make bench-openmp``'s 69 ms (the best of its busy runs). The spin stays short (most of
the default's gain at a thirtieth of the time a worker may hold a core): a program that
gets busy during a job, and the studio's own window, lose at most ~0.1 ms a region. Where the
runtime is not libgomp (macOS, Windows) workers sleep at once (``PASSIVE``): their spin knobs
differ and were not measured.

The runtime reads its policy once, when it starts (on torch's import), and never again; so
:func:`settle` runs at the entry point (``timbre``, which is also the studio, the speech
server and the frozen app), before anything imports torch, and child processes (the local
batch pool, a private Ray cluster's workers) inherit it from the environment. A policy the
user chose (``OMP_WAIT_POLICY`` or libgomp's ``GOMP_SPINCOUNT``, which overrides it) is kept
as it is.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator, MutableMapping

SPIN = "10000"  # libgomp spins before a waiting worker sleeps: ~0.1 ms
USER_VARIABLES = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
SAMPLE_S = 0.1  # how long fitted_threads watches the cores before a job

# what settle() found: who chose the policy, and whether torch had started before it ran
_state: dict[str, bool] = {}


def policy(platform: str = sys.platform) -> dict[str, str]:
    """The variables Timbre sets: a short spin where torch's runtime is libgomp (Linux),
    sleeping at once elsewhere."""
    if platform.startswith("linux"):
        return {"GOMP_SPINCOUNT": SPIN}
    return {"OMP_WAIT_POLICY": "PASSIVE"}


def settle(environ: MutableMapping[str, str] | None = None) -> bool:
    """Set :func:`policy` unless the user chose a wait policy; returns whether the policy in
    force is Timbre's (set now, or inherited from a Timbre parent process). Call it before
    torch is imported: afterwards it only reaches processes started later."""
    env = os.environ if environ is None else environ
    chosen = {name: env[name] for name in USER_VARIABLES if env.get(name)}
    ours = not chosen or chosen == policy()
    if not chosen:
        env.update(policy())
    if environ is None:
        _state.update(ours=ours, late="torch" in sys.modules)
    return ours


def describe() -> str:
    """One line for ``timbre devices``: the policy in force and who chose it."""
    wait = os.environ.get("OMP_WAIT_POLICY")
    spin = os.environ.get("GOMP_SPINCOUNT")
    text = "OpenMP wait policy: " + (
        f"spin {spin} rounds (GOMP_SPINCOUNT), then sleep"
        if spin
        else wait or "runtime default (spin, then sleep)"
    )
    if not _state:
        return text + " (not set by Timbre in this process)"
    if _state["ours"]:
        text += " (set by Timbre; jobs use the cores other programs leave free)"
    else:
        text += " (from your environment, kept)"
    if _state["late"]:
        text += "; torch had started before it was set, so only new processes follow it"
    return text


def cores_busy_elsewhere(sample_s: float = SAMPLE_S) -> tuple[int, float]:
    """This process's cores, and how many of them other programs kept busy over the next
    ``sample_s`` seconds: those cores' busy time less this process's (its other threads
    included), per second. Only the cores this process may run on count (a container's
    share of a bigger machine, or a pinned process)."""
    import psutil

    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    me = psutil.Process()

    def busy() -> float:
        per_cpu = psutil.cpu_times(percpu=True)
        chosen = per_cpu if cpus is None else [per_cpu[i] for i in cpus if i < len(per_cpu)]
        return sum(_busy(t) for t in chosen)

    machine0, mine0, t0 = busy(), _cpu(me), time.monotonic()
    time.sleep(sample_s)
    machine1, mine1, t1 = busy(), _cpu(me), time.monotonic()
    cores = len(cpus) if cpus is not None else len(psutil.cpu_times(percpu=True))
    return cores, max(0.0, (machine1 - machine0) - (mine1 - mine0)) / max(t1 - t0, 1e-3)


def _busy(times: object) -> float:
    """Seconds a core spent not idle (guest time is already counted in user time)."""
    skip = ("idle", "iowait", "guest", "guest_nice")
    return sum(v for k, v in times._asdict().items() if k not in skip)  # type: ignore[attr-defined]


def _cpu(process: object) -> float:
    t = process.cpu_times()  # type: ignore[attr-defined]
    return float(t.user + t.system)


def threads_for(current: int, cores: int, busy_elsewhere: float) -> int:
    """Threads for a job: the cores the other programs leave free (a core counts as taken
    when more than half of it is busy), never more than ``current``, at least one."""
    free = int(cores - busy_elsewhere + 0.5)
    return max(1, min(current, free))


@contextlib.contextmanager
def torch_threads(count: int | None) -> Iterator[None]:
    """Run the block on ``count`` torch threads (None: as it is); the calling thread's count
    is put back afterwards (under OpenMP it belongs to the calling thread)."""
    import torch

    before = torch.get_num_threads()
    if count is not None:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def fitted_threads() -> Iterator[int]:
    """Run a job on the cores other programs leave free (measured now, for
    :data:`SAMPLE_S`). A spinning worker on a core another program needs stalls every region
    of the job (see the module's measurements), so this is what makes the short spin safe on
    a shared desktop. Call it in the thread that runs the job (as ``make_takes`` does):
    concurrent jobs each fit their own."""
    import torch

    count = torch.get_num_threads()
    if count > 1:
        try:
            count = threads_for(count, *cores_busy_elsewhere())
        except Exception:  # noqa: BLE001 - a machine that cannot say keeps all its threads
            pass
    with torch_threads(count):
        yield count


if __name__ == "__main__":  # what settle() would add here, for the Makefile's benches
    env = dict(os.environ)
    settle(env)
    print(" ".join(f"{k}={v}" for k, v in env.items() if os.environ.get(k) != v))
