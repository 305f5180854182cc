"""Timeline edits are autosaved, undoable, and survive reopening."""

from __future__ import annotations

import numpy as np
import pytest

from desktop.project.errors import ProjectError
from desktop.project.store import Project
from desktop.project.timeline import Timeline
from engines.audio import AudioClip


def snapshot(p):
    return [(t.name, t.gain_db, t.mute, t.solo) for t in p.tracks()], [
        (c.track_id, c.take_id, c.start_frame, c.offset_frame, c.length_frames, c.gain_db,
         c.fade_in_frames, c.fade_out_frames) for c in p.clips()
    ]


@pytest.fixture
def tl(tmp_path):
    p = Project.create(tmp_path / "t")
    clip = AudioClip(np.ones((2, 48_000), np.float32) * 0.1, 48_000)
    take = p.add_take(clip, "one second", "import")
    t = Timeline(p)
    yield t, take
    p.close()


def test_every_edit_undoes_and_redoes(tl):
    t, take = tl
    p = t.project
    states = [snapshot(p)]
    track = t.add_track("Voice")
    states.append(snapshot(p))
    clip = t.add_clip(track, take.id, 1000)
    states.append(snapshot(p))
    t.move_clip(clip, 5000)
    states.append(snapshot(p))
    t.trim_clip(clip, left=6000, right=40_000)
    states.append(snapshot(p))
    right = t.split_clip(clip, 20_000)
    states.append(snapshot(p))
    t.set_clip(right, fade_out_frames=4800, gain_db=-3.0)
    states.append(snapshot(p))
    t.set_track(track, mute=True, gain_db=-6.0)
    states.append(snapshot(p))
    t.rename_track(track, "Narration")
    states.append(snapshot(p))
    t.delete_clip(clip)
    states.append(snapshot(p))
    t.remove_track(track)
    states.append(snapshot(p))
    for expected in reversed(states[:-1]):
        t.undo()
        assert snapshot(p) == expected
    assert not t.can_undo
    for expected in states[1:]:
        t.redo()
        assert snapshot(p) == expected


def test_trim_and_split_keep_audio_aligned(tl):
    t, take = tl
    track = t.add_track()
    clip = t.add_clip(track, take.id, 10_000)
    t.trim_clip(clip, left=12_000)
    c = t.project.clip(clip)
    assert (c.start_frame, c.offset_frame, c.length_frames) == (12_000, 2_000, 46_000)
    t.trim_clip(clip, left=0)  # cannot reveal audio before the take starts
    c = t.project.clip(clip)
    assert (c.start_frame, c.offset_frame) == (10_000, 0)
    t.trim_clip(clip, right=10**9)  # nor after it ends
    assert t.project.clip(clip).length_frames == 48_000
    right = t.split_clip(clip, 30_000)
    r = t.project.clip(right)
    assert (r.start_frame, r.offset_frame, r.length_frames) == (30_000, 20_000, 28_000)
    with pytest.raises(ProjectError, match="playhead"):
        t.split_clip(clip, 5)


def test_edits_are_saved_immediately_and_reopen_identical(tmp_path):
    p = Project.create(tmp_path / "s")
    take = p.add_take(AudioClip(np.zeros((1, 4800), np.float32) + 0.1, 48_000), "x", "import")
    t = Timeline(p)
    track = t.add_track("A")
    clip = t.add_clip(track, take.id, 480)
    t.set_clip(clip, fade_in_frames=100)
    p.set_state("view", {"zoom": 123.5, "scroll": 40})
    before = snapshot(p)
    # no close(): a crash right now must lose nothing
    again = Project.open(tmp_path / "s")
    assert snapshot(again) == before
    assert again.get_state("view") == {"zoom": 123.5, "scroll": 40}
    again.close()
    p.close()


def test_mixdown_respects_mute_solo_gain_and_fades(tl):
    t, take = tl
    p = t.project
    a, b = t.add_track("a"), t.add_track("b")
    t.add_clip(a, take.id, 0)
    cb = t.add_clip(b, take.id, 24_000)
    mix = p.mixdown()
    assert mix.frames == 72_000
    assert np.isclose(mix.samples[0, 30_000], 0.2, atol=1e-4)  # overlap sums
    t.set_track(b, mute=True)
    assert np.isclose(p.mixdown().samples[0, 30_000], 0.1, atol=1e-4)
    t.set_track(b, solo=True)  # solo wins over mute
    assert np.isclose(p.mixdown().samples[0, 10_000], 0.0)
    t.set_track(b, solo=False, mute=False, gain_db=-6.0206)
    assert np.isclose(p.mixdown().samples[0, 60_000], 0.05, atol=1e-4)
    t.set_clip(cb, fade_in_frames=4800)
    mix = p.mixdown().samples[0]
    assert np.isclose(mix[24_000], 0.1, atol=1e-3)  # b starts silent under its fade-in
    assert np.isclose(mix[30_000], 0.15, atol=1e-3)  # and is at full level after it
