"""Run by test_panel_recording.py in a fresh process whose ALSA default device is a file
pair (see tests/ui/test_audio_io.py): the banking panel records a prompt read from a raw
file with Space, and its spectrogram is sampled while recording and after. Prints JSON."""

from __future__ import annotations

import json
import sys
import time

from PySide6.QtWidgets import QApplication

from tests.ui.audio_session import pump


def main(bank_path: str, screenshot: str = "") -> None:
    app = QApplication(sys.argv[:1])
    from desktop.ui.audio import AudioIO
    from desktop.ui.banking.panel import RECORDING, REVIEW, BankingPanel
    from engines.banking.bank import VoiceBank

    audio = AudioIO()
    out: dict = {"available": audio.probe(), "reason": audio.reason}
    panel = BankingPanel(audio, VoiceBank.create(bank_path))
    panel.resize(1000, 720)
    panel.show()
    panel.primary_action()  # Space
    out["recording"] = panel.state == RECORDING
    live = panel._live
    spectrogram = panel.spectrogram
    # ALSA's file plugin is not paced in real time: sample two of the 200 ms ticks
    pump(app, 10, lambda: live.frames > 0)
    out["live_frames"] = [live.frames]
    out["live_title"] = spectrogram.title.text()
    out["live_source_is_growing"] = spectrogram.placement.source is live
    pump(app, 10, lambda: live.frames > out["live_frames"][0])
    out["live_frames"].append(live.frames)
    out["live_view_end"] = spectrogram.view_range[1]
    pump(app, 10, lambda: audio.position >= 3 * 48_000)
    panel.primary_action()  # Space: stop and check
    pump(app, 60, lambda: panel.state == REVIEW)
    out["state"] = panel.state
    out["verdict"] = panel.verdict_label.text()
    out["take_title"] = spectrogram.title.text()
    placement = spectrogram.placement
    out["take_frames"] = placement.source.frames
    out["take_source"] = type(placement.source).__name__
    out["clip_frames"] = panel.last_clip.frames
    out["view_end"] = spectrogram.view_range[1]
    end = time.monotonic() + 10
    while time.monotonic() < end and not spectrogram.complete:  # tiles are computed in the pool
        app.processEvents()
        time.sleep(0.01)
    pump(app, 0.3)
    out["image_columns"] = int(spectrogram._shown[2].shape[0]) if spectrogram._shown else 0
    if screenshot:
        panel.grab().save(screenshot)
    audio.stop()
    panel.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main(*sys.argv[1:])
