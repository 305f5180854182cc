"""The banking panel's "Train my voice": readiness in minutes, a time estimate, and the
Train button only once the bank has enough takes; screenshot at 1280 px for a look."""

from __future__ import annotations

import dataclasses
import os

import pytest

from engines.banking.bank import VoiceBank

pytestmark = pytest.mark.gui


def test_train_box_shows_readiness_and_estimate(qtbot, tmp_path, clean_takes):
    from desktop.ui.audio import AudioIO
    from desktop.ui.banking.panel import BankingPanel
    from engines.banking.prompts import load_script

    bank = VoiceBank.create(tmp_path / "A bank with a rather long name for the person")
    takes = list(clean_takes.values())
    for pid, clip in clean_takes.items():
        bank.add_take(pid, clip)
    panel = BankingPanel(AudioIO(), bank)
    qtbot.addWidget(panel)
    panel.resize(1280, 900)
    panel.show()
    box = panel.train_box
    assert "Record at least 2 more sentences" in box.readiness.text()
    assert not box.train_button.isEnabled() and not box.preview_button.isEnabled()

    for i, line in enumerate(load_script("arctic")[4:8]):  # two more sentences reach the minimum
        bank.add_take(line.id, takes[i % len(takes)], accept=True)
    panel.set_bank(bank)
    assert box.train_button.isEnabled() and not box.stop_button.isEnabled()
    assert "of 30 minutes" in box.readiness.text() and "min" in box.ready_bar.format()
    assert "on this computer — benchmark estimate (CPU)" in box.estimate.text()
    before = box.estimate.text()
    box.steps.setValue(8000)
    assert box.estimate.text() != before
    assert [box.base.itemData(i) for i in (0, box.base.count() - 1)] == ["auto", "debug"]
    shot = os.environ.get("TIMBRE_TRAIN_BOX_SHOT")
    if shot:
        panel.grab().save(shot)


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_train_box_trains_stops_continues_and_lets_you_hear_it(qtbot, tmp_path):
    """Train from the debug base in the studio: Stop keeps the step reached, Train goes on
    from it, the check's verdict shows, and Hear it speaks the trained voice."""
    from desktop.ui.audio import AudioIO
    from desktop.ui.banking.panel import BankingPanel
    from tests.banking.training_bank import build_bank

    bank = build_bank(tmp_path / "ada")
    panel = BankingPanel(AudioIO(), bank)
    qtbot.addWidget(panel)
    box = panel.train_box
    box.base.setCurrentIndex(box.base.count() - 1)  # debug
    box.steps.setValue(3)
    from engines.banking.training import run

    chosen = box._options
    box._options = lambda: dataclasses.replace(chosen(), batch_size=2)  # small steps for the test
    assert box._options().base == "debug" and box._options().steps == 3

    box.start()
    qtbot.waitUntil(lambda: box.progress.value() >= 1, timeout=1_800_000)
    box.stop()
    qtbot.waitUntil(lambda: box.handle is None, timeout=1_800_000)
    assert "Training stopped at step" in box.status.text()
    stopped = run.load_state(bank).steps_done
    assert 1 <= stopped < 3 and box.train_button.isEnabled()

    box.start()
    qtbot.waitUntil(lambda: box.handle is None, timeout=3_000_000)
    assert run.load_state(bank).steps_done == 3
    assert "word error rate" in box.status.text() and "Not added yet" in box.status.text()
    assert box.preview_button.isEnabled()
    box.preview()
    qtbot.waitUntil(lambda: getattr(box, "last_preview", None) is not None, timeout=600_000)
    assert box.last_preview.duration > 0.3
