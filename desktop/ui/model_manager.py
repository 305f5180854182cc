"""The model manager dialog: installed models and sizes, import a folder, download, remove,
and unload the engines that hold weights in memory.

The store is :mod:`engines.modelstore` (Hugging Face cache layout). Downloading goes through
``engines.modelstore.download`` when the store offers it and the user has allowed downloads
(setting ``allow_downloads``); otherwise the dialog says how to get weights in by hand.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.background import run_in_background
from engines import modelstore
from engines.settings import get_setting


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


class _ProgressBridge(QObject):
    changed = Signal(float)


class ModelManager(QDialog):
    def __init__(
        self,
        parent: QWidget | None = None,
        loaded: Callable[[], list[str]] = list,
        unload_all: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.setAccessibleName("Model manager")
        self._loaded, self._unload_all = loaded, unload_all
        self.table = QTableWidget(0, 3)
        self.table.setAccessibleName("Installed models")
        self.table.setHorizontalHeaderLabels(["Model", "Revision", "Size"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.location = QLabel(f"Store: {modelstore.hub_cache()}")
        self.location.setWordWrap(True)
        self.engines_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Download progress")
        self.progress.hide()
        buttons = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for key, text, tip, slot in (
            ("import", "Import folder…", "Copy a model folder into the store", self.import_dialog),
            ("download", "Download…", "Download a model from the Hugging Face hub", self.download_dialog),
            ("remove", "Remove", "Delete the selected model from the store", self.remove_selected),
            ("unload", "Unload engines", "Free the memory of every loaded engine", self.unload_all),
        ):
            b = QPushButton(text)
            b.setToolTip(tip)
            b.setAccessibleName(text.rstrip("…"))
            b.clicked.connect(slot)
            buttons.addWidget(b)
            self.buttons[key] = b
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons.addStretch(1)
        buttons.addWidget(close)
        box = QVBoxLayout(self)
        box.addWidget(self.location)
        box.addWidget(self.table, 1)
        box.addWidget(self.engines_label)
        box.addWidget(self.progress)
        box.addLayout(buttons)
        self.resize(720, 420)
        self.refresh()

    def refresh(self) -> None:
        models = modelstore.list_installed()
        self.table.setRowCount(len(models))
        for row, m in enumerate(models):
            for col, text in enumerate((m.repo_id, m.revision[:12], human_size(m.size_bytes))):
                self.table.setItem(row, col, QTableWidgetItem(text))
        total = sum(m.size_bytes for m in models)
        self.table.setToolTip(f"{len(models)} model(s), {human_size(total)} in all")
        loaded = self._loaded()
        self.engines_label.setText("Loaded engines: " + (", ".join(loaded) if loaded else "none"))
        self.buttons["unload"].setEnabled(bool(loaded) and self._unload_all is not None)
        can_download = hasattr(modelstore, "download")
        self.buttons["download"].setEnabled(can_download)
        if not can_download:
            self.buttons["download"].setToolTip("This build cannot download; import a folder instead.")

    def selected_repo(self) -> str | None:
        row = self.table.currentRow()
        item = self.table.item(row, 0) if row >= 0 else None
        return item.text() if item else None

    def import_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Model folder to import")
        if not folder:
            return
        repo, ok = QInputDialog.getText(self, "Model id", "Install as (e.g. facebook/musicgen-small):")
        if ok and repo.strip():
            self.import_folder(folder, repo.strip())

    def import_folder(self, folder: str, repo_id: str) -> None:
        from pathlib import Path

        run_in_background(lambda: modelstore.import_folder(Path(folder), repo_id),
                          lambda _m: self.refresh(), self._failed)

    def download_dialog(self) -> None:
        if not get_setting("allow_downloads"):
            QMessageBox.information(self, "Downloads are off",
                                    "Timbre works offline unless you allow downloads. Turn on "
                                    "'allow_downloads' in the settings, or import a model folder.")
            return
        repo, ok = QInputDialog.getText(self, "Download model", "Model id (e.g. facebook/musicgen-small):")
        if ok and repo.strip():
            self.download(repo.strip())

    def download(self, repo_id: str) -> None:
        """Download through the store's hook, with a determinate bar once sizes are known."""
        self.progress.show()
        self.progress.setRange(0, 0)
        self.progress.setFormat(f"Downloading {repo_id}… %p%")
        bridge = _ProgressBridge()
        bridge.changed.connect(lambda f: (self.progress.setRange(0, 1000), self.progress.setValue(int(f * 1000))))

        def done(_result: object) -> None:
            self.progress.hide()
            self.refresh()

        run_in_background(lambda: modelstore.download(repo_id, progress=lambda p: bridge.changed.emit(p.fraction)),
                          done, self._failed)
        self._bridge = bridge  # keep it alive while the download runs

    def remove_selected(self) -> None:
        repo = self.selected_repo()
        if repo is None:
            return
        if QMessageBox.question(self, "Remove model", f"Delete {repo} from the store?") == QMessageBox.StandardButton.Yes:
            modelstore.remove(repo)
            self.refresh()

    def unload_all(self) -> None:
        if self._unload_all is not None:
            self._unload_all()
        self.refresh()

    def _failed(self, exc: BaseException, _details: str) -> None:
        self.progress.hide()
        QMessageBox.warning(self, "Models", str(exc))
        self.refresh()
