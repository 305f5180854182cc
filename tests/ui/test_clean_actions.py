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


def test_convert_a_clip_to_a_consented_voice_on_a_new_track_then_undo(qtbot, window, tmp_path):
    """Edit › Convert voice… (Chatterbox VC, tiny random weights): refused without a
    consented voice, then a watermarked take on a new track under the clip, one Undo step."""
    from engines.audio_io import write_audio
    from engines.voices.library import open_library
    from tests.voices import material

    p, tl = window.project, window.timeline
    take = p.add_take(material.joe(material.SENTENCES[1]).resampled(RATE), "Interview take", "import")
    track = tl.add_track("Host")
    clip = tl.add_clip(track, take.id, RATE // 4)
    window.projects.refresh()
    window.view.select_clip(clip)
    assert window.clean.act_convert in window.view.extra_clip_actions

    window.clean.convert_voice()  # no voice has consent yet: told, nothing asked or changed
    assert "consent" in window.notice.label.text() and len(p.tracks()) == 1

    lib = open_library()
    lib.add("Sam", [write_audio(tmp_path / "ref.wav", material.joe(material.SENTENCES[0]))])
    said = write_audio(tmp_path / "consent.wav", material.joe(lib.statement("Sam").text, 1.1))
    lib.record_consent("Sam", said, check_phrase=False)
    window.clean.vc_model = "debug"  # tiny random Chatterbox: noise, for testing
    window.clean.convert_voice("Sam")
    qtbot.waitUntil(lambda: len(p.tracks()) == 2, timeout=120_000)
    assert [t.name for t in p.tracks()] == ["Host", "Interview take as Sam"]
    new = [c for c in p.clips() if c.track_id != track][0]
    assert new.start_frame == RATE // 4
    converted = p.take(new.take_id)
    assert converted.engine == "chatterbox-vc" and converted.provenance["consent"]
    assert window.timeline.undo_label == "Convert Interview take to Sam"
    window.projects.undo()
    assert [t.name for t in p.tracks()] == ["Host"]


def test_convert_refuses_a_clip_longer_than_an_hour_before_rendering_it(window, monkeypatch):
    """A 2-hour clip is refused from its length in one line; nothing is mixed or stored."""
    from desktop.session import stems
    from desktop.session.convert import convert_to_take
    from engines.errors import BadInput

    p, tl = window.project, window.timeline
    take = p.add_take(tone(1.0, 300), "long interview", "import")
    clip = tl.add_clip(tl.add_track("Host"), take.id, 0)
    import dataclasses

    real = p.clip
    monkeypatch.setattr(p, "clip", lambda cid: dataclasses.replace(real(cid), length_frames=2 * 3600 * RATE))
    rendered = []
    monkeypatch.setattr(stems, "clip_source", lambda *a: rendered.append(a))
    with pytest.raises(BadInput, match="120 minutes long"):
        convert_to_take(p, clip, "Sam")
    assert not rendered and len(p.takes()) == 1
