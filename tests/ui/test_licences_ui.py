"""Licences in the studio (issue 18): the model manager says a checkpoint's licence before
it is downloaded, and Help › About shows the app's licence and its packages'."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

pytestmark = pytest.mark.gui


def test_model_manager_says_musicgen_is_non_commercial_before_download(window, qtbot, tmp_path, monkeypatch):
    from desktop.ui.model_manager import ModelManager

    monkeypatch.setenv("TIMBRE_MODELS_DIR", str(tmp_path / "store"))  # nothing installed
    dialog = ModelManager(window, window.jobs.loaded_engines, window.jobs.unload_all)
    qtbot.addWidget(dialog)
    dialog.show()
    names = [dialog.catalog.item(r, 0).data(Qt.ItemDataRole.UserRole) for r in range(dialog.catalog.rowCount())]
    row = names.index("musicgen-small")
    assert dialog.catalog.item(row, 2).text() == "not installed"
    assert dialog.catalog.item(row, 3).text() == "CC-BY-NC 4.0 (non-commercial)"
    dialog.catalog.selectRow(row)
    assert dialog.licence.isVisible()
    assert dialog.licence.text() == "MusicGen weights: CC-BY-NC 4.0 — not for commercial use"


def test_help_about_shows_gpl_and_package_licences(window, qtbot):
    about = next(a for a in window.help_menu.actions() if a.text().startswith("&About"))
    about.trigger()
    dialog = window.about_dialog
    qtbot.waitExposed(dialog)
    text = dialog.text()
    assert "Licence: GPL-3.0-or-later" in text
    assert "piper-tts: GPL-3.0-or-later" in text
    assert "pedalboard | " in text and "MusicGen weights: CC-BY-NC 4.0" in text
    dialog.accept()
