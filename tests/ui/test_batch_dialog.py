"""File › Batch…: a manifest's rows in a table, rendered into the open project off the GUI
thread, each row's state and result shown; a failing row is reported with its error."""

from __future__ import annotations

import json

import pytest

from engines.base import EngineSpec
from engines.registry import register, unregister


@pytest.fixture
def flaky():
    from tests.batch.conftest import FAILS

    FAILS.clear()
    register(EngineSpec("flaky-test", "Flaky (test)", "sfx", "tests.batch.conftest:FlakyEngine"))
    yield FAILS
    unregister("flaky-test")


def test_batch_dialog_renders_a_manifest_into_the_project(qtbot, window, flaky, tmp_path):
    long = "a very long description of a sound effect that goes on " * 3
    rows = [{"engine": "flaky-test", "text": f"ok {i} {long}"} for i in range(3)]
    rows.append({"engine": "flaky-test", "text": "fail", "label": "the row that always fails"})
    manifest = tmp_path / "sound effects for the whole second season.jsonl"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows))

    from PySide6.QtWidgets import QMenu

    menus = {m.title(): m for m in window.menuBar().findChildren(QMenu)}
    assert window.act_cluster in menus["&Settings"].actions()
    assert window.act_batch in menus["&File"].actions()
    window.act_batch.trigger()
    dialog = window.batch_dialog
    dialog.manifest.setText(str(manifest))
    assert dialog.load_manifest()
    assert dialog.table.rowCount() == 4 and dialog.table.item(3, 3).text() == "Waiting"
    assert dialog.target.currentData() == "project"
    dialog.workers.setValue(1)
    dialog.start.click()
    qtbot.waitUntil(lambda: dialog.task is None, timeout=30_000)
    states = [dialog.table.item(i, 3).text() for i in range(4)]
    assert states == ["Done", "Done", "Done", "Failed"]
    assert "the fail row broke" in dialog.table.item(3, 5).text()
    assert "3 rendered" in dialog.status.text() and "row 4" in dialog.status.text()
    assert len(window.project.takes()) == 3
    assert window.takes.list.count() == 3  # the takes panel was refreshed

    dialog.resize(1280, 520)
    qtbot.wait(50)
    dialog.grab().save(str(tmp_path / "batch.png"))
    dialog.close()
