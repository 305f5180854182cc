"""The Voices tabs of the Models… dialog: Piper's voice catalog
(:mod:`engines.speech.piper_catalog`) and Kokoro's voice set
(:mod:`engines.speech.kokoro_catalog`), each with a language filter and a search box.

The list comes from the cached catalog (or a built-in handful of popular voices); "Refresh
catalog" fetches it from the hub when downloads are allowed. Rows are keyed ``piper:KEY`` /
``kokoro:NAME``, the names ``timbre models download`` takes.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

ALL_LANGUAGES = "All languages"
HEADERS = ["Voice", "Language", "Quality", "Speakers", "Size", "Status", "Licence"]


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n else "—"


class VoiceCatalog(QWidget):
    """Piper's catalog; :class:`KokoroCatalog` changes what a row and a language are."""

    prefix = "piper"
    headers = HEADERS

    @staticmethod
    def module():
        from engines.speech import piper_catalog

        return piper_catalog

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.voices: list = []
        self.source = ""
        self.language = QComboBox()
        self.language.setAccessibleName("Voice language")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search voices (name, language, country, quality)")
        self.search.setAccessibleName("Search voices")
        self.search.setClearButtonEnabled(True)
        self.refresh_button = QPushButton("Refresh catalog")
        self.refresh_button.setToolTip("Fetch Piper's voice list from the hub (needs downloads allowed)")
        self.table = QTableWidget(0, len(self.headers))
        self.table.setAccessibleName("Voices to download")
        self.table.setHorizontalHeaderLabels(self.headers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.note = QLabel()
        self.note.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.language)
        row.addWidget(self.search, 1)
        row.addWidget(self.refresh_button)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(row)
        box.addWidget(self.table, 1)
        box.addWidget(self.note)
        self.language.currentIndexChanged.connect(self.apply_filter)
        self.search.textChanged.connect(self.apply_filter)

    def load(self, refresh: bool = False) -> None:
        """Read the catalog (the hub's when ``refresh``) and fill the language box and table."""
        self.voices, self.source = self.module().catalog(refresh=refresh)
        self.set_voices(self.voices, self.source)

    def set_voices(self, voices: list, source: str) -> None:
        self.voices, self.source = voices, source
        current = self.language.currentData()
        languages = self.languages(voices)
        self.language.blockSignals(True)
        self.language.clear()
        self.language.addItem(ALL_LANGUAGES, "")
        for family, name in languages:
            self.language.addItem(f"{name} ({family})", family)
        index = self.language.findData(current) if current else 0
        self.language.setCurrentIndex(max(index, 0))
        self.language.blockSignals(False)
        self.note.setText({
            "hub": f"{len(voices)} {self.prefix.title()} voices, fetched from the hub just now.",
            "cached": f"{len(voices)} {self.prefix.title()} voices (catalog cached in the model store).",
            "built-in": "A few popular voices shown offline; Refresh catalog lists them all.",
        }.get(source, ""))
        self.apply_filter()

    def shown(self) -> list:
        language = self.language.currentData() or None
        text = self.search.text().strip() or None
        return [v for v in self.voices if v.matches(language, text)]

    @staticmethod
    def languages(voices: list) -> list[tuple[str, str]]:
        """(filter value, name) of the languages in the list, English first."""
        return sorted({(v.family, v.language_english) for v in voices},
                      key=lambda fl: (fl[0] != "en", fl[1]))

    def row(self, v) -> tuple[str, tuple[str, ...]]:
        """(key, cell texts) of one voice."""
        cat = self.module()
        state = "installed" if cat.is_installed(v.key) else "not installed"
        return v.key, (v.key, v.language_label, v.quality, str(v.num_speakers),
                       _size(v.size_bytes), state, cat.licence(v.key))

    def apply_filter(self) -> None:
        rows = self.shown()
        self.table.setRowCount(len(rows))
        for r, v in enumerate(rows):
            key, values = self.row(v)
            for c, text in enumerate(values):
                item = QTableWidgetItem(text if len(text) <= 40 else text[:39] + "…")
                if len(text) > 40:  # a licence given as a long URL
                    item.setToolTip(text)
                item.setData(Qt.ItemDataRole.UserRole, f"{self.prefix}:{key}")
                if c == 0 and getattr(v, "sample_text", ""):
                    item.setToolTip(f"Sample text: {v.sample_text}")
                self.table.setItem(r, c, item)

    def apply_filter_keep_selection(self) -> None:
        """Refill the rows (a status or licence changed) and keep the selected voice selected."""
        name = self.selected()
        self.table.blockSignals(True)
        self.apply_filter()
        for r in range(self.table.rowCount()):
            if self.table.item(r, 0).data(Qt.ItemDataRole.UserRole) == name:
                self.table.selectRow(r)
        self.table.blockSignals(False)

    def selected(self) -> str | None:
        """``piper:KEY`` of the selected voice, or None."""
        items = self.table.selectedItems()
        return items[0].data(Qt.ItemDataRole.UserRole) if items else None

    def selected_voice(self):
        name = self.selected()
        return self.module().find(self.voices, name) if name else None


class KokoroCatalog(VoiceCatalog):
    """Kokoro-82M v1.0's voice set: every language it has, English first."""

    prefix = "kokoro"
    headers = ["Voice", "Language", "Sex", "Size", "Status"]

    @staticmethod
    def module():
        from engines.speech import kokoro_catalog

        return kokoro_catalog

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search.setPlaceholderText("Search voices (name, language, female/male)")

    @staticmethod
    def languages(voices: list) -> list[tuple[str, str]]:
        found = {(v.language, v.language_label) for v in voices if v.language}
        return sorted(found, key=lambda fl: (not fl[0].startswith("en"), fl[1]))

    def shown(self) -> list:
        language = self.language.currentData() or None
        text = self.search.text().strip() or None
        return [v for v in self.voices if (not language or v.language == language)
                and v.matches(None, text)]

    def row(self, v) -> tuple[str, tuple[str, ...]]:
        state = ("shipped" if v.shipped else "installed" if self.module().is_installed(v.name)
                 else "not installed")
        return v.name, (v.name, v.language_label, v.sex, _size(v.size), state)
