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
