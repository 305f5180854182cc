"""The studio's drop target for checking files: same verdicts as ``timbre detect``."""

from __future__ import annotations

import pytest

from engines.tags import provenance_document, write_tagged

pytestmark = pytest.mark.gui


def test_dropping_files_shows_verdict_and_provenance(qtbot, tmp_path, marked_speech, speech):
    from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    from desktop.ui.watermark_check import WatermarkCheckDialog

    marked = write_tagged(tmp_path / "marked.wav", marked_speech.clip,
                          provenance_document([marked_speech.provenance.to_dict()]))
    clean = write_tagged(tmp_path / "clean.wav", speech, provenance_document([]))
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"not audio")
    dialog = WatermarkCheckDialog()
    qtbot.addWidget(dialog)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in (marked, clean, broken)])
    dialog.dropEvent(QDropEvent(QPoint(10, 10).toPointF(), Qt.DropAction.CopyAction, mime,
                                Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))
    qtbot.waitUntil(lambda: dialog.pending == 0, timeout=60_000)
    texts = [dialog.results.item(i).text() for i in range(dialog.results.count())]
    assert "Watermark present (score 1.00)" in texts[0]
    assert "Generated: piper  en_US-joe-medium" in texts[0] and "seed 7" in texts[0]
    assert "No watermark" in texts[1]
    assert "broken.wav" in texts[2] and "not an audio file" in texts[2]
