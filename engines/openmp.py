"""How torch's OpenMP threads wait for work, chosen before torch starts them.

torch's CPU kernels (and MKL's and oneDNN's inside it) run on an OpenMP thread team: libgomp
in the Linux wheels, LLVM's libomp on macOS. Between two parallel regions a worker thread
busy-waits ("spins") for a while before it sleeps, which saves a wake-up when the cores are
otherwise idle. A desktop app never has the cores to itself: when the user's browser, a
build or a second job takes a core, a spinning worker holds the core that the thread it is
waiting for needs, and every one of the hundreds of small parallel regions in a MusicGen
decoding step pays for it. ``make bench-openmp`` on a 2-core AMD EPYC shared with other
jobs (load 6-11; the fast path's step of a MusicGen-small-width LM, 6 layers, median of two
rounds): on 2 threads the runtime's default took 1200 ms a step (2440 ms with one more
busy-looping program), ``ACTIVE`` 2150 (2930), a bounded ``GOMP_SPINCOUNT=10000`` 160 (320)
and ``PASSIVE`` (waiting threads sleep at once) 200 (92); 1 thread took 130-440 ms whatever
the policy. So PASSIVE, the only setting that was never far from the best. (An idle machine
could not be measured there; when the cores are free, sleeping costs a wake-up per region,
microseconds against a step's tens of milliseconds.)

The runtime reads the policy once, when it starts (on torch's import), and never again; so
:func:`settle` runs at the entry point (``timbre``, which is also the studio, the speech
server and the frozen app), before anything imports torch, and child processes (the local
batch pool, a private Ray cluster's workers) inherit it from the environment. A policy the
user chose (``OMP_WAIT_POLICY``, or libgomp's ``GOMP_SPINCOUNT``, which overrides it) is
kept as it is.
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping

POLICY = "PASSIVE"
USER_VARIABLES = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")

# what settle() found: who chose the policy, and whether torch had started before it ran
_state: dict[str, bool] = {}


def settle(environ: MutableMapping[str, str] | None = None) -> bool:
    """Make OpenMP threads sleep while they wait (:data:`POLICY`) unless the user chose a
    policy; returns whether this set it. Call it before torch is imported: afterwards it
    only reaches processes started later."""
    env = os.environ if environ is None else environ
    ours = not any(env.get(name) for name in USER_VARIABLES)
    if ours:
        env["OMP_WAIT_POLICY"] = POLICY
    if environ is None:
        _state.update(ours=ours, late="torch" in sys.modules)
    return ours


def describe() -> str:
    """One line for ``timbre devices``: the policy in force and who chose it."""
    policy = os.environ.get("OMP_WAIT_POLICY") or "runtime default (spin, then sleep)"
    spin = os.environ.get("GOMP_SPINCOUNT")
    text = f"OpenMP wait policy: {policy}" + (f", GOMP_SPINCOUNT {spin}" if spin else "")
    if not _state:
        return text + " (not set by Timbre in this process)"
    if _state["ours"]:
        text += " (set by Timbre: waiting threads sleep, so a busy core does not stall them)"
    else:
        text += " (from your environment, kept)"
    if _state["late"]:
        text += "; torch had started before it was set, so only new processes follow it"
    return text
