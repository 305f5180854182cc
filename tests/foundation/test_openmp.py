"""The OpenMP wait policy: set by the ``timbre`` entry point before torch starts, unless the
user chose one; and each job on the cores other programs leave free (see
:mod:`engines.openmp`)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from engines.openmp import USER_VARIABLES, policy, settle, threads_for


def _timbre_devices(**extra: str) -> subprocess.Popen:
    """``timbre devices`` started in a fresh process whose environment has no policy but
    ``extra`` (both cases start at once: most of each is importing torch)."""
    env = {k: v for k, v in os.environ.items() if k not in USER_VARIABLES}
    env.update(extra, TIMBRE_DEVICE="cpu")
    return subprocess.Popen(
        [sys.executable, "-m", "desktop.cli.main", "devices"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _policy_line(process: subprocess.Popen) -> str:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    return next(x for x in out.splitlines() if x.startswith("OpenMP wait policy"))


def test_a_short_spin_where_the_runtime_is_libgomp_else_sleeping_at_once():
    assert policy("linux") == {"GOMP_SPINCOUNT": "10000"}
    assert policy("darwin") == policy("win32") == {"OMP_WAIT_POLICY": "PASSIVE"}


def test_settle_sets_the_policy_only_where_the_user_chose_none():
    env: dict[str, str] = {}
    assert settle(env) and env == policy()
    env = {"OMP_WAIT_POLICY": "ACTIVE"}
    assert not settle(env) and env == {"OMP_WAIT_POLICY": "ACTIVE"}
    env = {"GOMP_SPINCOUNT": "300"}  # libgomp's own knob overrides the policy: kept alone
    assert not settle(env) and env == {"GOMP_SPINCOUNT": "300"}
    env = dict(policy())  # inherited from a Timbre parent process: still Timbre's
    assert settle(env) and env == policy()
    env = {"OMP_WAIT_POLICY": ""}  # set but empty: the runtime's default, as if unset
    assert settle(env) and env == {"OMP_WAIT_POLICY": "", **policy()}


def test_the_entry_point_sets_it_before_torch_starts_and_keeps_the_users():
    ours, users = _timbre_devices(), _timbre_devices(OMP_WAIT_POLICY="ACTIVE")
    line = _policy_line(ours)
    assert "(set by Timbre" in line
    assert "torch had started" not in line  # an import of torch crept in before settle()
    if sys.platform.startswith("linux"):
        assert line.startswith("OpenMP wait policy: spin 10000 rounds")
    assert _policy_line(users) == "OpenMP wait policy: ACTIVE (from your environment, kept)"


@pytest.mark.parametrize(
    ("current", "cores", "busy", "threads"),
    [
        (2, 2, 0.0, 2),  # idle: all of them
        (2, 2, 0.4, 2),  # a core less than half busy still counts as free
        (2, 2, 1.0, 1),  # one core taken: one thread, never spinning on the taken core
        (2, 2, 5.0, 1),  # overloaded: still one
        (8, 8, 2.6, 5),
        (4, 16, 0.0, 4),  # never more than the job had
    ],
)
def test_a_job_gets_the_cores_other_programs_leave_free(current, cores, busy, threads):
    assert threads_for(current, cores, busy) == threads


def test_a_busy_program_takes_a_thread_from_the_next_job_until_it_ends():
    """Measured, not assumed: a real busy-looping program beside a job made through the
    session layer's one generating path."""
    import psutil
    import torch

    from desktop.session.jobs import JobSpec, make_takes

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if (cores or 1) < 2:
        pytest.skip("needs two cores")

    class Recorder:
        """Records the threads a job runs on (the job layer, not a model, is under test)."""

        seen: list[int] = []

        def generate(self, request, progress, cancel):
            self.seen.append(torch.get_num_threads())
            return []

    before = torch.get_num_threads()
    torch.set_num_threads(cores)
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        proc = psutil.Process(busy.pid)
        while proc.cpu_times().user < 0.3:  # it has started spinning
            time.sleep(0.05)
        engine = Recorder()
        make_takes(JobSpec("recorder", "music", None, "x"), engine, None)
        assert engine.seen[-1] < cores
        assert torch.get_num_threads() == cores  # put back after the job
    finally:
        busy.kill()
        busy.wait()
        torch.set_num_threads(before)


def test_a_private_ray_cluster_passes_the_policy_to_its_workers(monkeypatch):
    from engines.cluster import _openmp

    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    monkeypatch.delenv("GOMP_SPINCOUNT", raising=False)
    assert _openmp() == {"OMP_WAIT_POLICY": "PASSIVE"}
