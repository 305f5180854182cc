"""``timbre`` with no display prints one line instead of dying in a Qt abort."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO


def test_no_display_prints_one_line_and_exits_nonzero():
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([sys.executable, "-m", "desktop.cli.main"], capture_output=True,
                            text=True, cwd=REPO, env=env, timeout=60)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no display" in lines[0] and "timbre --help" in lines[0]


def test_version_and_engines(timbre_cli):
    result = timbre_cli("--version")
    assert result.returncode == 0 and result.stdout.startswith("timbre ")
    result = timbre_cli("engines")
    assert result.returncode == 0
