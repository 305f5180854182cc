"""Batch fixtures: manifests of short real jobs (Piper joe, debug MusicGen) and an engine
of the test's own whose rows fail on purpose (to see retries and reports)."""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from engines.audio import AudioClip
from engines.provenance import GeneratedTake, Provenance

SENTENCES = ["One.", "Two birds.", "Three trees.", "Four doors.", "Five hives.", "Six sticks.",
             "Seven.", "Eight gates.", "Nine lines.", "Ten hens.", "Eleven.", "Twelve shelves."]


def speech_manifest(path: Path, n: int, fmt: str = "csv") -> Path:
    rows = [{"kind": "speech", "text": SENTENCES[i % len(SENTENCES)] + f" {i}", "voice": "joe",
             "seed": i} for i in range(n)]
    return write_manifest(path, rows, fmt)


def write_manifest(path: Path, rows: list[dict], fmt: str = "csv") -> Path:
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        return path
    import csv

    columns = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


@dataclass
class FlakyRequest:
    text: str = "ok"


FAILS: dict[str, int] = {}


class FlakyEngine:
    """Says "ok" as a short tone; ``fail`` always raises, ``flaky`` raises the first time."""

    name = "flaky-test"
    request_type = FlakyRequest
    loaded = True
    made = 0  # instances built: a worker builds (loads) its engine once, not once a row

    def __init__(self, device: str | None = None) -> None:
        FlakyEngine.made += 1

    def generate(self, request: FlakyRequest, progress, cancel=None):
        FAILS[request.text] = FAILS.get(request.text, 0) + 1
        if request.text == "fail" or (request.text == "flaky" and FAILS["flaky"] == 1):
            raise RuntimeError(f"the {request.text} row broke")
        clip = AudioClip(np.full((1, 1600), 0.1, np.float32), 16_000)
        return [GeneratedTake(clip, Provenance(self.name, prompt=request.text))]


@pytest.fixture
def flaky_engine():
    from engines.base import EngineSpec
    from engines.cluster import _CACHE
    from engines.registry import register, unregister

    FAILS.clear()
    FlakyEngine.made = 0
    for key in [k for k in _CACHE if k[0] == "flaky-test"]:
        del _CACHE[key]  # each test starts with no flaky engine loaded
    register(EngineSpec("flaky-test", "Flaky (test)", "sfx", f"{__name__}:FlakyEngine"))
    yield FAILS
    unregister("flaky-test")


@pytest.fixture
def ray_temp():
    """A short private folder for Ray's sockets (a Unix socket path has ~100 characters)."""
    folder = tempfile.mkdtemp(prefix="rt", dir="/tmp")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def tone_plugin(monkeypatch):
    """The plug-in engine of tests/foundation (an entry point in its own folder), on the
    import path of this process and so of every worker it starts."""
    import importlib

    from engines.registry import register, unregister
    from tests.conftest import REPO

    monkeypatch.syspath_prepend(str(REPO / "tests" / "foundation" / "plugin_fixture"))
    register(importlib.import_module("timbre_tone_plugin").SPEC)  # the catalog may be read
    yield
    unregister("tone-plugin")
