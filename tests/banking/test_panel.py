"""The banking panel driven by keys alone, as someone with limited movement would use it.

There is no sound card here, so recordings are handed to the panel's recorded slot, which
is what the microphone's AudioIO emits when recording stops."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from engines.banking.bank import VoiceBank
from tests.banking.recordings import clipped

pytestmark = pytest.mark.gui


@pytest.fixture
def panel(qtbot, tmp_path):
    from desktop.ui.audio import AudioIO
    from desktop.ui.banking.panel import BankingPanel

    audio = AudioIO()
    widget = BankingPanel(audio, VoiceBank.create(tmp_path / "bank"))
    qtbot.addWidget(widget)
    widget.show()
    widget.setFocus()
    return widget


def test_space_accepts_a_clean_take_and_moves_on_redo_keeps_the_prompt(qtbot, panel, clean_takes):
    from desktop.ui.banking.panel import CHECKING, REVIEW

    first, second = list(clean_takes)[:2]
    assert panel.prompt.id == first
    with qtbot.waitSignal(
        panel.state_changed, check_params_cb=lambda s: s == REVIEW, timeout=30_000
    ):
        panel.take_recorded(clipped(clean_takes[first]))
    assert panel.state == REVIEW and "RED" in panel.verdict_label.text()
    assert "clipping" in panel.verdict_label.text()
    qtbot.keyClick(panel, Qt.Key.Key_R)  # redo: same prompt, nothing accepted
    assert panel.prompt.id == first and panel.bank.accepted() == []

    with qtbot.waitSignal(
        panel.state_changed, check_params_cb=lambda s: s == REVIEW, timeout=30_000
    ):
        panel.take_recorded(clean_takes[first])
    assert panel.state != CHECKING and "GREEN" in panel.verdict_label.text()
    qtbot.keyClick(panel, Qt.Key.Key_Space)  # accept and next
    assert panel.prompt.id == second
    assert [p.id for p, _ in panel.bank.accepted()] == [first]
    assert "1 of 1132 recorded" in panel.progress_label.text()
    assert panel.review.rowCount() == 1

    qtbot.keyClick(panel, Qt.Key.Key_N)  # skip
    assert panel.prompt.id != second
    skipped_to = panel.prompt.id
    # Another day: a new panel on the same folder resumes at the prompt the person was on.
    assert VoiceBank.open(panel.bank.path).next_prompt().id == skipped_to


def test_large_text_option_enlarges_the_prompt(panel):
    normal = panel.prompt_label.font().pointSize()
    panel.large.setChecked(True)
    assert panel.prompt_label.font().pointSize() >= 1.8 * normal


def test_without_a_microphone_space_says_why(qtbot, panel):
    panel.audio.available = False
    panel.audio.reason = "No audio input device was found."
    qtbot.keyClick(panel, Qt.Key.Key_Space)
    assert panel.state == "idle"
    assert "No audio" in panel.verdict_label.text()


def test_a_typed_message_is_recorded_checked_and_banked_with_its_tags(qtbot, panel):
    from desktop.ui.banking.panel import REVIEW
    from tests.banking.recordings import recording

    panel.message_text.setText("I love you, Sam.")
    panel.message_tags.setText("family, evening")
    panel.audio.reason = "No audio input device was found."
    qtbot.keyClick(panel, Qt.Key.Key_M)  # no microphone here: it says so and stays on the script
    assert panel.message is None and "No audio" in panel.verdict_label.text()
    panel.verdict_label.clear()
    qtbot.keyClick(panel.message_text, Qt.Key.Key_Return)  # Enter in the field does the same
    assert "No audio" in panel.verdict_label.text() and panel.state == "idle"

    panel.message = ("I love you, Sam.", ["family", "evening"])  # what M sets before recording
    with qtbot.waitSignal(
        panel.state_changed, check_params_cb=lambda s: s == REVIEW, timeout=30_000
    ):
        panel.take_recorded(recording("I love you, Sam."))
    assert "GREEN" in panel.verdict_label.text()
    qtbot.keyClick(panel, Qt.Key.Key_Space)
    found = panel.bank.messages("family")
    assert [p.text for p, _ in found] == ["I love you, Sam."]
    assert found[0][0].tags == ("evening", "family")
    assert panel.bank.accepted() == []  # the script is untouched
    assert "1 messages" in panel.progress_label.text()
