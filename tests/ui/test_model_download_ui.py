"""The model manager's download: a determinate byte progress bar, cancel, and resume.

Served by a local stand-in for the hub (tests.music.fake_hub; the real hub cannot be
reached here) with placeholder files of the released checkpoint's names: this checks the
dialog's behaviour, not model loading (tests/music/test_model_download.py loads one).
"""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import Qt

from engines import modelstore
from engines.settings import set_setting
from tests.music.fake_hub import FakeHub, hub_and_store

MB = 1 << 20


@pytest.fixture
def hub(tmp_path, monkeypatch):
    fake = FakeHub(pace_s=0.01)
    fake.repos = {
        "t5-base": {"config.json": b"{}", "model.safetensors": os.urandom(MB)},
        "facebook/encodec_32khz": {"config.json": b"{}", "model.safetensors": os.urandom(MB)},
        "facebook/musicgen-small": {"state_dict.bin": os.urandom(2 * MB), "compression_state_dict.bin": b"x" * 999},
    }
    set_setting("allow_downloads", True)
    with hub_and_store(fake, tmp_path / "store", monkeypatch):
        yield fake


def _dialog(window, qtbot):
    from PySide6.QtCore import Qt

    from desktop.ui.model_manager import ModelManager

    dialog = ModelManager(window, window.jobs.loaded_engines, window.jobs.unload_all)
    qtbot.addWidget(dialog)
    dialog.show()
    names = [dialog.catalog.item(r, 0).data(Qt.ItemDataRole.UserRole) for r in range(dialog.catalog.rowCount())]
    dialog.catalog.selectRow(names.index("musicgen-small"))
    return dialog


def test_download_shows_bytes_then_installs(window, qtbot, hub, monkeypatch):
    from engines import download as downloading

    monkeypatch.setattr(downloading, "CHUNK_BYTES", 128 * 1024)
    dialog = _dialog(window, qtbot)
    values, formats = [], []
    dialog.progress.valueChanged.connect(lambda v: (values.append(v), formats.append(dialog.progress.text())))
    dialog.buttons["download"].click()
    assert dialog.progress.isVisible() and dialog.cancel_download.isVisible()
    assert not dialog.buttons["download"].isEnabled()
    qtbot.waitUntil(lambda: dialog.status.text() == "Downloaded musicgen-small.", timeout=60_000)
    assert dialog.progress.isHidden() and dialog.cancel_download.isHidden()
    assert values == sorted(values) and values[-1] == dialog.progress.maximum()
    assert any(0 < v < dialog.progress.maximum() for v in values)  # it moved, not just jumped to the end
    assert any("MB of 4.0 MB" in f for f in formats)
    assert modelstore.is_installed("facebook/musicgen-small")
    states = {dialog.catalog.item(r, 0).text(): dialog.catalog.item(r, 2).text() for r in range(dialog.catalog.rowCount())}
    assert any(state == "installed" for label, state in states.items() if "small" in label.lower())


def test_cancelled_download_resumes_where_it_stopped(window, qtbot, hub, monkeypatch):
    from engines import download as downloading

    monkeypatch.setattr(downloading, "CHUNK_BYTES", 64 * 1024)
    dialog = _dialog(window, qtbot)
    dialog.buttons["download"].click()
    qtbot.waitUntil(lambda: dialog.progress.value() > 0.3 * dialog.progress.maximum(), timeout=60_000)
    dialog.cancel_download.click()
    qtbot.waitUntil(lambda: "cancelled" in dialog.status.text(), timeout=20_000)
    assert dialog.progress.isHidden() and dialog.buttons["download"].isEnabled()
    assert not modelstore.is_installed("facebook/musicgen-small")

    hub.ranges.clear()
    first = []
    dialog.progress.valueChanged.connect(first.append)
    dialog.buttons["download"].click()
    qtbot.waitUntil(lambda: dialog.status.text() == "Downloaded musicgen-small.", timeout=60_000)
    moved = [v for v in first if v]  # (the bar is reset to 0 as the download starts)
    assert moved[0] > 0.3 * dialog.progress.maximum()  # then starts where it stopped
    assert any(start > 0 for _path, start in hub.ranges)  # and only the rest was asked for
    assert modelstore.is_installed("facebook/musicgen-small")


def test_import_file_takes_random_weight_htdemucs_and_refuses_other_files(window, qtbot, tmp_path, monkeypatch):
    from engines.htdemucs import HTDEMUCS_FILE, HTDEMUCS_REPO, save_tiny_htdemucs

    monkeypatch.setenv("TIMBRE_MODELS_DIR", str(tmp_path / "store"))
    dialog = _dialog(window, qtbot)
    weights = save_tiny_htdemucs(tmp_path / HTDEMUCS_FILE)
    dialog.import_file(str(weights))
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Imported"), timeout=60_000)
    assert "not the official" in dialog.status.text()  # random weights: honest about it
    assert modelstore.is_installed(HTDEMUCS_REPO)
    assert HTDEMUCS_REPO in [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]

    junk = tmp_path / "notes.th"
    junk.write_text("not a model")
    dialog.import_file(str(junk))
    qtbot.waitUntil(lambda: "notes.th" in dialog.status.text() and "Importing" not in dialog.status.text(),
                    timeout=30_000)
    assert "cannot be read" in dialog.status.text() and "pickled code" not in dialog.status.text()
    stored = [dialog.table.item(r, 0).data(Qt.ItemDataRole.UserRole) for r in range(dialog.table.rowCount())]
    assert [key for key in stored if key] == [HTDEMUCS_REPO]  # (speech engines are listed too, keyless)


def test_chatterbox_models_are_offered_for_download_with_their_licence(tmp_path, monkeypatch):
    from desktop.ui.model_manager import downloadable, licence_sentence

    monkeypatch.setenv("TIMBRE_MODELS_DIR", str(tmp_path / "store"))
    rows = {name: (state, repo) for name, _label, _gb, state, repo in downloadable()}
    assert rows["chatterbox"] == ("not installed", "ResembleAI/chatterbox")
    assert rows["chatterbox-multilingual"][1] == "ResembleAI/chatterbox"
    assert rows["chatterbox-turbo"][1] == "ResembleAI/chatterbox-turbo"
    assert licence_sentence("ResembleAI/chatterbox-turbo") == "Chatterbox: MIT"
