"""The studio's "Check for watermark" window: drop audio files on it, or choose them.

The same check as ``timbre detect`` (:func:`engines.file_check.check_file`), run in the
background so the window stays responsive while perth reads a long file.
"""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.bridge import run_task
from engines.audio_io import import_filter

VERDICTS = {
    "present": "Watermark present",
    "absent": "No watermark",
    "inconclusive": "Watermark inconclusive",
}


def describe(check) -> str:
    """Two or more lines for one file: the verdict, then the provenance its tags carry."""
    lines = [f"{check.file}", f"{VERDICTS.get(check.verdict, check.verdict)} (score {check.score:.2f})"]
    if check.note:
        lines.append(check.note)
    doc = check.provenance
    if check.tags_error:  # a crafted tag: say so rather than show "none"
        lines.append(check.tags_error)
        return "\n".join(lines)
    if doc is None:
        lines.append("No provenance in the file's tags.")
        return "\n".join(lines)
    for take in doc.get("takes") or []:
        if take.get("engine"):
            what = [take["engine"], take.get("model_id", ""), json.dumps(take.get("prompt", ""))]
            if take.get("seed") is not None:
                what.append(f"seed {take['seed']}")
            if take.get("consent"):
                what.append("consent on record")
            lines.append("Generated: " + "  ".join(w for w in what if w and w != '""'))
        else:
            lines.append(f"Imported: {take.get('name', '')}")
    return "\n".join(lines)


class WatermarkCheckDialog(QDialog):
    """A drop target listing, per file, the watermark verdict and provenance."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Check for watermark")
        self.setAcceptDrops(True)
        self.resize(560, 380)
        layout = QVBoxLayout(self)
        hint = QLabel("Drop audio files here to check them for Timbre's watermark and provenance.")
        hint.setWordWrap(True)
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(hint)
        self.results = QListWidget()
        self.results.setAccessibleName("Watermark check results")
        self.results.setWordWrap(True)
        layout.addWidget(self.results, 1)
        choose = QPushButton("Choose files…")
        choose.clicked.connect(self.choose_files)
        layout.addWidget(choose)
        self.pending = 0

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt API
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt API
        self.check([u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()])
        event.acceptProposedAction()

    def choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self, "Check files", "", f"{import_filter('Audio')};;All files (*)"
        )
        self.check(files)

    def check(self, files: list[str]) -> None:
        from engines.file_check import check_file

        for path in files:
            item = QListWidgetItem(f"{path}\nChecking…")
            self.results.addItem(item)
            self.pending += 1
            run_task(
                lambda p=path: check_file(p),
                lambda result, item=item: self._show(item, describe(result)),
                lambda exc, _details, item=item: self._show(item, str(exc)),
            )

    def _show(self, item: QListWidgetItem, text: str) -> None:
        item.setText(text)
        self.pending -= 1
