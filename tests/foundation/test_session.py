"""The one job lifecycle (desktop.session.run_job), with an engine registered through the
public registry API only — the way a plug-in would add itself."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from desktop.project.store import Project
from desktop.session import JobSpec, run_job
from engines.audio import AudioClip
from engines.cancel import CancelToken, Progress
from engines.errors import BadInput, Cancelled
from engines.provenance import GeneratedTake, Provenance
from engines.registry import EngineSpec, engine_infos, register, unregister


@dataclass
class ToneRequest:
    text: str = "beep"
    variations: int = 1
    fail: bool = False
    cancel_at: int = -1


class ToneEngine:
    """Makes 22.05 kHz mono tones: the project (48 kHz stereo) must get them converted."""

    name = "test-tone"
    request_type = ToneRequest

    def __init__(self, device: str | None = None) -> None:
        self.loaded = False

    def load(self, progress, cancel=None) -> None:
        self.loaded = True

    def unload(self) -> None:
        self.loaded = False

    def generate(self, request: ToneRequest, progress, cancel: CancelToken | None = None):
        takes = []
        for i in range(request.variations):
            if i == request.cancel_at and cancel is not None:
                cancel.cancel()
            if cancel is not None:
                cancel.check()
            progress(Progress(i + 1, request.variations, "toning"))
            if request.fail:
                raise BadInput("The tone engine was asked to fail.")
            t = np.arange(22_050) / 22_050
            samples = (0.2 * np.sin(2 * np.pi * (300 + 100 * i) * t))[None].astype(np.float32)
            takes.append(GeneratedTake(AudioClip(samples, 22_050),
                                       Provenance(self.name, prompt=request.text, seed=i)))
        return takes


@pytest.fixture
def tone_engine():
    register(EngineSpec("test-tone", "Tone (test)", "speech", f"{__name__}:ToneEngine"))
    yield
    unregister("test-tone")


def test_a_registered_engine_appears_and_its_takes_are_stored_in_project_format(
    tone_engine, tmp_path
):
    assert any(i.name == "test-tone" and i.available for i in engine_infos("speech"))
    with Project.create(tmp_path / "p") as project:
        spec = JobSpec("test-tone", "speech", ToneRequest("hello", variations=2), "hello there")
        outcome = run_job(spec, project, place="new-track", track_name="Tones")
        assert [t.name for t in outcome.stored] == ["(1) hello there", "(2) hello there"]
        for take in outcome.stored:
            audio = project.load_audio(take.audio_sha256)
            assert (audio.sample_rate, audio.channels) == (48_000, 2)
            assert take.engine == "test-tone" and take.job_id == outcome.job_id
        assert project.job(outcome.job_id).state == "done"
        assert project.track(outcome.track_id).name == "Tones"
        assert len(project.clips(outcome.track_id)) == 2


def test_a_failed_or_cancelled_job_leaves_its_row_ended_and_no_empty_track(tone_engine, tmp_path):
    with Project.create(tmp_path / "p") as project:
        with pytest.raises(BadInput, match="asked to fail"):
            run_job(JobSpec("test-tone", "speech", ToneRequest(fail=True), "x"), project,
                    place="new-track")
        with pytest.raises(Cancelled):
            run_job(JobSpec("test-tone", "speech", ToneRequest(variations=3, cancel_at=1), "y"),
                    project, cancel=CancelToken(), place="new-track")
        states = [(j.state, j.error) for j in project.jobs()]
        assert states[0] == ("failed", "The tone engine was asked to fail.")
        assert states[1][0] == "cancelled"
        assert project.takes() == [] and project.tracks() == []


def test_without_a_project_the_takes_are_returned_unchanged(tone_engine):
    outcome = run_job(JobSpec("test-tone", "speech", ToneRequest(), "x"))
    assert outcome.stored == [] and outcome.job_id is None
    assert outcome.takes[0].clip.sample_rate == 22_050
