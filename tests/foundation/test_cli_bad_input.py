"""Bad input gets one clear line and a non-zero exit, and loses nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from desktop.project.store import Project
from tests.conftest import REPO


@pytest.fixture
def proj(tmp_path, make_wav, timbre_cli):
    path = tmp_path / "show.timbre"
    assert timbre_cli("project", "new", path).returncode == 0
    assert timbre_cli("import", path, make_wav("intro.wav")).returncode == 0
    return path


def state(path):
    with Project.open(path) as p:
        return len(p.tracks()), len(p.clips()), len(p.takes()), p.integrity_check()


def one_clear_line(result):
    lines = [ln for ln in result.stderr.strip().splitlines() if ln.strip()]
    assert result.returncode != 0
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_bad_files_are_refused_and_the_project_is_untouched(proj, tmp_path, make_wav, timbre_cli):
    before = state(proj)
    good = make_wav("good.wav", seconds=2.0)
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    header_only = tmp_path / "header_only.wav"
    sf.write(header_only, np.zeros((0, 2), np.float32), 48000)
    text = tmp_path / "notes.wav"
    text.write_text("these are my show notes, not audio\n" * 20)
    nan = make_wav("nan.wav", data=np.full((4800, 2), np.nan, np.float32), subtype="FLOAT")
    cases = {
        truncated: "truncated",
        empty: "empty",
        header_only: "no audio",
        text: "not an audio file",
        nan: "NaN",
        tmp_path / "missing.wav": "does not exist",
    }
    for path, words in cases.items():
        result = timbre_cli("import", proj, path)
        line = one_clear_line(result)
        assert words in line and path.name in line, line
    assert state(proj) == before


@pytest.mark.parametrize(
    ("rate", "channels"), [(8_000, 1), (192_000, 2), (48_000, 6)], ids=["8kHz", "192kHz", "6ch"]
)
def test_unusual_but_valid_files_import_converted(proj, make_wav, timbre_cli, rate, channels):
    """Decision: 8 kHz, 192 kHz and 5.1 are real recordings, so they import (resampled on
    playback/mix to the project's 48 kHz, 5.1 folded down to stereo) rather than being refused."""
    path = make_wav(f"odd_{rate}_{channels}.wav", seconds=1.0, rate=rate, channels=channels)
    result = timbre_cli("import", proj, path)
    assert result.returncode == 0, result.stderr
    with Project.open(proj) as p:
        take = p.takes()[-1]
        clip = p.clips()[-1]
        assert abs(take.duration - 1.0) < 1e-3
        assert clip.length_frames == 48_000  # one second at the project rate
        mix = p.mixdown()
        assert mix.channels == 2 and np.all(np.isfinite(mix.samples))


def test_missing_project(tmp_path, make_wav, timbre_cli):
    line = one_clear_line(timbre_cli("import", tmp_path / "nope", make_wav()))
    assert "no project" in line and "timbre project new" in line
    line = one_clear_line(timbre_cli("export", tmp_path / "nope", "-o", tmp_path / "x.wav"))
    assert "no project" in line


def test_unknown_export_format(proj, tmp_path, timbre_cli):
    result = timbre_cli("export", proj, "-o", tmp_path / "x.aiff")
    assert "format" in one_clear_line(result)


def _as_nobody(args, env_extra=None):
    env = {**os.environ, "PYTHONPATH": str(REPO), **(env_extra or {})}
    return subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
         sys.executable, "-m", "desktop.cli.main", *map(str, args)],
        capture_output=True, text=True, cwd="/", env=env, timeout=120,
    )


@pytest.mark.skipif(shutil.which("setpriv") is None or os.geteuid() != 0,
                    reason="needs root to drop to an unprivileged user (root ignores read-only modes)")
def test_read_only_folder(proj):
    import tempfile

    base = tempfile.mkdtemp(prefix="timbre-ro-")  # outside pytest's root-only (0700) tree
    try:
        ro = os.path.join(base, "readonly")
        shutil.copytree(proj, os.path.join(ro, "show.timbre"))
        for root, _dirs, files in os.walk(base):
            os.chmod(root, 0o755)
            for f in files:
                os.chmod(os.path.join(root, f), 0o644)
        shown = os.path.join(ro, "show.timbre")
        before = state(shown)
        line = one_clear_line(_as_nobody(["project", "new", os.path.join(ro, "new")]))
        assert "read-only" in line
        line = one_clear_line(_as_nobody(["import", shown, "/nonexistent.wav"]))
        assert "read-only" in line
        line = one_clear_line(_as_nobody(["export", shown, "-o", os.path.join(ro, "mix.wav")]))
        assert "read-only" in line
        assert state(shown) == before
    finally:
        shutil.rmtree(base, ignore_errors=True)
