"""Help › About: the app's version and licence, the GPL components that make it GPL, each
installed model's licence and each Python package's (name, version, licence).

The text comes from :mod:`engines.licences`, the same place ``timbre --licenses`` reads, so
the studio and the command line never disagree.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engines import licences
from engines.provenance import app_version


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"About {licences.APP_NAME}")
        self.setAccessibleName(f"About {licences.APP_NAME}")
        gpl = "".join(f"<li>{line}</li>" for line in licences.gpl_lines())
        self.summary = QLabel(
            f"<b>{licences.APP_NAME} {app_version()}</b><br>"
            f"Licence: {licences.APP_LICENCE} (the full text is in COPYING), because it links "
            f"these GPL components:<ul>{gpl}</ul>"
            "Model weights carry their own licences, and they apply to what you make with them."
        )
        self.summary.setWordWrap(True)
        self.models = self._table("Model licences", ["Model", "Licence"],
                                  licences.installed_models() + self._not_commercial())
        packages = licences.installed_packages()
        self.packages = self._table("Python package licences", ["Package", "Version", "Licence"],
                                    [(p.name, p.version, p.licence) for p in packages])
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        box = QVBoxLayout(self)
        box.addWidget(self.summary)
        box.addWidget(QLabel("Models"))
        box.addWidget(self.models, 1)
        box.addWidget(QLabel(f"Python packages ({len(packages)})"))
        box.addWidget(self.packages, 2)
        box.addWidget(close)
        self.resize(760, 680)

    @staticmethod
    def _not_commercial() -> list[tuple[str, str]]:
        """The non-commercial licences even when none is installed: worth knowing before a
        download, not after."""
        return [("(if downloaded)", e.sentence()) for e in licences.MODEL_LICENCES
                if not e.commercial and not e.package]

    @staticmethod
    def _table(name: str, headers: list[str], rows: list[tuple[str, ...]]) -> QTableWidget:
        table = QTableWidget(len(rows), len(headers))
        table.setAccessibleName(name)
        table.setHorizontalHeaderLabels(headers)
        table.horizontalHeader().setSectionResizeMode(len(headers) - 1, QHeaderView.ResizeMode.Stretch)
        table.verticalHeader().hide()
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                table.setItem(r, c, QTableWidgetItem(text))
        return table

    def text(self) -> str:
        """Everything the dialog says, as plain text (for tests and screen-reader checks)."""
        cells = [self.summary.text()]
        for table in (self.models, self.packages):
            for r in range(table.rowCount()):
                cells.append(" | ".join(table.item(r, c).text() for c in range(table.columnCount())))
        return "\n".join(cells)
