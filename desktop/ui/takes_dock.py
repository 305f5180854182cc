"""The takes list: every imported or generated take, to audition and place on the timeline.

Generated variations land here first, so trying three variations costs nothing on the
timeline; one click on "Place" puts a take on the selected track at the playhead.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.project.models import Take
from desktop.ui.timeline_canvas import format_time
from desktop.ui.widgets import ElidedLabel


class TakeRow(QWidget):
    def __init__(self, take: Take, on_play: Callable[[int], None], on_place: Callable[[int], None]) -> None:
        super().__init__()
        self.take_id = take.id
        what = take.engine or take.kind
        detail = take.prompt or take.source_path
        # Long names are cut in the middle, so variations keep their "(2 of 3)" ending, and
        # never widen the list; the prompt and the whole name are in the tooltip.
        self.label = ElidedLabel(take.name, mode=Qt.TextElideMode.ElideMiddle)
        bold = self.label.font()
        bold.setBold(True)
        self.label.setFont(bold)
        self.detail = ElidedLabel(f"{what} · {format_time(take.duration)}" + (f" · {detail}" if detail else ""))
        small = self.detail.font()
        small.setPointSizeF(small.pointSizeF() * 0.85)
        self.detail.setFont(small)
        for label in (self.label, self.detail):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            label.setToolTip(f"{take.name}\n{detail}" if detail else take.name)
        words = QVBoxLayout()
        words.setContentsMargins(0, 0, 0, 0)
        words.setSpacing(0)
        words.addWidget(self.label)
        words.addWidget(self.detail)
        self.play = QToolButton()
        self.play.setText("▶")
        self.play.setAccessibleName(f"Play take {take.name}")
        self.play.setToolTip("Audition this take")
        self.play.clicked.connect(lambda: on_play(take.id))
        self.place = QToolButton()
        self.place.setText("Place")
        self.place.setAccessibleName(f"Place take {take.name} at the playhead")
        self.place.setToolTip("Put this take on the selected track at the playhead")
        self.place.clicked.connect(lambda: on_place(take.id))
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 2, 4, 2)
        row.addWidget(self.play)
        row.addLayout(words, 1)
        row.addWidget(self.place)


VISIBLE_ROWS = 4  # the list never shrinks below this many takes (it showed two and a half)


class TakesPanel(QWidget):
    play_requested = Signal(int)
    place_requested = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        self.setAccessibleName("Takes")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter takes")
        self.search.setAccessibleName("Filter takes")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        self.list = QListWidget()
        self.list.setAccessibleName("Take list")
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.itemActivated.connect(lambda item: self.place_requested.emit(item.data(Qt.ItemDataRole.UserRole)))
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addWidget(self.search)
        box.addWidget(self.list, 1)
        self._takes: list[Take] = []
        row_height = 2 * self.fontMetrics().height() + 14
        self.list.setMinimumHeight(VISIBLE_ROWS * row_height)

    def set_takes(self, takes: list[Take]) -> None:
        if [(t.id, t.name) for t in takes] == [(t.id, t.name) for t in self._takes]:
            return
        self._takes = list(takes)
        self.list.clear()
        for take in reversed(takes):  # newest first
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, take.id)
            item.setData(Qt.ItemDataRole.AccessibleTextRole, take.name)
            row = TakeRow(take, self.play_requested.emit, self.place_requested.emit)
            item.setSizeHint(QSize(0, row.sizeHint().height()))  # as wide as the list, no wider
            self.list.addItem(item)
            self.list.setItemWidget(item, row)
        self._filter(self.search.text())

    def row(self, take_id: int) -> TakeRow | None:
        for i in range(self.list.count()):
            w = self.list.itemWidget(self.list.item(i))
            if isinstance(w, TakeRow) and w.take_id == take_id:
                return w
        return None

    def _filter(self, text: str) -> None:
        needle = text.strip().lower()
        by_id = {t.id: t for t in self._takes}
        for i in range(self.list.count()):
            item = self.list.item(i)
            take = by_id.get(item.data(Qt.ItemDataRole.UserRole))
            hay = f"{take.name} {take.prompt} {take.engine}".lower() if take else ""
            item.setHidden(bool(needle) and needle not in hay)
