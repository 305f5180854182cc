"""Import → export: the mixdown lands on the asked loudness, under −1 dBTP."""

from __future__ import annotations

import pytest

from engines.audio_io import read_audio
from engines.loudness import integrated_lufs, true_peak_db


@pytest.fixture(scope="module")
def show(tmp_path_factory):
    import subprocess
    import sys

    from tests.conftest import REPO
    from tests.foundation.conftest import music_like

    tmp = tmp_path_factory.mktemp("rt")
    import soundfile as sf

    a, b = tmp / "music.wav", tmp / "quiet.flac"
    sf.write(a, music_like(4.0, 48_000, 2, seed=1), 48_000)
    sf.write(b, music_like(3.0, 44_100, 1, seed=2) * 0.1, 44_100)
    proj = tmp / "show.timbre"
    for args in (["project", "new", proj], ["import", proj, a, b]):
        r = subprocess.run([sys.executable, "-m", "desktop.cli.main", *map(str, args)],
                           capture_output=True, text=True, cwd=REPO)
        assert r.returncode == 0, r.stderr
    return proj


@pytest.mark.parametrize(("fmt", "lufs"), [("wav", -16.0), ("flac", -23.0), ("ogg", -14.0), ("mp3", -19.0)])
def test_export_hits_requested_loudness(show, tmp_path, timbre_cli, fmt, lufs):
    out = tmp_path / f"episode.{fmt}"
    result = timbre_cli("export", show, "-o", out, "--lufs", lufs)
    assert result.returncode == 0, result.stderr
    clip = read_audio(out)
    assert abs(clip.duration - 4.0) < 0.1
    assert abs(integrated_lufs(clip) - lufs) <= 0.5
    tolerance = 0.0 if fmt in ("wav", "flac") else 0.5  # lossy codecs move peaks a little
    assert true_peak_db(clip) <= -1.0 + tolerance


def test_export_without_lufs_keeps_levels(show, tmp_path, timbre_cli):
    out = tmp_path / "raw.wav"
    assert timbre_cli("export", show, "-o", out).returncode == 0
    assert read_audio(out).peak <= 1.0
