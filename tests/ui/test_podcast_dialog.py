"""File ▸ Master episode…: roles per track, master off the GUI thread, measured loudness.

Voices are real Piper speech (tests.podcast.synth), so Silero VAD finds speech to duck
the music bed under; the intro is a tone and the bed is generated "music".
"""

from __future__ import annotations

import pytest

from engines.audio_io import read_audio
from engines.loudness import integrated_lufs, true_peak_db
from tests.podcast.synth import music_bed, say
from tests.ui.conftest import tone


@pytest.fixture
def episode(window):
    """Two voice tracks one after the other, a music bed, an intro, one chapter marker."""
    p, tl = window.project, window.timeline
    a = p.add_take(say("Welcome back to the show. Today we talk about gardens."), "host", "import")
    b = p.add_take(say("Thanks for having me. I grow tomatoes on a balcony.", 1.12, -3.0), "guest", "import")
    bed = p.add_take(music_bed(6.0), "bed", "music")
    intro = p.add_take(tone(2.0, 330), "jingle", "import")
    host, guest, music, jingle = (tl.add_track(n) for n in ("Host", "Guest", "Bed", "Jingle"))
    tl.add_clip(host, a.id, 0)
    tl.add_clip(guest, b.id, p.clips(host)[0].end_frame)
    tl.add_clip(music, bed.id, 0)
    tl.add_clip(jingle, intro.id, 0)
    tl.add_marker(p.clips(guest)[0].start_frame, "Guest", "chapter")
    window.projects.refresh()
    window.act_master.trigger()
    dialog = window.podcast_dialog
    assert [c.currentText() for c in dialog.roles] == ["Voice", "Voice", "Music bed", "Voice"]
    dialog.roles[3].setCurrentIndex(dialog.roles[3].findData("intro"))
    return dialog, a.duration + b.duration, intro.duration


def test_master_episode(qtbot, window, episode, tmp_path):
    dialog, voices_s, intro_s = episode
    out = tmp_path / "episode.flac"
    dialog.output.setText(str(out))
    with qtbot.waitSignal(dialog.finished_master, timeout=60_000) as done:
        dialog.start.click()
    result = done.args[0]
    assert result is not None, dialog.status.text()
    assert out.exists()
    clip = read_audio(out)
    assert integrated_lufs(clip) == pytest.approx(-16.0, abs=0.5)
    assert true_peak_db(clip) <= -1.0
    assert clip.duration > intro_s + voices_s * 0.9  # pauses over 1 s may be shortened
    assert [c.title for c in result.chapters] == ["Guest"] and result.chapters[0].start > intro_s
    assert "LUFS" in dialog.status.text() and "LUFS" in window.notice.label.text()


def test_cancel(qtbot, episode, tmp_path):
    dialog, _, _ = episode
    out = tmp_path / "cancelled.wav"
    dialog.output.setText(str(out))
    with qtbot.waitSignal(dialog.finished_master, timeout=60_000) as done:
        dialog.start.click()
        dialog.cancel.click()
    assert done.args[0] is None
    assert "cancelled" in dialog.status.text().lower()
    assert not out.exists() and dialog.start.isEnabled()
