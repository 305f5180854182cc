"""Engine hosts, the jobs panel and the generation panels, driven through the window.

The worker plumbing (queue, throttled progress, cancel within one step, out-of-memory retry
on CPU, joining threads on quit) is tested with a counting stand-in engine registered for
these tests only: it sleeps per step and makes a sine, so timing is controlled. Real
engines are exercised end to end in test_e2e_speech.py.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pytest

from engines.cancel import CancelToken, Progress
from engines.provenance import GeneratedTake, Provenance
from engines.registry import EngineSpec, register, unregister
from tests.ui.conftest import reported, tone


@dataclass
class CountRequest:
    prompt: str = "a test tone"
    temperature: float = 1.0
    cfg_coef: float = 3.0
    steps: int = 5
    fail: str = field(default="", metadata={"choices": ["", "oom", "error"]})


class CountingEngine:
    """Stand-in engine for the worker tests: one sleep per step, a sine as the take."""

    name = "test-counting"
    request_type = CountRequest
    step_s = 0.02
    last_step = 0  # the last step any instance finished (cancel is judged in steps, not seconds)

    def __init__(self, device: str | None = None) -> None:
        self.device = device or "cuda:0"
        self._loaded = False

    @property
    def loaded(self) -> bool:
        return self._loaded

    def load(self, progress, cancel: CancelToken | None = None) -> None:
        self._loaded = True

    def unload(self) -> None:
        self._loaded = False

    def generate(self, request: CountRequest, progress, cancel: CancelToken | None = None):
        for i in range(request.steps):
            if cancel is not None:
                cancel.check()
            time.sleep(self.step_s)
            CountingEngine.last_step = i + 1
            progress(Progress(i + 1, request.steps, "counting"))
        if request.fail == "oom" and self.device != "cpu":
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        self.steps_done = request.steps
        if request.fail == "error":
            raise ValueError("the stand-in engine was asked to fail")
        return [GeneratedTake(tone(0.5), Provenance(self.name, prompt=request.prompt, device=self.device))]


@pytest.fixture
def counting():
    register(EngineSpec("test-counting", "Counting test engine", "music", f"{__name__}:CountingEngine"))
    register(EngineSpec("test-missing", "Missing test engine", "music", f"{__name__}:CountingEngine",
                        check=lambda: "weights not installed — import a model folder"))
    yield
    unregister("test-counting")
    unregister("test-missing")
    unregister("test-cpu-oom")


def music_panel(window, engine: str):
    panel = window.panels["music"]
    panel.refresh_engines()
    panel.select_engine(engine)
    return panel


def test_panel_shows_why_an_engine_cannot_run_and_explains_parameters(window, counting):
    panel = music_panel(window, "test-missing")
    assert "weights not installed" in panel.reason.text()
    assert not panel.generate_button.isEnabled()
    panel = music_panel(window, "test-counting")
    assert panel.reason.isHidden() and panel.generate_button.isEnabled()
    assert "Creativity" in panel.form.widgets["temperature"].toolTip()
    assert "closely it follows the prompt" in panel.form.widgets["cfg_coef"].toolTip()
    assert panel.form.widgets["prompt"].accessibleName() == "Prompt"


def test_generate_queues_a_job_with_progress_and_the_take_lands_in_the_list(window, counting, qtbot):
    panel = music_panel(window, "test-counting")
    panel.form.set_value("prompt", "calm test tone")
    panel.generate_button.click()
    job = window.jobs.jobs[-1]
    qtbot.waitUntil(lambda: reported(window, job), timeout=10_000)
    assert job.state == "done"
    row = window.jobs_panel.rows[job.id]
    assert row.bar.value() == 1000 and not row.cancel.isEnabled()
    takes = window.project.takes()
    assert [t.name for t in takes] == ["calm test tone"] and takes[0].engine == "test-counting"
    assert window.project.job(job.store_id).state == "done"
    assert window.takes.row(takes[0].id) is not None
    assert "test-counting" in window.loaded_engines()


def test_cancel_mid_generation_stops_within_a_step(window, counting, qtbot):
    panel = music_panel(window, "test-counting")
    panel.form.set_value("steps", 500)  # 10 s if never cancelled
    panel.generate_button.click()
    job = window.jobs.jobs[-1]
    qtbot.waitUntil(lambda: job.state == "running" and job.progress > 0.25, timeout=10_000)
    window.jobs_panel.rows[job.id].cancel.click()
    at_cancel = CountingEngine.last_step
    qtbot.waitUntil(lambda: reported(window, job), timeout=5_000)
    assert job.state == "cancelled"
    assert CountingEngine.last_step <= at_cancel + 1  # stopped within one step
    assert window.project.takes() == []
    assert window.project.job(job.store_id).state == "cancelled"


def test_out_of_memory_offers_retry_on_cpu(window, counting, qtbot):
    panel = music_panel(window, "test-counting")
    panel.form.set_value("fail", "oom")
    panel.generate_button.click()
    qtbot.waitUntil(lambda: window.notice.action_button.isVisible(), timeout=10_000)
    assert window.notice.action_button.text() == "Retry on CPU"
    assert window.jobs.jobs[-1].state == "failed"
    window.notice.action_button.click()
    retry = window.jobs.jobs[-1]
    qtbot.waitUntil(lambda: reported(window, retry), timeout=10_000)
    assert retry.state == "done"
    assert retry.device == "cpu" and window.project.takes()[0].device == "cpu"


class CpuOomEngine(CountingEngine):
    """Falls back to the CPU itself, as the music engine does, and runs out there too."""

    name = "test-cpu-oom"
    loads = 0

    def load(self, progress, cancel=None) -> None:
        type(self).loads += 1
        super().load(progress, cancel)

    def generate(self, request, progress, cancel=None):
        from engines.devices import run_with_oom_fallback

        def attempt(device: str):
            raise RuntimeError(f"{device.upper()} out of memory. Tried to allocate 9.00 GiB")

        return run_with_oom_fallback(attempt, "cuda:0")[0]


def test_out_of_memory_after_the_engines_own_cpu_fallback_offers_no_retry(window, counting, qtbot):
    register(EngineSpec("test-cpu-oom", "CPU OOM test engine", "music", f"{__name__}:CpuOomEngine"))
    panel = music_panel(window, "test-cpu-oom")
    panel.generate_button.click()
    job = window.jobs.jobs[-1]
    qtbot.waitUntil(lambda: reported(window, job), timeout=10_000)
    assert job.state == "failed" and "on the CPU" in job.error
    qtbot.waitUntil(lambda: "on the CPU" in window.notice.label.text(), timeout=10_000)
    assert window.notice.isVisible()
    assert not window.notice.action_button.isVisible()  # no "Retry on CPU": it ran there
    assert CpuOomEngine.loads == 1 and len(window.jobs.jobs) == 1
    assert window.project.job(job.store_id).state == "failed"


def test_errors_become_one_line_with_details(window, counting, qtbot):
    panel = music_panel(window, "test-counting")
    panel.form.set_value("fail", "error")
    panel.generate_button.click()
    qtbot.waitUntil(lambda: window.notice.isVisible() and window.jobs.jobs[-1].state == "failed", timeout=10_000)
    assert "asked to fail" in window.notice.label.text()
    assert window.notice.details_button.isVisible() and "Traceback" in window.notice._details


def test_quit_cancels_running_jobs_and_joins_threads(window, counting, qtbot):
    panel = music_panel(window, "test-counting")
    panel.form.set_value("steps", 500)
    panel.generate_button.click()
    panel.generate_button.click()  # a second job waits in the same host's queue
    first, second = window.jobs.jobs[-2:]
    qtbot.waitUntil(lambda: first.state == "running", timeout=10_000)
    window.close()
    assert CountingEngine.last_step < 500  # the running job was cancelled, not waited out
    assert first.token.cancelled and second.token.cancelled
    assert window.jobs._hosts == {}


def test_library_tasks_run_as_cancellable_jobs(window, qtbot):
    """Cloning runs through this path (minutes of search); here a counting task stands in."""

    def count(progress, cancel, steps=400):
        for i in range(steps):
            cancel.check()
            time.sleep(0.01)
            progress(Progress(i + 1, steps, "searching"))
        return steps

    done = window.jobs.submit_task("clone", "Count", lambda p, c: count(p, c, 5))
    qtbot.waitUntil(lambda: reported(window, done), timeout=5000)
    assert done.result == 5 and window.jobs_panel.rows[done.id].bar.value() == 1000
    long = window.jobs.submit_task("clone", "Count long", count)
    qtbot.waitUntil(lambda: long.progress > 0.1, timeout=5000)
    window.jobs_panel.rows[long.id].cancel.click()
    qtbot.waitUntil(lambda: reported(window, long), timeout=2000)
    assert long.state == "cancelled"
    assert long.result is None and window.project.takes() == []


def test_progress_reaches_the_gui_at_most_ten_times_a_second(window, counting, qtbot):
    panel = music_panel(window, "test-counting")
    panel.form.set_value("steps", 75)  # 75 engine steps in about 1.5 s
    updates = []
    window.jobs.job_updated.connect(lambda job: updates.append(job.progress))
    panel.generate_button.click()
    job = window.jobs.jobs[-1]
    qtbot.waitUntil(lambda: reported(window, job), timeout=10_000)
    assert job.state == "done"
    assert 3 <= len(updates) <= 25  # throttled (plus state changes), not one per step
    assert updates == sorted(updates) and updates[-1] == 1.0


def test_an_engine_registered_through_the_public_api_appears_in_its_panel(window, qtbot):
    """What a plug-in does (engines.registry.register) is enough for the studio to offer it."""
    from tests.foundation.plugin_fixture.timbre_tone_plugin import ToneEngine, ToneRequest

    register(EngineSpec("tone-gui", "Tone (GUI test)", "sfx",
                        "tests.foundation.plugin_fixture.timbre_tone_plugin:ToneEngine"))
    try:
        panel = window.panels["sfx"]
        panel.refresh_engines()
        panel.select_engine("tone-gui")
        assert panel.engine.name == "tone-gui" and panel.form.request_type is ToneRequest
        assert "pitch_hz" in panel.form.widgets and ToneEngine.name == "tone-plugin"
        assert panel.form.widgets["pitch_hz"].maximum() == 2000.0  # range from its metadata
        panel.form.set_value("text", "gui beep")
        panel.generate_button.click()
        job = window.jobs.jobs[-1]
        qtbot.waitUntil(lambda: reported(window, job), timeout=20_000)
        assert job.state == "done" and window.project.takes()[-1].engine == "tone-plugin"
    finally:
        unregister("tone-gui")


def test_opening_another_project_mid_generation_keeps_the_take_in_the_first(
    window, counting, qtbot, tmp_path
):
    """The worker stores a job's takes into the project it was started for; leaving that
    project while it runs must not close the database under it (the take would be lost)."""
    from desktop.project.store import Project

    first = window.project
    panel = music_panel(window, "test-counting")
    panel.form.set_value("prompt", "kept take")
    panel.form.set_value("steps", 40)
    panel.generate_button.click()
    job = window.jobs.jobs[-1]
    qtbot.waitUntil(lambda: job.state == "running", timeout=10_000)
    window.projects.open_project(Project.create(tmp_path / "second"))
    assert window.project is not first
    qtbot.waitUntil(lambda: not job.active and first not in window.generation.retiring,
                    timeout=20_000)
    assert job.state == "done"
    with Project.open(first.path) as again:
        assert [t.name for t in again.takes()] == ["kept take"]
        assert again.job(job.store_id).state == "done"
    assert window.project.takes() == []


def test_a_long_job_title_fits_the_jobs_panel_without_sideways_scrolling(window, counting, qtbot):
    panel = music_panel(window, "test-counting")
    panel.form.set_value("prompt", "a very long prompt " * 12)
    panel.generate_button.click()
    job = window.jobs.jobs[-1]
    qtbot.waitUntil(lambda: reported(window, job), timeout=10_000)
    jobs = window.jobs_panel
    row = jobs.rows[job.id]
    assert row.width() <= jobs.list.viewport().width()
    assert row.cancel.geometry().right() <= row.width()  # the Cancel button stays in view
