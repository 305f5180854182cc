"""Batch…: render a manifest (``timbre batch``) from the studio, row by row in view.

It opens a manifest (CSV or JSON Lines), shows each row's state, time and result as the
rows finish, cancels (remote Ray tasks too), and opens the results. The work is
``desktop.session.batch.run_batch`` on a background task (``desktop.bridge.run_task``),
into the open project or an output folder, on this computer or a Ray cluster; the
cluster's address is a setting (Settings › Cluster address…).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.bridge import run_task
from engines.cancel import Progress
from engines.errors import Cancelled

COLUMNS = ("Row", "Kind", "What", "State", "Time", "Result")
STATE_WORDS = {"waiting": "Waiting", "running": "Running…", "done": "Done",
               "skipped": "Done before", "failed": "Failed", "cancelled": "Cancelled"}
WHERE = {"here": "This computer", "local": "A private Ray cluster on this computer",
         "cluster": "The Ray cluster in Settings"}
MANIFESTS = "Manifests (*.csv *.jsonl *.tsv *.ndjson)"


def cluster_address() -> str:
    from engines.cluster import cluster_address as stored

    return stored()


def ask_cluster_address(parent: QWidget) -> str | None:
    """Settings › Cluster address…: where ``--ray`` and Batch… send rows (blank: local)."""
    from engines.cluster import ADDRESS_SETTING
    from engines.settings import set_setting

    text, ok = QInputDialog.getText(
        parent, "Cluster address",
        "Ray cluster for batch rendering (ray://host:10001 or host:6379).\n"
        "Leave blank to start a private cluster on this computer.",
        QLineEdit.EchoMode.Normal, cluster_address())
    if not ok:
        return None
    set_setting(ADDRESS_SETTING, text.strip())
    return text.strip()


def install(window: Any) -> None:
    """File › Batch… and Settings › Cluster address… on the main window."""
    batch = QAction("&Batch…", window)
    batch.setStatusTip("Render a manifest of jobs (CSV or JSONL), here or on a Ray cluster")
    batch.triggered.connect(lambda: show_batch(window))
    address = QAction("Cluster address…", window)
    address.setStatusTip("The Ray cluster that batch rendering uses (blank: this computer)")
    address.triggered.connect(lambda: ask_cluster_address(window))
    window.act_batch, window.act_cluster = batch, address
    menus = {m.title(): m for m in window.menuBar().findChildren(QMenu)}
    file_menu, settings = menus.get("&File"), menus.get("&Settings")
    if file_menu is not None:
        anchor = getattr(window, "act_check", None)
        file_menu.insertAction(anchor, batch) if anchor is not None else file_menu.addAction(batch)
    if settings is not None:
        settings.addSeparator()
        settings.addAction(address)


def show_batch(window: Any) -> BatchDialog:
    dialog = getattr(window, "batch_dialog", None)
    if dialog is None or not dialog.isVisible():
        projects = getattr(window, "projects", None)
        dialog = BatchDialog(window.project, window,
                             refresh=getattr(projects, "refresh", None),
                             notify=getattr(getattr(window, "notice", None), "notify", None))
        window.batch_dialog = dialog
    dialog.show()
    dialog.raise_()
    return dialog


class BatchDialog(QDialog):
    def __init__(self, project: Any = None, parent: QWidget | None = None, *,
                 refresh: Any = None, notify: Any = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Batch rendering")
        self.setAccessibleName("Batch rendering")
        self.project, self.refresh, self.notify = project, refresh, notify
        self.rows: list[Any] = []
        self.states: list[Any] = []
        self.task: Any = None
        self.resize(1000, 560)

        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.manifest = QLineEdit()
        self.manifest.setAccessibleName("Manifest file")
        self.manifest.setPlaceholderText("A .csv or .jsonl file, one job a row")
        self.manifest.editingFinished.connect(self.load_manifest)
        pick = QPushButton("Open…")
        pick.setToolTip("Choose a manifest")
        pick.clicked.connect(self.choose_manifest)
        form.addRow("Manifest", _row(self.manifest, pick))
        self.target = QComboBox()
        self.target.setAccessibleName("Where the results go")
        if project is not None:
            self.target.addItem(f"The open project ({project.name})", "project")
        self.target.addItem("A folder of files", "folder")
        self.folder = QLineEdit()
        self.folder.setAccessibleName("Output folder")
        self.folder.setPlaceholderText("Folder for the files (one per take)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.choose_folder)
        self.target.currentIndexChanged.connect(self._target_changed)
        form.addRow("Results", _row(self.target, self.folder, browse, stretch=1))
        self.where = QComboBox()
        self.where.setAccessibleName("Run on")
        for key, label in WHERE.items():
            if key == "cluster":
                label = f"{label} ({cluster_address() or 'none set: a private one'})"
            self.where.addItem(label, key)
        self.workers = QSpinBox()
        self.workers.setRange(1, 256)
        self.workers.setValue(2)
        self.workers.setAccessibleName("Workers")
        self.workers.setToolTip("Worker processes on this computer (each loads its models once)")
        form.addRow("Run on", _row(self.where, QLabel("Workers"), self.workers))
        layout.addLayout(form)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setAccessibleName("Rows")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.table.horizontalHeader()
        for i, mode in enumerate((QHeaderView.ResizeMode.ResizeToContents,
                                  QHeaderView.ResizeMode.ResizeToContents,
                                  QHeaderView.ResizeMode.Stretch,
                                  QHeaderView.ResizeMode.ResizeToContents,
                                  QHeaderView.ResizeMode.ResizeToContents,
                                  QHeaderView.ResizeMode.Stretch)):
            header.setSectionResizeMode(i, mode)
        layout.addWidget(self.table, 1)
        self.bar = QProgressBar()
        self.bar.setAccessibleName("Batch progress")
        self.status = QLabel("Open a manifest to see its rows.")
        self.status.setWordWrap(True)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        self.start = QPushButton("Start")
        self.start.clicked.connect(self.start_batch)
        self.cancel = QPushButton("Cancel")
        self.cancel.setToolTip("Stop the batch; finished rows are kept, a rerun does the rest")
        self.cancel.clicked.connect(self.cancel_batch)
        self.open_results = QPushButton("Open results")
        self.open_results.clicked.connect(self.show_results)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons.addStretch(1)
        for b in (self.start, self.cancel, self.open_results, close):
            buttons.addWidget(b)
        layout.addLayout(buttons)
        self._target_changed()
        self._buttons()

    # ---- choosing -------------------------------------------------------------------------
    def choose_manifest(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a batch manifest", "", MANIFESTS)
        if path:
            self.manifest.setText(path)
            self.load_manifest()

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder for the results")
        if path:
            self.folder.setText(path)

    def _target_changed(self) -> None:
        self.folder.setEnabled(self.target.currentData() == "folder")

    def load_manifest(self) -> bool:
        from desktop.session.manifest import load_rows
        from engines.errors import TimbreError

        text = self.manifest.text().strip()
        if not text:
            return False
        try:
            self.rows = load_rows(text)
        except TimbreError as exc:
            self.rows = []
            self.status.setText(str(exc))
            self._fill([])
            return False
        if not self.folder.text():
            self.folder.setText(str(Path(text).with_suffix("")) + "-results")
        from desktop.session.batch import RowState

        self._fill([RowState(r) for r in self.rows])
        self.status.setText(f"{len(self.rows)} rows. Start renders those not done before.")
        self._buttons()
        return True

    # ---- running --------------------------------------------------------------------------
    def start_batch(self) -> None:
        from desktop.session.batch import run_batch

        if self.task is not None or (not self.rows and not self.load_manifest()):
            return
        into_project = self.target.currentData() == "project"
        folder = None if into_project else (self.folder.text().strip() or None)
        if not into_project and folder is None:
            self.status.setText("Choose a folder for the results.")
            return
        rows, project, ray, workers = self.rows, self.project if into_project else None, \
            self._ray(), self.workers.value()

        def work(progress, cancel):
            def relay(p):
                self.states = p.rows
                progress(Progress(p.finished, len(p.rows), p.line()))

            return run_batch(rows, output_dir=folder, project=project, ray=ray, workers=workers,
                             progress=relay, cancel=cancel)

        self.bar.setRange(0, len(rows))
        self.bar.setValue(0)
        self.status.setText("Starting…" + (" (a Ray cluster takes a few seconds)" if ray else ""))
        self.task = run_task(work, self._done, self._failed, progress=self._progressed, owner=self)
        self._buttons()

    def _ray(self) -> str | None:
        key = self.where.currentData()
        if key == "here":
            return None
        if key == "local":
            return "local"
        return cluster_address() or "local"

    def _progressed(self, p: Progress) -> None:
        self.bar.setValue(int(p.done))
        self.status.setText(p.stage)
        self._fill(self.states)

    def _done(self, report: Any) -> None:
        self.task = None
        self._fill(report.rows)
        self.bar.setValue(self.bar.maximum())
        failed = report.failed
        text = (f"{report.count('done')} rendered, {report.count('skipped')} done before, "
                f"{len(failed)} failed in {report.elapsed:.0f} s.")
        if failed:
            text += " Failed: " + "; ".join(f"row {s.row.number}: {s.error}" for s in failed[:3])
        self.status.setText(text)
        self._buttons()
        if self.refresh is not None and self.target.currentData() == "project":
            self.refresh()

    def _failed(self, exc: BaseException, _details: str) -> None:
        self.task = None
        self._fill(self.states)
        self.status.setText("Cancelled: finished rows are kept; Start does the rest."
                            if isinstance(exc, Cancelled) else f"The batch stopped: {exc}")
        self._buttons()

    def cancel_batch(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.status.setText("Cancelling…")

    def show_results(self) -> None:
        if self.target.currentData() == "folder" and self.folder.text().strip():
            QDesktopServices.openUrl(QUrl.fromLocalFile(self.folder.text().strip()))
        elif self.parent() is not None and hasattr(self.parent(), "docks"):
            self.parent().docks["takes"].raise_()  # the takes are in the project's list

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.cancel_batch()
        super().closeEvent(event)

    # ---- the table ------------------------------------------------------------------------
    def _fill(self, states: list[Any]) -> None:
        self.table.setRowCount(len(states))
        for i, s in enumerate(states):
            time_text = f"{s.seconds:.1f} s" if s.state == "done" else ""
            result = s.error if s.state == "failed" else ", ".join(s.outputs)
            for j, text in enumerate((str(s.row.number), s.row.kind, s.row.label,
                                      STATE_WORDS.get(s.state, s.state), time_text, result)):
                item = self.table.item(i, j)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(i, j, item)
                item.setText(text)
                item.setToolTip(text)

    def _buttons(self) -> None:
        running = self.task is not None
        self.start.setEnabled(not running and bool(self.rows))
        self.cancel.setEnabled(running)
        self.open_results.setEnabled(not running and bool(self.rows))
        for w in (self.manifest, self.target, self.where, self.workers):
            w.setEnabled(not running)


def _row(*widgets: QWidget, stretch: int = 0) -> QWidget:
    """Widgets side by side; the one at ``stretch`` takes the spare width."""
    holder = QWidget()
    box = QHBoxLayout(holder)
    box.setContentsMargins(0, 0, 0, 0)
    for i, w in enumerate(widgets):
        box.addWidget(w, 1 if i == stretch else 0)
    return holder
