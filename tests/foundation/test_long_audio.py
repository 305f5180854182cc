"""Memory stays bounded whatever the length: a long file imports, exports and masters as
a podcast episode in a child process under ``PEAK_LIMIT_MB`` of peak RSS (issue 12).

The file is near-silent and sparse (a 1 s tone every ten minutes), written in blocks as
16 kHz mono FLAC: ten hours cost ~2 MB on disk and seconds to make. The child's peak RSS
is read by a small wrapper process (its RUSAGE_CHILDREN holds only that one child), so
other tests' subprocesses cannot inflate it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO

PEAK_LIMIT_MB = 1500
RATE = 16_000

_WRAPPER = """
import json, resource, subprocess, sys
r = subprocess.run(sys.argv[1:], capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"rc": r.returncode, "peak_mb": peak, "stdout": r.stdout, "stderr": r.stderr}))
"""


def write_long_flac(
    path: Path, hours: float, rate: int = RATE, channels: int = 1, every_s: float = 600
) -> Path:
    """A 1 s, −20 dBFS 440 Hz tone every ``every_s`` seconds over silence, written block
    by block."""
    import soundfile as sf

    total = int(hours * 3600 * rate)
    block = int(every_s * rate)
    tone = (0.1 * np.sin(2 * np.pi * 440 * np.arange(rate) / rate)).astype(np.float32)
    with sf.SoundFile(path, "w", rate, channels, "PCM_16", format="FLAC") as handle:
        for a in range(0, total, block):
            n = min(block, total - a)
            chunk = np.zeros((n, channels), np.float32)
            chunk[: min(rate, n)] = tone[: min(rate, n), np.newaxis]
            handle.write(chunk)
    return path


def timbre_peak(*args: object) -> tuple[subprocess.CompletedProcess, float]:
    """Run ``timbre ARGS`` in a child; returns its result and its peak RSS in MB."""
    cli = [sys.executable, "-m", "desktop.cli.main", *map(str, args)]
    out = subprocess.run([sys.executable, "-c", _WRAPPER, *cli], capture_output=True, text=True,
                         cwd=REPO, check=True)
    data = json.loads(out.stdout)
    result = subprocess.CompletedProcess(cli, data["rc"], data["stdout"], data["stderr"])
    return result, float(data["peak_mb"])


def _import_and_export(tmp_path: Path, hours: float) -> None:
    import soundfile as sf

    source = write_long_flac(tmp_path / "long.flac", hours)
    project = tmp_path / "long.timbre"
    made, _ = timbre_peak("project", "new", project, "--sample-rate", RATE)
    assert made.returncode == 0, made.stderr
    imported, import_mb = timbre_peak("import", project, source)
    assert imported.returncode == 0, imported.stderr
    out = tmp_path / "long-out.flac"
    exported, export_mb = timbre_peak("export", project, "-o", out, "--lufs", "-16")
    assert exported.returncode == 0, exported.stderr
    print(f"{hours} h: import peak {import_mb:.0f} MB, export peak {export_mb:.0f} MB")
    assert import_mb < PEAK_LIMIT_MB
    assert export_mb < PEAK_LIMIT_MB
    info = sf.info(str(out))
    assert info.frames == int(hours * 3600 * RATE)
    assert "LUFS" in exported.stdout


def test_one_hour_imports_and_exports_in_bounded_memory(tmp_path):
    _import_and_export(tmp_path, 1.0)


@pytest.mark.slow
def test_ten_hours_import_and_export_in_bounded_memory(tmp_path):
    _import_and_export(tmp_path, 10.0)


def test_podcast_master_refuses_a_track_over_its_limit_up_front(tmp_path):
    """Past MAX_MINUTES, mastering says so in one line, from the file's header, before
    decoding anything (the file announces ten hours but holds one second)."""
    from engines.podcast.master import MAX_MINUTES
    from tests.long_audio import long_flac

    source = long_flac(tmp_path / "long.flac", (MAX_MINUTES + 5) / 60, rate=44_100)
    run, peak_mb = timbre_peak("podcast", "master", source, "-o", tmp_path / "ep.wav")
    assert run.returncode == 1
    assert run.stderr.strip().count("\n") == 0
    assert f"up to {MAX_MINUTES} minutes" in run.stderr
    assert peak_mb < 400


PODCAST_RATE = 48_000  # stereo 48 kHz inputs, as a recorder delivers them


def _master_episode(tmp_path: Path, minutes: float, rate: int = PODCAST_RATE) -> tuple[float, Path]:
    """``timbre podcast master`` on a stereo voice track of ``minutes`` with a
    5-minute music bed looped under it and 10 s intro and outro, at −16 LUFS; pauses are
    kept (the sparse voice is nearly all pause: shortened, the episode would be minutes
    long). Returns the child's peak RSS in MB and the episode."""
    import soundfile as sf

    voice = write_long_flac(tmp_path / f"voice{minutes}.flac", minutes / 60, rate, 2, 60)
    bed = tmp_path / "bed.flac"
    if not bed.exists():
        write_long_flac(bed, 5 / 60, rate, 2, 5)
        write_long_flac(tmp_path / "intro.flac", 10 / 3600, rate, 2, 2)
    out = tmp_path / f"episode{minutes}.flac"
    run, peak_mb = timbre_peak(
        "podcast", "master", voice, "--music", bed, "--intro", tmp_path / "intro.flac",
        "--outro", tmp_path / "intro.flac", "--max-pause", "0", "-o", out,
    )
    assert run.returncode == 0, run.stderr
    assert "loudness   -16.0 LUFS" in run.stdout, run.stdout
    assert sf.info(str(out)).duration == pytest.approx(minutes * 60 + 20, abs=0.01)
    print(f"podcast master, {minutes} min stereo {rate} Hz: peak {peak_mb:.0f} MB")
    return peak_mb, out


def test_podcast_master_memory_does_not_grow_with_length(tmp_path):
    """A 3-minute and a 12-minute episode peak within a few tens of MB of each other, under
    the limit: whole-episode mastering grew by ~50 MB a minute, ~450 MB over these nine.
    Inputs at the mastering rate (44.1 kHz) skip the resampling pass, to keep this quick;
    the slow test below covers 48 kHz input and three hours."""
    short, _ = _master_episode(tmp_path, 3, 44_100)
    long, _ = _master_episode(tmp_path, 12, 44_100)
    assert long - short < 60
    assert long < PEAK_LIMIT_MB


@pytest.mark.slow
def test_three_hour_podcast_masters_in_bounded_memory(tmp_path):
    peak_mb, _ = _master_episode(tmp_path, 180)
    assert peak_mb < PEAK_LIMIT_MB


def test_speak_refuses_text_over_the_limit_before_reading_it(tmp_path, timbre_cli):
    from desktop.cli.speech_cmds import MAX_TEXT_CHARS

    book = tmp_path / "book.txt"
    book.write_text("word " * (MAX_TEXT_CHARS // 2), encoding="utf-8")
    run = timbre_cli("speak", "--file", book, "-o", tmp_path / "book.wav")
    assert run.returncode == 1
    assert run.stderr.strip().count("\n") == 0
    assert f"longer than {MAX_TEXT_CHARS:,} characters" in run.stderr
