"""Test-wide isolation: no test touches the real user folders, the hub or a display.

Per-area fixtures (tiny models, loaded voices) live in each area's own conftest and are
session-scoped, so a model is loaded once per run.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

_ROOT = Path(tempfile.mkdtemp(prefix="timbre-tests-"))
os.environ["TIMBRE_CONFIG_DIR"] = str(_ROOT / "config")
os.environ["TIMBRE_DATA_DIR"] = str(_ROOT / "data")
os.environ["TIMBRE_LOG_DIR"] = str(_ROOT / "logs")
os.environ["TIMBRE_CACHE_DIR"] = str(_ROOT / "cache")  # measured kernel choices (music)
os.environ.setdefault("TIMBRE_MODELS_DIR", str(_ROOT / "models"))
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.pop("TIMBRE_DEVICE", None)

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def own_user_folders(tmp_path_factory, monkeypatch) -> Path:
    """Each test gets its own settings and voice library (user-level state never leaks
    between tests); the model store stays shared so models are built and loaded once."""
    home = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("TIMBRE_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("TIMBRE_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("TIMBRE_LOG_DIR", str(home / "logs"))
    return home


@pytest.fixture(scope="session")
def test_root() -> Path:
    return _ROOT


@pytest.fixture
def timbre_cli():
    """Run ``timbre ARGS`` in a subprocess, as a user would; returns CompletedProcess."""
    import subprocess

    def run(*args: str, timeout: float = 600, env: dict | None = None, **kw):
        return subprocess.run(
            [sys.executable, "-m", "desktop.cli.main", *map(str, args)],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=kw.pop("cwd", REPO),
            env={**os.environ, **(env or {})},
            **kw,
        )

    return run
