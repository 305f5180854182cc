"""The model manager dialog: installed models and sizes, the catalogue of downloadable
checkpoints, import a folder, download, remove, and unload engines holding weights in memory.

The store is :mod:`engines.modelstore` (Hugging Face cache layout). Downloads and checkpoint
imports go through :mod:`engines.music.models` (it verifies hashes and refuses checkpoints
that would run pickled code); downloading needs the "Allow model downloads" setting.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
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
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.bridge import TaskHandle, run_task
from desktop.ui.voice_catalog import KokoroCatalog, VoiceCatalog
from engines import modelstore
from engines.cancel import Progress
from engines.errors import Cancelled
from engines.settings import get_setting

PROGRESS_STEPS = 1000  # the bar's resolution: a 3 GB download moves it every 3 MB


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


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
        self.table = self._table("Installed models", ["Model", "Revision", "Size", "Licence"])
        self.catalog = self._table("Models to download", ["Model", "Download", "Status", "Licence"])
        self.voices = VoiceCatalog()  # Piper's voice catalog, its own tab
        self.tabs = QTabWidget()
        self.tabs.addTab(self.catalog, "Music, effects && Chatterbox")
        self.tabs.addTab(self.voices, "Voices (Piper)")
        self.kokoro = KokoroCatalog()  # Kokoro-82M's full voice set
        self.tabs.addTab(self.kokoro, "Voices (Kokoro)")
        # The selected checkpoint's licence in a sentence, shown before anything is downloaded.
        self.licence = QLabel()
        self.licence.setWordWrap(True)
        self.licence.setAccessibleName("Licence of the selected model")
        self.location = QLabel(f"Store: {modelstore.hub_cache()}")
        self.location.setWordWrap(True)
        self.engines_label = QLabel()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Download progress")
        self.progress.setRange(0, PROGRESS_STEPS)
        self.progress.hide()
        self.cancel_download = QPushButton("Cancel download")
        self.cancel_download.setToolTip("Stop the download; the next download resumes where it stopped")
        self.cancel_download.setAccessibleName("Cancel download")
        self.cancel_download.hide()
        self._cancel: TaskHandle | None = None
        buttons = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for key, text, tip, slot in (
            ("import", "Import folder…", "Copy a model folder into the store", self.import_dialog),
            ("import_file", "Import file…",
             "Import demucs' htdemucs weights (955717e8-8726e21a.th): stem separation and the melody checkpoints",
             self.import_file_dialog),
            ("download", "Download", "Download the model selected in the lower list", self.download_selected),
            ("remove", "Remove", "Delete the selected installed model from the store", self.remove_selected),
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
        box.addWidget(QLabel("Installed"))
        box.addWidget(self.table, 2)
        box.addWidget(QLabel("Available to download"))
        box.addWidget(self.tabs, 2)
        box.addWidget(self.licence)
        box.addWidget(self.engines_label)
        box.addWidget(self.status)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_download)
        box.addLayout(progress_row)
        box.addLayout(buttons)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.catalog.itemSelectionChanged.connect(self._selection_changed)
        self.voices.table.itemSelectionChanged.connect(self._selection_changed)
        self.tabs.currentChanged.connect(self._selection_changed)
        self.voices.refresh_button.clicked.connect(self.refresh_voices)
        self.kokoro.table.itemSelectionChanged.connect(self._selection_changed)
        self.kokoro.refresh_button.clicked.connect(lambda: self.refresh_voices(self.kokoro))
        self.resize(760, 560)
        self.voices.load()
        self.kokoro.load()
        self.refresh()

    def _table(self, name: str, headers: list[str]) -> QTableWidget:
        table = QTableWidget(0, len(headers))
        table.setAccessibleName(name)
        table.setHorizontalHeaderLabels(headers)
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.verticalHeader().hide()
        return table

    @staticmethod
    def _fill(table: QTableWidget, rows: list[tuple[str, ...]], keys: list[str]) -> None:
        table.setRowCount(len(rows))
        for r, (values, key) in enumerate(zip(rows, keys, strict=True)):
            for c, text in enumerate(values):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, key)
                table.setItem(r, c, item)

    def refresh(self) -> None:
        models = modelstore.list_installed()
        voices = speech_models()
        self._fill(self.table, [(m.repo_id, m.revision[:12], human_size(m.size_bytes),
                                 licence_text(m.repo_id)) for m in models]
                   + [(label, "—", "—", "") for label in voices],
                   [m.repo_id for m in models] + [""] * len(voices))
        total = sum(m.size_bytes for m in models)
        self.table.setToolTip(f"{len(models)} model(s), {human_size(total)} in all")
        catalogue = downloadable()
        self._fill(self.catalog, [(label, f"{gb:.1f} GB" if gb else "—", state, licence_text(repo))
                                  for _n, label, gb, state, repo in catalogue],
                   [name for name, *_rest in catalogue])
        loaded = self._loaded()
        self.engines_label.setText("Loaded engines: " + (", ".join(loaded) if loaded else "none"))
        self.buttons["unload"].setEnabled(bool(loaded) and self._unload_all is not None)
        self._selection_changed()

    def _selection_changed(self) -> None:
        self.buttons["remove"].setEnabled(bool(self.selected(self.table)))  # not the speech engines' own
        self.buttons["download"].setEnabled(self.selected_download() is not None
                                            and self.progress.isHidden())
        if self.tabs.currentWidget() is self.voices:
            self._show_voice_licence()
        elif self.tabs.currentWidget() is self.kokoro:
            from engines.speech.kokoro_catalog import HUB_REPO

            self.licence.setText(licence_sentence(HUB_REPO) if self.kokoro.selected() else "")
        else:
            self.licence.setText(licence_sentence(self.selected_repo()))

    def selected_download(self) -> str | None:
        """The name to download from the current tab: a checkpoint, or ``piper:KEY``."""
        if self.tabs.currentWidget() in (self.voices, self.kokoro):
            return self.tabs.currentWidget().selected()
        return self.selected(self.catalog)

    def _show_voice_licence(self) -> None:
        """The selected voice's licence, from its MODEL_CARD: fetched (a few hundred bytes)
        in the background when downloads are allowed and it is not here yet."""
        from engines.speech import piper_catalog

        voice = self.voices.selected_voice()
        if voice is None:
            self.licence.setText("")
            return
        known = piper_catalog.licence(voice.key)
        self.licence.setText(f"Piper voice {voice.key}: licence {known}")
        if known != piper_catalog.UNKNOWN_LICENCE or not voice.files or not get_setting("allow_downloads"):
            return

        def shown(text: object) -> None:
            if self.voices.selected() == f"piper:{voice.key}":
                self.licence.setText(f"Piper voice {voice.key}: licence {text}")
                self.voices.apply_filter_keep_selection()

        run_task(lambda: piper_catalog.fetch_licence(voice), shown, lambda _e, _d: None, owner=self)

    def refresh_voices(self, tab: VoiceCatalog | None = None) -> None:
        """Fetch a voice catalog (Piper's by default) from the hub (allowed downloads only)."""
        tab = tab if isinstance(tab, VoiceCatalog) else self.voices
        if not get_setting("allow_downloads"):
            self.status.setText("Downloads are off: Timbre works offline unless you allow them "
                                "(Settings → Allow model downloads).")
            return
        self.status.setText(f"Fetching {tab.prefix.title()}'s voice catalog…")

        def done(result: tuple) -> None:
            tab.set_voices(*result)
            self.status.setText("")

        run_task(lambda: tab.module().catalog(refresh=True), done, self._failed, owner=self)

    def selected_repo(self) -> str | None:
        """The hub id of the checkpoint selected in the download list."""
        name = self.selected(self.catalog)
        return next((repo for n, *_rest, repo in downloadable() if n == name), None)

    @staticmethod
    def selected(table: QTableWidget) -> str | None:
        items = table.selectedItems()
        return items[0].data(Qt.ItemDataRole.UserRole) if items else None

    def import_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Model folder to import")
        if not folder:
            return
        repo, ok = QInputDialog.getText(self, "Model id", "Install as (e.g. facebook/musicgen-small):")
        if ok and repo.strip():
            self.import_folder(folder, repo.strip())

    def import_file_dialog(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, "Model file to import", "", "demucs weights (*.th);;All files (*)")
        if path:
            self.import_file(path)

    def import_file(self, path: str) -> None:
        """A single-file model (demucs' htdemucs): checked without running pickled code."""
        def work() -> str:
            from engines.htdemucs import describe_import
            from engines.music.models import import_model

            model = import_model(Path(path))
            return f"Imported {model.repo_id}: {describe_import(model)}"

        self.status.setText(f"Importing {path}…")
        run_task(work, lambda text: (self.status.setText(str(text)), self.refresh()), self._failed)

    def import_folder(self, folder: str, repo_id: str) -> None:
        """Checkpoints are checked for pickled code first; other folders are copied as they are."""
        def work() -> object:
            from engines.speech import chatterbox_models

            path = Path(folder)
            if chatterbox_models.models_in(path):  # stored under its hub id, networks checked
                return chatterbox_models.import_folder(path)
            if all((path / f).is_file() for f in ("state_dict.bin", "compression_state_dict.bin")):
                from engines.music.models import import_model

                return import_model(path, repo_id)
            return modelstore.import_folder(path, repo_id)

        self.status.setText(f"Importing {folder}…")
        run_task(work, lambda m: (self.status.setText(f"Imported {m.repo_id}."), self.refresh()),
                          self._failed)

    def download_selected(self) -> None:
        name = self.selected_download()
        if name is None:
            return
        if not get_setting("allow_downloads"):
            self.status.setText("Downloads are off: Timbre works offline unless you allow them "
                                "(Settings → Allow model downloads). Or import a model folder.")
            return
        self.download(name)

    def download(self, name: str) -> None:
        """Download in the background: the bar counts bytes of the whole download (it starts
        where an interrupted one stopped), the store's messages show as the status text."""
        if name.startswith("piper:"):
            from engines.speech.piper_catalog import download
        elif name.startswith("kokoro:"):
            from engines.speech.kokoro_catalog import download
        elif name.startswith("chatterbox"):
            from engines.speech.chatterbox_models import download
        else:
            from engines.music.models import download

        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self.progress.show()
        self.cancel_download.show()
        self.buttons["download"].setEnabled(False)

        def work(progress, cancel) -> list[str]:
            # the store's messages travel as stages, the byte counts as done/total
            return download(name, say=lambda m: progress(Progress(0, 0, m)), cancel=cancel,
                            progress=lambda p: progress(Progress(p.done, p.total, "")))

        def moved(p: Progress) -> None:
            if p.stage:
                self.status.setText(p.stage)
            else:
                self._moved(p.done, p.total)

        def done(_result: object) -> None:
            self._download_ended()
            self.status.setText(f"Downloaded {name}.")
            self.refresh()
            self.voices.apply_filter_keep_selection()
            self.kokoro.apply_filter_keep_selection()

        self._cancel = run_task(work, done, self._failed, progress=moved, owner=self)
        self.cancel_download.clicked.connect(self._cancel.cancel)

    def _moved(self, done: float, total: float) -> None:
        if total > 0:
            self.progress.setValue(round(PROGRESS_STEPS * min(done, total) / total))
            self.progress.setFormat(f"%p%  ({human_size(int(done))} of {human_size(int(total))})")

    def _download_ended(self) -> None:
        self.progress.hide()
        self.cancel_download.hide()
        if self._cancel is not None:
            self.cancel_download.clicked.disconnect()
            self._cancel = None

    def remove_selected(self) -> None:
        repo = self.selected(self.table)
        if not repo:
            return
        if QMessageBox.question(self, "Remove model", f"Delete {repo} from the store?") == QMessageBox.StandardButton.Yes:
            modelstore.remove(repo)
            self.refresh()

    def unload_all(self) -> None:
        if self._unload_all is not None:
            self._unload_all()
        self.refresh()

    def _failed(self, exc: BaseException, _details: str) -> None:
        self._download_ended()
        if isinstance(exc, Cancelled):
            self.status.setText("Download cancelled. Download again to resume where it stopped.")
        else:
            self.status.setText(str(exc))
        self.refresh()


def speech_models() -> list[str]:
    """The speech engines that work here: their voices live with the engine (Piper's,
    Kokoro's), not in the model store, and the Installed list looked empty without them."""
    from engines.registry import engine_infos

    return [f"{info.label} — speech, ready" for info in engine_infos("speech") if info.available]


def licence_text(repo_id: str) -> str:
    """The licence column: the SPDX id, flagged when the weights are non-commercial."""
    from engines.licences import is_non_commercial, model_licence, shown

    entry = model_licence(repo_id)
    if entry is None and repo_id.startswith("piper-voices/"):
        from engines.speech import piper_catalog  # from the voice's MODEL_CARD

        return piper_catalog.licence(repo_id.removeprefix("piper-voices/"))
    if entry is None:
        return "unknown"
    return shown(entry.licence) + (" (non-commercial)" if is_non_commercial(entry.licence) else "")


def licence_sentence(repo_id: str | None) -> str:
    """What the user reads before downloading, e.g. "MusicGen weights: CC-BY-NC 4.0 — not
    for commercial use"; empty with nothing selected."""
    from engines.licences import model_licence

    if repo_id is None:
        return ""
    entry = model_licence(repo_id)
    return entry.sentence() if entry else f"{repo_id}: licence unknown — check its model card."


def downloadable() -> list[tuple[str, str, float, str, str]]:
    """(name, label, download GB, status, hub id) of every released checkpoint the engines know."""
    try:
        from engines.music import checkpoints
    except ImportError:
        return []
    rows = []
    for c in checkpoints.CHECKPOINTS:
        note = checkpoints.melody_note(c)
        state = "installed" if checkpoints.is_ready(c) else note or "not installed"
        rows.append((c.name, c.label, c.download_gb, state, c.repo_id))
    from engines import htdemucs

    state = "installed" if htdemucs.find_hub_dir() is not None else "not installed"
    rows.append(("htdemucs", "htdemucs — stem separation (demucs)", htdemucs.HTDEMUCS_MB / 1000,
                 state, htdemucs.HTDEMUCS_REPO))
    from engines.speech import chatterbox_models

    rows += [(m.name, m.label, m.download_gb, chatterbox_models.status(m), m.repo_id)
             for m in chatterbox_models.MODELS]
    return rows
