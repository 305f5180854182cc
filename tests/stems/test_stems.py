"""Stem separation as a user runs it, with a tiny random-weight HTDemucs (demucs' own class,
saved in the release's format and loaded by the real weights-only loader): its stems are
noise, so these check the plumbing — lengths, tracks, one undo step, files, job rows."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

RATE = 48_000


@pytest.fixture
def song(tmp_path):
    """A project with a 1.5 s stereo take on its only track, placed at 1 s."""
    from desktop.project.store import Project
    from desktop.project.timeline import Timeline
    from tests.foundation.conftest import music_like

    project = Project.create(tmp_path / "demo")

    path = tmp_path / "song.wav"
    sf.write(path, music_like(1.5, RATE, 2), RATE)
    _take, track, clip = project.import_file(path)
    Timeline(project).move_clip(clip.id, RATE)
    yield project, track, clip
    project.close()


def test_stems_become_tracks_in_one_undoable_edit(song):
    from desktop.project.store import Project
    from desktop.project.timeline import Timeline
    from desktop.session.stems import place_stems, separate_to_takes, track_source

    project, track, clip = song
    timeline = Timeline(project)
    stages = []
    result = separate_to_takes(project, track_source(project, track.id), "debug",
                               progress=lambda p: stages.append(p.stage))
    assert result.stems == ["drums", "bass", "other", "vocals"] and "separating" in stages
    new = place_stems(timeline, result)
    tracks = project.tracks()
    assert [t.name for t in tracks] == ["song", *(f"song · {s}" for s in result.stems)]
    for tid, take in zip(new, result.takes, strict=True):
        (c,) = project.clips(tid)
        assert c.start_frame == RATE and c.length_frames == 3 * RATE // 2  # where the source plays
        assert take.kind == "stems" and take.engine == ""  # the user's audio, taken apart
        assert take.model_id == "timbre/htdemucs-debug" and take.params["stem"] in result.stems
    job = project.job(result.job_id)
    assert job.state == "done" and job.engine == "demucs"
    assert timeline.undo_label == "Separate stems of song"
    timeline.undo()
    assert [t.name for t in project.tracks()] == ["song"]  # one Undo takes all four away
    timeline.redo()
    path = project.path
    project.close()
    with Project.open(path) as again:  # saved at once
        assert len(again.tracks()) == 5 and len(again.clips()) == 5


@pytest.mark.slow
def test_two_stems_of_a_file_from_the_command_line(tmp_path, timbre_cli):
    from engines.audio_io import read_audio
    from engines.tags import read_tags
    from tests.foundation.conftest import music_like

    src = tmp_path / "take.flac"
    sf.write(src, music_like(2.0, 44_100, 1), 44_100)
    r = timbre_cli("stems", src, "--model", "debug", "--two-stems", "vocals", "-o", tmp_path / "out")
    assert r.returncode == 0, r.stderr
    assert "tiny random model" in r.stdout
    for stem in ("vocals", "no_vocals"):
        clip = read_audio(tmp_path / "out" / f"take.{stem}.wav")
        assert (clip.sample_rate, clip.channels, clip.frames) == (44_100, 1, 88_200)
        assert np.isfinite(clip.samples).all()
        prov = read_tags(tmp_path / "out" / f"take.{stem}.wav").provenance["takes"][0]
        assert prov["model_id"] == "timbre/htdemucs-debug" and prov["params"]["stem"] == stem
    r = timbre_cli("stems", src, "--track", "1", "--model", "debug")
    assert r.returncode == 1 and "apply to a project" in r.stderr


def test_missing_weights_and_bad_choices_are_one_line(monkeypatch):
    from engines import htdemucs
    from engines.errors import BadInput, ModelMissing
    from engines.stems.separate import stem_names, unavailable_reason, weights_for

    monkeypatch.setattr(htdemucs, "find_hub_dir", lambda: None)
    with pytest.raises(ModelMissing, match="timbre models download htdemucs"):
        weights_for("htdemucs")
    assert "htdemucs" in unavailable_reason()
    with pytest.raises(BadInput, match="not a stem separation model"):
        weights_for("spleeter")
    with pytest.raises(BadInput, match="not a stem this model makes"):
        stem_names(("drums", "bass", "other", "vocals"), "piano")


@pytest.mark.slow
def test_stems_of_a_project_track_from_the_command_line(song, timbre_cli):
    from desktop.project.store import Project

    project, track, _clip = song
    path = project.path
    project.close()
    r = timbre_cli("stems", path, "--track", track.id, "--model", "debug", "--two-stems", "vocals")
    assert r.returncode == 0, r.stderr
    assert "song · vocals" in r.stdout and "song · no_vocals" in r.stdout
    with Project.open(path) as again:
        assert [t.name for t in again.tracks()] == ["song", "song · vocals", "song · no_vocals"]
    r = timbre_cli("stems", path, "--track", "99", "--model", "debug")
    assert r.returncode == 1 and "no track 99" in r.stderr


@pytest.mark.parametrize(("frames", "step", "context"),
                         [(7 * 441, 3 * 441, 441), (30 * 441 + 44, 30 * 441, 441), (900, 3000, 100)])
def test_blocks_cross_fade_to_a_constant_sum(frames, step, context):
    """Long audio goes through demucs in blocks; where they overlap one fades out as the
    next fades in, so no frame is louder, quieter or switched hard at a block edge."""
    from engines.stems.separate import cross_faded_blocks

    total = np.zeros(frames)
    for lo, hi, w in cross_faded_blocks(frames, step, context):
        total[lo:hi] += w
    assert np.allclose(total, 1.0, atol=1e-6)


def test_cancel_leaves_no_stems_and_a_cancelled_job(song):
    from desktop.session.stems import clip_source, separate_to_takes
    from engines.cancel import CancelToken
    from engines.errors import Cancelled

    project, _track, clip = song
    token = CancelToken()

    def progress(p):
        if p.stage == "separating":
            token.cancel()  # before the first block is separated

    takes_before = len(project.takes())
    with pytest.raises(Cancelled):
        separate_to_takes(project, clip_source(project, clip.id), "debug", progress=progress,
                          cancel=token)
    assert len(project.takes()) == takes_before and len(project.tracks()) == 1
    assert project.jobs()[-1].state == "cancelled"
