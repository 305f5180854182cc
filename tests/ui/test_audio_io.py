"""Real playback and recording through sounddevice/PortAudio/ALSA, with no sound card: the
ALSA default device of a child process is a file pair (capture reads one, playback writes
the other), set up by an asoundrc under XDG_CONFIG_HOME before PortAudio starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

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


@pytest.mark.skipif(sys.platform != "linux", reason="uses an ALSA configuration")
def test_long_project_plays_streamed_in_bounded_memory(tmp_path):
    """Play on a 20-minute timeline mixes just ahead of the device: sound comes at once,
    the device gets exactly the mix, and memory stays far below the whole mixdown's
    (20 min of stereo float32 is 460 MB, before any copy)."""
    from tests.ui.long_play_session import PLAY_S, RATE

    inp, out = tmp_path / "in.raw", tmp_path / "out.raw"
    inp.write_bytes(b"\0" * 4)
    (tmp_path / "alsa").mkdir()
    rc = ASOUNDRC.format(out=out, inp=inp).replace("channels 1", "channels 2")
    (tmp_path / "alsa" / "asoundrc").write_text(rc)
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-m", "tests.ui.long_play_session", str(tmp_path)],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["available"] and report["length"] == 20 * 60 * RATE, report
    assert report["stopped"] and report["position"] >= PLAY_S * RATE, report
    assert report["first_sound_s"] < 5, report
    assert report["jump_stopped"] and report["jump_position"] >= RATE and not report["producers_left"]
    assert report["rss_after_mb"] - report["rss_before_mb"] < 60, report
    played = np.frombuffer(out.read_bytes(), "<i2").reshape(-1, 2).T.astype(np.float32) / 32767
    reference = np.load(tmp_path / "reference.npy")
    assert np.abs(reference).max() > 0.5
    # PortAudio's ALSA stream opens with a few periods of silence of its own: skip those
    lead = int(np.flatnonzero(played[0])[0] - np.flatnonzero(reference[0])[0])
    assert 0 <= lead <= 4 * 1024 and lead % 1024 == 0, lead
    played = played[:, lead : lead + reference.shape[1]]
    assert played.shape == reference.shape  # then every sample, with no gap: within 16-bit rounding
    np.testing.assert_allclose(played, np.clip(reference, -1, 1), atol=2 / 32767)


def test_producer_stops_while_full_and_reports_a_failed_render():
    """Stop must not hang on a full queue (the device stopped reading), and a render that
    fails ends the queue with its error, for the window's notification."""
    from desktop.ui.audio import AHEAD_BLOCKS, _End, _Producer

    def endless():
        while True:
            yield np.zeros((2, 100), np.float32)

    producer = _Producer(endless(), 2)
    assert producer.ready.wait(5)
    while producer.queue.qsize() < AHEAD_BLOCKS:
        time.sleep(0.01)
    producer.stop()
    assert not producer._thread.is_alive()

    def broken():
        yield np.ones((1, 3), np.float32)
        raise ValueError("disk gone")

    producer = _Producer(broken(), 2)
    first = producer.queue.get(timeout=5)
    assert first.shape == (3, 1) and first.flags.c_contiguous  # (frames, channels) for the copy
    end = producer.queue.get(timeout=5)
    assert isinstance(end, _End) and str(end.error) == "disk gone"
