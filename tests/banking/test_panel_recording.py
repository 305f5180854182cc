"""The banking panel's spectrogram while it records and after (issue 7): the studio's own
SpectrogramPanel fed live from the shared AudioIO, then the take; and the panel takes only
the recordings it started itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from engines.banking.bank import MAX_TAKE_S, VoiceBank
from tests.conftest import REPO
from tests.ui.test_audio_io import ASOUNDRC

pytestmark = pytest.mark.gui


@pytest.mark.skipif(sys.platform != "linux", reason="uses an ALSA configuration")
def test_the_spectrogram_grows_live_while_recording_then_shows_the_take(tmp_path, clean_takes):
    take = next(iter(clean_takes.values()))
    x = take.mono().samples[0]
    t = np.arange(int(len(x) * 48_000 / take.sample_rate)) / 48_000
    speech = np.interp(t, np.arange(len(x)) / take.sample_rate, x)
    inp, out = tmp_path / "in.raw", tmp_path / "out.raw"
    inp.write_bytes((np.clip(speech, -1, 1) * 32767).astype("<i2").tobytes())
    (tmp_path / "alsa").mkdir()
    (tmp_path / "alsa" / "asoundrc").write_text(ASOUNDRC.format(out=out, inp=inp))
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    args = [sys.executable, "-m", "tests.banking.panel_session", str(tmp_path / "bank")]
    if os.environ.get("BANK_SCREENSHOT"):
        args.append(os.environ["BANK_SCREENSHOT"])
    result = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["available"] and report["recording"], report
    first, second = report["live_frames"]
    assert 0 < first < second, report  # the live source grows tick by tick
    assert report["live_source_is_growing"] and "recording" in report["live_title"]
    assert report["state"] == "review" and report["verdict"], report
    assert "take" in report["take_title"] and report["take_source"] == "ArraySource"
    # ALSA's file device is not paced: the take is capped at a bank take's longest
    cap = int(MAX_TAKE_S * 48_000)
    assert report["take_frames"] == report["clip_frames"]
    assert min(second, cap) <= report["clip_frames"] <= cap
    assert report["view_end"] == pytest.approx(report["clip_frames"] / 48_000)
    assert report["image_columns"] > 0


def test_recordings_the_panel_did_not_start_are_ignored(qtbot, tmp_path, clean_takes):
    from desktop.ui.audio import AudioIO
    from desktop.ui.banking.panel import IDLE, BankingPanel

    audio = AudioIO()
    panel = BankingPanel(audio, VoiceBank.create(tmp_path / "bank"))
    qtbot.addWidget(panel)
    take = next(iter(clean_takes.values()))
    audio.recorded.emit(take)  # e.g. another window recorded through the same audio
    assert panel.state == IDLE and panel.last_clip is None
    assert panel.spectrogram.placement is None
