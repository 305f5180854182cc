"""``make bench-openmp``: how OpenMP's wait policy changes a MusicGen decoding step, with the
cores idle and with one core taken by another program (see :mod:`engines.openmp`).

The policy is read once, when the OpenMP runtime starts, so each setting runs in a fresh
process: a MusicGen-small-width LM (dim 1024, 16 heads, 4 × 2048 codes; fewer layers than
small's 24 to keep the bench short: the step's kind of work is the same), random weights,
CFG batch 2, streaming decoding steps through stock audiocraft and our fast path (exact
float32 kernel). Settings: the runtime's default (no variable), ``OMP_WAIT_POLICY=ACTIVE``,
``PASSIVE`` and libgomp's bounded ``GOMP_SPINCOUNT=10000``; 1 and 2 torch threads; and
Timbre's own (``engines.openmp``: its policy, and the threads ``fitted_threads`` gives a job
as the run starts, "fit"); the machine as it is ("ambient") and with one busy-looping process added ("busy"). The settings
take turns within each round, so a change in the machine's load hits all of them, and the
median step of each run is printed with the load average at its start. Nothing is
asserted: timings on a shared machine are not a pass/fail signal.

``TIMBRE_BENCH_LAYERS`` (default 6), ``TIMBRE_BENCH_STEPS`` (default 8),
``TIMBRE_BENCH_REPEATS`` (rounds, default 2).
"""

from __future__ import annotations

import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engines.openmp import policy

pytestmark = [pytest.mark.bench, pytest.mark.timeout(7200)]

LAYERS = int(os.environ.get("TIMBRE_BENCH_LAYERS", "6"))
STEPS = int(os.environ.get("TIMBRE_BENCH_STEPS", "8"))
REPEATS = int(os.environ.get("TIMBRE_BENCH_REPEATS", "2"))
RUN_TIMEOUT_S = 240  # a run slower than this is printed as such
POLICIES = {
    "default": {},
    "ACTIVE": {"OMP_WAIT_POLICY": "ACTIVE"},
    "PASSIVE": {"OMP_WAIT_POLICY": "PASSIVE"},
    "SPIN10k": {"GOMP_SPINCOUNT": "10000"},
    "Timbre": policy(),
}
REPO = Path(__file__).resolve().parents[2]


def measure(threads: int, layers: int, steps: int, hub: str) -> dict[str, float]:
    """In this (fresh) process: median seconds per decoding step, stock and fast path."""
    import copy

    import torch

    from engines.openmp import cores_busy_elsewhere, threads_for

    torch.set_num_threads(threads or threads_for(torch.get_num_threads(), *cores_busy_elsewhere()))
    from engines.safe_load import prepare_imports

    prepare_imports()
    from audiocraft.models import builders
    from audiocraft.modules.conditioners import ConditioningAttributes
    from omegaconf import OmegaConf

    from engines.music.fast import accelerate
    from engines.music.loading import hub_cache
    from engines.music.tiny import lm_config

    torch.manual_seed(0)
    cfg = lm_config(
        dim=1024, num_heads=16, num_layers=layers, n_q=4, card=2048, segment_duration=30
    )
    with hub_cache(Path(hub)):
        lm = builders.get_lm_model(OmegaConf.create(cfg)).eval()
    attrs = [ConditioningAttributes(text={"description": d}) for d in ("calm piano", "")]
    with torch.inference_mode():
        conditions = lm.condition_provider(lm.condition_provider.tokenize(attrs))
    fast = accelerate(copy.deepcopy(lm, memo={id(p): p for p in lm.parameters()}), "mkl")
    out = {}
    for name, model in (("stock", lm), ("fast", fast)):
        codes = torch.randint(0, 2048, (2, 4, 1))
        times = []
        with torch.inference_mode(), model.streaming():
            for _ in range(steps + 2):  # the first two: warm-up
                start = time.perf_counter()
                model(codes, [], conditions)
                times.append(time.perf_counter() - start)
        out[name] = statistics.median(times[2:])
    return out


def test_bench_openmp_wait_policy():
    from engines.music.speed import cpu_name
    from engines.music.tiny import build_debug_models

    hub = str(build_debug_models())
    base = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    base["PYTHONPATH"] = os.pathsep.join([str(REPO), base.get("PYTHONPATH", "")])
    print(
        f"\nCPU: {cpu_name()} ({os.cpu_count()} cores); dim-1024 LM, {LAYERS} layers, CFG "
        f"batch 2, median of {STEPS} steps per run, {REPEATS} rounds; ms per step"
    )
    results: dict[str, list[dict[str, float]]] = {}
    fixed = [p for p in POLICIES if p != "Timbre"]  # Timbre's runs on the threads it fits
    configs = [*itertools.product(fixed, (1, 2)), ("Timbre", 0)]
    for r in range(REPEATS):
        for load in ("ambient", "busy"):
            busy = None
            if load == "busy":  # one core taken by another program, as a user's would be
                busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
            try:
                turn = configs[r % len(configs) :] + configs[: r % len(configs)]
                for policy, threads in turn:
                    loadavg = os.getloadavg()[0]
                    args = [sys.executable, __file__, str(threads), str(LAYERS), str(STEPS), hub]
                    try:
                        done = subprocess.run(
                            args,
                            env={**base, **POLICIES[policy]},
                            capture_output=True,
                            text=True,
                            timeout=RUN_TIMEOUT_S,
                        )
                        out = json.loads(done.stdout.strip().splitlines()[-1])
                    except subprocess.TimeoutExpired:
                        out = {"stock": float("inf"), "fast": float("inf")}
                    key = f"{load} {policy} {threads or 'fit'}t"
                    results.setdefault(key, []).append(out)
                    print(
                        f"round {r} {key:22s} stock {out['stock'] * 1e3:7.0f}  fast "
                        f"{out['fast'] * 1e3:7.0f}   (load {loadavg:.1f})",
                        flush=True,
                    )
            finally:
                if busy is not None:
                    busy.kill()
                    busy.wait()
    print(
        f"{'median over rounds':30s} {'stock':>7s} {'fast':>7s}  × the default, same threads"
        " (fit: 2)"
    )
    for load, (policy, threads) in itertools.product(("ambient", "busy"), configs):
        runs = results[f"{load} {policy} {threads or 'fit'}t"]
        ref = results[f"{load} default {threads or 2}t"]
        med = {p: statistics.median(r[p] for r in runs) for p in ("stock", "fast")}
        gain = statistics.median(r["fast"] for r in ref) / med["fast"]
        print(
            f"{load:8s} {threads or 'fit'}t {policy:8s}           {med['stock'] * 1e3:7.0f} "
            f"{med['fast'] * 1e3:7.0f}  {gain:5.2f}×"
        )


if __name__ == "__main__":  # one run, in a fresh process (see measure)
    sys.stdout.write(
        json.dumps(measure(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]))
        + "\n"
    )
