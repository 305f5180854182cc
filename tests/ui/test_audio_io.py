"""Real playback and recording through sounddevice/PortAudio/ALSA, with no sound card: the
ALSA default device of a child process is a file pair (capture reads one, playback writes
the other), set up by an asoundrc under XDG_CONFIG_HOME before PortAudio starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import REPO

ASOUNDRC = """
pcm.!default {{
    type plug
    slave {{ pcm "files" format S16_LE channels 1 rate 48000 }}
}}
pcm.files {{
    type file
    slave.pcm "null"
    file "{out}"
    format "raw"
    infile "{inp}"
}}
"""


@pytest.mark.skipif(sys.platform != "linux", reason="uses an ALSA configuration")
def test_record_then_play_through_alsa_files(tmp_path):
    inp, out = tmp_path / "in.raw", tmp_path / "out.raw"
    t = np.arange(48_000 * 3) / 48_000
    inp.write_bytes((0.25 * np.sin(2 * np.pi * 300 * t) * 32767).astype("<i2").tobytes())
    (tmp_path / "alsa").mkdir()
    (tmp_path / "alsa" / "asoundrc").write_text(ASOUNDRC.format(out=out, inp=inp))
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-m", "tests.ui.audio_session", str(tmp_path / "p")],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["available"] and not report["banner"], report
    [(start, length)] = report["recorded_clips"]
    assert start == 0 and length >= 48_000 and 0.2 < report["record_peak"] <= 0.26
    assert "recording" in report["live_title"] and report["live_frames"] >= 48_000
    assert report["played"] and report["play_position"] == length
    assert report["selection_position"] == 4_800
    played = np.frombuffer(out.read_bytes(), "<i2").astype(np.float32) / 32767
    spectrum = np.abs(np.fft.rfft(played[: 4096 * 2]))
    assert abs(spectrum.argmax() * 48_000 / (4096 * 2) - 300) < 12  # what was recorded came back out
