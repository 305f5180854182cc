"""The OpenMP wait policy: set by the ``timbre`` entry point before torch starts, unless the
user chose one (see :mod:`engines.openmp`)."""

from __future__ import annotations

import os
import subprocess
import sys

from engines.openmp import POLICY, USER_VARIABLES, settle


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


def test_settle_sets_the_policy_only_where_the_user_chose_none():
    env: dict[str, str] = {}
    assert settle(env) and env == {"OMP_WAIT_POLICY": POLICY}
    env = {"OMP_WAIT_POLICY": "ACTIVE"}
    assert not settle(env) and env == {"OMP_WAIT_POLICY": "ACTIVE"}
    env = {"GOMP_SPINCOUNT": "10000"}  # libgomp's own knob overrides the policy: kept alone
    assert not settle(env) and env == {"GOMP_SPINCOUNT": "10000"}
    env = {"OMP_WAIT_POLICY": ""}  # set but empty: the runtime's default, as if unset
    assert settle(env) and env == {"OMP_WAIT_POLICY": POLICY}


def test_the_entry_point_sets_it_before_torch_starts_and_keeps_the_users():
    ours, users = _timbre_devices(), _timbre_devices(OMP_WAIT_POLICY="ACTIVE")
    line = _policy_line(ours)
    assert f"OpenMP wait policy: {POLICY} (set by Timbre" in line
    assert "torch had started" not in line  # an import of torch crept in before settle()
    assert _policy_line(users) == "OpenMP wait policy: ACTIVE (from your environment, kept)"


def test_a_private_ray_cluster_passes_the_policy_to_its_workers(monkeypatch):
    from engines.cluster import _openmp

    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    monkeypatch.delenv("GOMP_SPINCOUNT", raising=False)
    assert _openmp() == {"OMP_WAIT_POLICY": "PASSIVE"}
