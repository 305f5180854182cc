"""The jobs panel: every queued, running and finished job with a progress bar and Cancel."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.widgets import ElidedLabel, let_shrink
from desktop.ui.workers import Job, JobManager

STATE_TEXT = {"queued": "Queued", "loading": "Loading model", "running": "Running",
              "done": "Done", "failed": "Failed", "cancelled": "Cancelled"}


class JobRow(QWidget):
    def __init__(self, job: Job, manager: JobManager) -> None:
        super().__init__()
        self.job = job
        self.title = ElidedLabel(f"{job.label} · {job.engine}")
        bold = self.title.font()
        bold.setBold(True)
        self.title.setFont(bold)
        self.state = ElidedLabel()
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(True)
        self.bar.setAccessibleName(f"Progress of {job.label}")
        self.cancel = QPushButton("Cancel")
        self.cancel.setAccessibleName(f"Cancel {job.label}")
        self.cancel.setToolTip("Stop this job; it ends within one engine step")
        self.cancel.clicked.connect(lambda: manager.cancel(job))
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.title, 1)
        top.addWidget(self.state)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.bar, 1)
        row.addWidget(self.cancel)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 3, 4, 3)
        box.setSpacing(2)
        box.addLayout(top)
        box.addLayout(row)
        self.refresh()

    def refresh(self) -> None:
        job = self.job
        self.bar.setValue(int(job.progress * 1000))
        stage = job.stage
        if job.active and job.progress >= 0.999:  # the engine is done; the take is being finished
            stage = "finishing: loudness, watermark, saving the take…"
        self.bar.setFormat(f"{job.progress * 100:.0f}%  {stage}" if job.active else f"{job.progress * 100:.0f}%")
        text = STATE_TEXT.get(job.state, job.state)
        self.state.setText(text if job.state != "failed" else f"Failed: {job.error[:80]}")
        self.state.setToolTip(job.error)
        self.cancel.setEnabled(job.active and not job.token.cancelled)


class JobsPanel(QWidget):
    def __init__(self, manager: JobManager) -> None:
        super().__init__()
        self.manager = manager
        self.setAccessibleName("Jobs")
        self.list = QListWidget()
        self.list.setAccessibleName("Job queue")
        self.list.setMinimumHeight(3 * self.fontMetrics().height())  # the dock may be short
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.empty = QLabel("No jobs yet. Generated music, effects and speech appear here while they run.")
        self.empty.setWordWrap(True)
        let_shrink(self.empty)
        clear = QPushButton("Clear finished")
        clear.setAccessibleName("Clear finished jobs")
        clear.clicked.connect(self.clear_finished)
        cancel_all = QPushButton("Cancel all")
        cancel_all.setAccessibleName("Cancel all jobs")
        cancel_all.clicked.connect(manager.cancel_all)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(clear)
        buttons.addWidget(cancel_all)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addLayout(buttons)
        box.addWidget(self.empty)  # on a line of its own: beside the buttons it wrapped to four
        box.addWidget(self.list, 1)
        self.rows: dict[int, JobRow] = {}
        manager.job_added.connect(self.add_job)
        manager.job_updated.connect(self.update_job)

    def add_job(self, job: Job) -> None:
        row = JobRow(job, self.manager)
        item = QListWidgetItem()
        # only the height: a long title is elided to the panel's width, never scrolled sideways
        item.setSizeHint(QSize(0, row.sizeHint().height()))
        self.list.insertItem(0, item)
        self.list.setItemWidget(item, row)
        self.rows[job.id] = row
        self.empty.setText(f"{sum(j.active for j in self.manager.jobs)} active job(s)")

    def update_job(self, job: Job) -> None:
        row = self.rows.get(job.id)
        if row is not None:
            row.refresh()
        self.empty.setText(f"{sum(j.active for j in self.manager.jobs)} active job(s)")

    def clear_finished(self) -> None:
        for i in reversed(range(self.list.count())):
            row = self.list.itemWidget(self.list.item(i))
            if isinstance(row, JobRow) and not row.job.active:
                self.rows.pop(row.job.id, None)
                self.list.takeItem(i)
