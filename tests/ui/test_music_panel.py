"""The Music panel with the real MusicGen engine on its tiny random ``debug`` model (no
MusicGen weights can be had offline; the debug model makes noise, which is enough to test
the panel → job → take path)."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox

from engines.registry import engine_infos
from tests.ui.conftest import reported


def test_music_panel_runs_the_debug_model_and_lists_every_parameter(window, qtbot):
    panel = window.panels["music"]
    panel.refresh_engines()
    panel.select_engine("musicgen")
    info = next(i for i in engine_infos("music") if i.name == "musicgen")
    if not info.available:  # no real checkpoint installed: debug runs, and the panel says what it is
        assert "test model makes noise" in panel.reason.text()
    models = [panel.model_box.itemData(i) for i in range(panel.model_box.count())]
    assert ("debug", True) in models and ("musicgen-small", False) in models or info.available
    panel.select_model("debug")
    assert panel.generate_button.isEnabled()
    form = panel.form
    for name in ("prompt", "duration", "variations", "seed", "temperature", "top_k", "top_p",
                 "cfg_coef", "continuation", "melody", "loop", "normalize"):
        assert name in form.widgets, name
    assert "Creativity" in form.widgets["temperature"].toolTip()
    unexplained = [n for n, w in form.widgets.items() if w.toolTip() in ("", w.accessibleName())]
    assert unexplained == []  # every parameter says what it does
    assert isinstance(form.widgets["continuation"], QCheckBox)
    assert form.values()["watermark"] is window.generation.watermark_default()  # shows what takes will get

    panel.examples.activated.emit(1)  # "Examples…" fills the prompt
    assert form.values()["prompt"].startswith("warm lo-fi hip hop")
    form.set_value("duration", 0.5)
    form.set_value("variations", 2)
    form.set_value("seed", 7)
    panel.generate_button.click()
    jobs = window.jobs.jobs[-2:]  # two variations: two jobs, each with its own Cancel
    assert len(window.jobs.jobs) == 2 and all(job.options == {"model": "debug"} for job in jobs)
    for job in jobs:
        qtbot.waitUntil(lambda job=job: reported(window, job), timeout=120_000)
        assert job.state == "done", job.error
    takes = window.project.takes()
    assert len(takes) == 2 and {t.engine for t in takes} == {"musicgen"}
    assert all(abs(t.duration - 0.5) < 0.05 for t in takes) and sorted(t.seed for t in takes) == [7, 8]
    assert [t.name[-8:] for t in takes] == ["(1 of 2)", "(2 of 2)"]
    assert window.project.job(jobs[0].store_id).request["model"] == "debug"
