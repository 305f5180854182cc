"""Voice files for the exchange tests: a fixed consent statement and manifest rewriting."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from engines.voices import consent


def fixed_statement(lib, name: str) -> consent.Statement:
    """A statement whose phrase Whisper-base hears from Piper joe (see test_consent), so a
    genuine consent passes every run instead of by the luck of a random draw."""
    words = iter("dolphin magnet winter silver palace".split())
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(consent.secrets, "choice", lambda _seq: next(words))
        return lib.statement(name, renew=True)


def rewrite(
    src: Path,
    dst: Path,
    edit_manifest: Callable[[dict], None] | None = None,
    extra: dict[str, bytes] | None = None,
    drop: Callable[[dict], str] | None = None,
) -> Path:
    """A copy of the voice file ``src`` with its manifest edited, members added, and the
    member ``drop(manifest)`` names (looked up before the edit) left out."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        dropped = drop(json.loads(zin.read("manifest.json"))) if drop is not None else None
        for info in zin.infolist():
            if info.filename == dropped:
                continue
            data = zin.read(info)
            if info.filename == "manifest.json" and edit_manifest is not None:
                manifest = json.loads(data)
                edit_manifest(manifest)
                data = json.dumps(manifest).encode()
            zout.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    return dst
