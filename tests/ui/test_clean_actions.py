"""Edit › Separate stems… and Denoise… on a clip: the work runs off the GUI thread, the
result is one Undo step; the podcast dialog offers the neural denoiser."""

from __future__ import annotations

import numpy as np
import pytest

from engines.audio import AudioClip
from tests.ui.conftest import RATE, tone


def noisy_tone(seconds: float) -> AudioClip:
    noise = np.random.default_rng(3).standard_normal(int(seconds * RATE)).astype(np.float32)
    return AudioClip(tone(seconds, 300).samples * 0.4 + 0.02 * noise, RATE)


def test_denoise_a_clip_in_place_then_undo(qtbot, window):
    p, tl = window.project, window.timeline
    take = p.add_take(noisy_tone(1.0), "Interview with a very long name, take 3", "import")
    track = tl.add_track("Guest microphone")
    clip = tl.add_clip(track, take.id, RATE // 2)
    window.projects.refresh()
    window.view.select_clip(clip)
    from PySide6.QtWidgets import QMenu

    (edit,) = [m for m in window.menuBar().findChildren(QMenu) if m.title() == "&Edit"]
    assert window.clean.act_stems in edit.actions() and window.clean.act_denoise in edit.actions()
    assert window.view.extra_clip_actions == window.clean.actions  # the clip's context menu

    window.clean.denoise("rnnoise")
    qtbot.waitUntil(lambda: p.clip(clip).take_id != take.id, timeout=60_000)
    after = p.clip(clip)
    assert (after.start_frame, after.length_frames) == (RATE // 2, RATE)
    assert p.take(after.take_id).name.endswith("(denoised)")
    assert p.take(after.take_id).engine == ""  # cleaned, not generated
    assert window.timeline.undo_label.startswith("Denoise Interview")
    window.projects.undo()
    assert p.clip(clip).take_id == take.id


@pytest.mark.slow  # torch and demucs in the test process: tens of seconds on a laptop CPU
def test_separate_stems_of_a_clip_then_undo(qtbot, window):
    p, tl = window.project, window.timeline
    take = p.add_take(noisy_tone(1.0), "song", "import")
    track = tl.add_track("Band")
    clip = tl.add_clip(track, take.id, RATE)
    window.projects.refresh()
    window.view.select_clip(clip)
    window.clean.model = "debug"  # tiny random HTDemucs: noise, for testing
    window.clean.separate_stems("vocals", ask=False)
    qtbot.waitUntil(lambda: len(p.tracks()) == 3, timeout=90_000)
    assert [t.name for t in p.tracks()] == ["Band", "song · vocals", "song · no_vocals"]
    assert all(c.start_frame == RATE for c in p.clips())
    assert "2 new tracks" in window.notice.label.text()
    window.projects.undo()
    assert [t.name for t in p.tracks()] == ["Band"]


def test_podcast_dialog_offers_neural_denoise(window):
    from desktop.ui.podcast_dialog import PodcastDialog

    dialog = PodcastDialog(window.project, window)
    keys = [dialog.denoise.itemData(i) for i in range(dialog.denoise.count())]
    assert keys == ["spectral", "rnnoise", "off"]
    dialog.denoise.setCurrentIndex(1)
    assert dialog.cleanup_settings().denoiser == "rnnoise"
    dialog.denoise.setCurrentIndex(2)
    assert dialog.cleanup_settings().noise_reduction is False


def test_model_manager_offers_htdemucs_for_stems(window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import Qt

    from desktop.ui.model_manager import ModelManager

    monkeypatch.setenv("TIMBRE_MODELS_DIR", str(tmp_path / "store"))  # nothing installed
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    dialog = ModelManager(window, window.jobs.loaded_engines, window.jobs.unload_all)
    qtbot.addWidget(dialog)
    names = [dialog.catalog.item(r, 0).data(Qt.ItemDataRole.UserRole) for r in range(dialog.catalog.rowCount())]
    row = names.index("htdemucs")
    assert "stem separation" in dialog.catalog.item(row, 0).text()
    assert dialog.catalog.item(row, 2).text() == "not installed"
    assert dialog.catalog.item(row, 3).text() == "MIT"
