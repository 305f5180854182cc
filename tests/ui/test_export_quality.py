"""Export mix… to MP3 asks the bit rate (192 kbps VBR first), and the file has it."""

from __future__ import annotations


def test_export_dialog_asks_mp3_bitrate(two_clips, qtbot, tmp_path, monkeypatch):
    from mutagen.mp3 import MP3, BitrateMode
    from PySide6.QtWidgets import QFileDialog, QInputDialog

    window, _ids = two_clips
    out = tmp_path / "episode.mp3"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    asked = {}

    def choose(_parent, title, _label, items, *_args):
        asked[title] = list(items)
        if title == "Export quality":
            return "320 kbps, constant (largest, most compatible)", True
        return items[0], True

    monkeypatch.setattr(QInputDialog, "getItem", choose)
    window.projects.export_dialog()
    qtbot.waitUntil(lambda: "Exported" in window.notice.label.text(), timeout=30_000)
    assert asked["Export quality"][0] == "192 kbps, variable (recommended)"
    info = MP3(out).info
    assert info.bitrate_mode == BitrateMode.CBR and abs(info.bitrate - 320_000) < 1000
    assert "320 kbps CBR" in window.notice.label.text()


def test_export_dialog_starts_at_the_preferred_mp3_bitrate(two_clips, qtbot, tmp_path, monkeypatch):
    """Preferences' MP3 bit rate is where Export quality's list starts (was ignored)."""
    from PySide6.QtWidgets import QFileDialog, QInputDialog

    from engines.settings import set_setting

    window, _ids = two_clips
    set_setting("export/mp3_bitrate", 128)
    out = tmp_path / "episode.mp3"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    started = {}

    def choose(_parent, title, _label, items, current, *_args):
        started[title] = list(items)[current]
        return (None, False) if title == "Export quality" else (items[0], True)

    monkeypatch.setattr(QInputDialog, "getItem", choose)
    window.projects.export_dialog()
    assert started["Export quality"] == "128 kbps, variable (smaller)"
    assert not out.exists()  # cancelled at the quality question: nothing written
