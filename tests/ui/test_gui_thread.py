"""Nothing that reads or writes audio, or stores takes, runs on the GUI thread.

The functions that do disk and model work are wrapped to record the thread they run on;
then a user's round — generate, import, audition a take, export — is driven through the
window. Any call from the GUI thread is a frozen window on a long file, so it fails here.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
import soundfile as sf

import desktop.project.export as export_module
import engines.audio_io as audio_io
import engines.blobs as blobs
import engines.tags as tags
from desktop.project.store import Project
from tests.ui.conftest import reported

WATCHED = [
    (Project, "add_take"), (Project, "import_take"), (Project, "import_file"),
    (Project, "_read_audio"), (audio_io, "read_audio"), (audio_io, "write_audio"),
    (blobs, "put_audio"), (blobs, "put_audio_file"), (tags, "write_tagged"),
    (export_module, "export_project"),
]


@pytest.fixture
def gui_thread_calls(monkeypatch):
    calls: list[str] = []
    for owner, name in WATCHED:
        original = getattr(owner, name)

        def watched(*args, __original=original, __name=name, **kwargs):
            if threading.current_thread() is threading.main_thread():
                calls.append(__name)
            return __original(*args, **kwargs)

        monkeypatch.setattr(owner, name, watched)
    return calls


def test_a_users_round_does_no_disk_or_model_work_on_the_gui_thread(
    window, qtbot, tmp_path, gui_thread_calls
):
    panel = window.panels["speech"]  # a real shipped engine (espeak-ng), watermark and all
    panel.refresh_engines()
    panel.select_engine("espeak")
    panel.form.set_value("text", "Nothing heavy on the window's thread.")
    panel.generate_button.click()
    job = window.jobs.jobs[-1]
    qtbot.waitUntil(lambda: reported(window, job), timeout=60_000)
    assert job.state == "done", job.error

    source = tmp_path / "voice.wav"
    sf.write(source, (0.1 * np.sin(np.arange(48_000) / 10)).astype(np.float32), 48_000)
    window.projects.import_files([str(source)])
    qtbot.waitUntil(lambda: len(window.project.takes()) == 2 and bool(window.project.clips()),
                    timeout=20_000)

    window.transport.audition_take(window.project.takes()[0].id)
    out = tmp_path / "mix.wav"
    window.projects.export_to(str(out))
    qtbot.waitUntil(lambda: out.exists() and not window.projects.export_progress.isVisible(),
                    timeout=30_000)
    assert gui_thread_calls == []
