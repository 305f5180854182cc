"""Range edits (Audacity-style Delete, Cut/Copy/Paste, Silence, Duplicate, Trim) on clip rows.

Each edit is one undo step over every track it touches, is saved at once (reopening shows
it), and rewrites no audio: pieces are the same takes with other offsets and lengths.
"""

from __future__ import annotations

import numpy as np
import pytest

from desktop.project.errors import ProjectError
from desktop.project.store import Project
from desktop.project.timeline import Timeline
from engines.audio import AudioClip

RATE = 8_000


def rows(p: Project) -> list[tuple]:
    """Clip rows without ids: (track, take, start, offset, length, fade in, fade out)."""
    return sorted((c.track_id, c.take_id, c.start_frame, c.offset_frame, c.length_frames,
                   c.fade_in_frames, c.fade_out_frames) for c in p.clips())


@pytest.fixture
def two(tmp_path):
    """Track A: take 1 at 0..8000; track B: take 2 at 4000..12000. Distinct ramps, so a
    misplaced sample shows in the mix."""
    p = Project.create(tmp_path / "two", sample_rate=RATE)
    ramp = np.linspace(-0.5, 0.5, RATE, dtype=np.float32)
    t1 = p.add_take(AudioClip(np.stack([ramp, ramp]), RATE), "one", "import")
    t2 = p.add_take(AudioClip(np.stack([ramp[::-1], -ramp]) * 0.5, RATE), "two", "import")
    tl = Timeline(p)
    a, b = tl.add_track("A"), tl.add_track("B")
    tl.add_clip(a, t1.id, 0)
    tl.add_clip(b, t2.id, 4000)
    yield tl, a, b, t1.id, t2.id
    p.close()  # closing twice is harmless (the reopen checks close it first)


def check_undo_redo_reopen(tl: Timeline, before: list, after: list) -> None:
    """The edit is one undo step, redo brings it back, and it was saved at once."""
    p = tl.project
    assert rows(p) == after
    steps = len(tl._undo)
    tl.undo()
    assert rows(p) == before
    tl.redo()
    assert rows(p) == after
    assert len(tl._undo) == steps
    path = p.path
    p.close()
    with Project.open(path) as again:
        assert rows(again) == after


def test_ripple_delete_on_all_tracks(two):
    tl, a, b, t1, t2 = two
    before = rows(tl.project)
    tl.delete_range(2000, 6000)
    after = [(a, t1, 0, 0, 2000, 0, 0), (a, t1, 2000, 6000, 2000, 0, 0), (b, t2, 2000, 2000, 6000, 0, 0)]
    check_undo_redo_reopen(tl, before, sorted(after))


def test_delete_on_one_track_leaves_the_other(two):
    tl, a, b, t1, t2 = two
    before = rows(tl.project)
    tl.delete_range(2000, 6000, [b])
    after = [(a, t1, 0, 0, 8000, 0, 0), (b, t2, 2000, 2000, 6000, 0, 0)]
    check_undo_redo_reopen(tl, before, sorted(after))


def test_silence_leaves_a_gap(two):
    tl, a, b, t1, t2 = two
    before = rows(tl.project)
    tl.silence_range(2000, 6000)
    after = [(a, t1, 0, 0, 2000, 0, 0), (a, t1, 6000, 6000, 2000, 0, 0), (b, t2, 6000, 2000, 6000, 0, 0)]
    check_undo_redo_reopen(tl, before, sorted(after))


def test_trim_keeps_only_the_range(two):
    tl, a, b, t1, t2 = two
    before = rows(tl.project)
    tl.trim_range(2000, 6000)
    after = [(a, t1, 2000, 2000, 4000, 0, 0), (b, t2, 4000, 0, 2000, 0, 0)]
    check_undo_redo_reopen(tl, before, sorted(after))


def test_cut_then_paste_is_two_steps_and_never_overlaps(two):
    tl, a, b, t1, t2 = two
    p = tl.project
    board = tl.cut_range(2000, 6000, [a])
    assert [(x.lane, x.take_id, x.start, x.offset, x.length) for x in board.pieces] == [(0, t1, 0, 2000, 4000)]
    cut = rows(p)
    assert cut == sorted([(a, t1, 0, 0, 2000, 0, 0), (a, t1, 2000, 6000, 2000, 0, 0),
                          (b, t2, 4000, 0, 8000, 0, 0)])
    tl.paste(board, 10_000, a)  # free on A after the ripple: stays there
    after = sorted([*cut, (a, t1, 10_000, 2000, 4000, 0, 0)])
    check_undo_redo_reopen(tl, cut, after)


def test_paste_over_audio_goes_to_a_free_track(two):
    tl, a, b, t1, t2 = two
    p = tl.project
    board = tl.copy_range(0, 3000, [a])
    before = rows(p)
    n_tracks = len(p.tracks())
    tl.paste(board, 5000, a)  # covers A (0..8000) and B (4000..12000): a new track, one step
    new = [t.id for t in p.tracks()][-1]
    assert len(p.tracks()) == n_tracks + 1
    after = sorted([*before, (new, t1, 5000, 0, 3000, 0, 0)])
    assert rows(p) == after
    tl.undo()
    assert rows(p) == before and len(p.tracks()) == n_tracks
    tl.redo()
    check_undo_redo_reopen(tl, before, after)


def test_duplicate_goes_below_at_the_same_time(two):
    tl, a, b, t1, t2 = two
    before = rows(tl.project)
    tl.duplicate_range(6000, 10_000)
    new = [t.id for t in tl.project.tracks()][-1]
    # Lane A (6000..8000) covers audio on A and B → a new track; lane B (6000..10000) would
    # cover lane A's piece there too → a second new track.
    tracks = [t.id for t in tl.project.tracks()]
    assert len(tracks) == 4
    after = sorted([*before, (tracks[2], t1, 6000, 6000, 2000, 0, 0), (new, t2, 6000, 2000, 4000, 0, 0)])
    check_undo_redo_reopen(tl, before, after)


def test_fades_stay_only_on_kept_edges(two):
    tl, a, b, t1, t2 = two
    clip = tl.project.clips(a)[0].id
    tl.set_clip(clip, fade_in_frames=1000, fade_out_frames=1000)
    tl.silence_range(3000, 4000, [a])
    assert rows(tl.project)[:2] == [(a, t1, 0, 0, 3000, 1000, 0), (a, t1, 4000, 4000, 4000, 0, 1000)]


def test_ripple_delete_mix_equals_the_audio_with_the_range_removed(two):
    tl, a, b, t1, t2 = two
    p = tl.project
    original = p.mixdown().samples
    tl.delete_range(3001, 7777)
    edited = p.mixdown().samples
    expected = np.concatenate([original[:, :3001], original[:, 7777:]], axis=1)
    assert edited.shape == expected.shape
    assert np.array_equal(edited, expected)


def test_markers_follow_a_ripple_delete_on_every_track(two):
    tl, a, b, t1, t2 = two
    inside, later = tl.add_marker(3000, "in"), tl.add_marker(9000, "later", "chapter")
    tl.delete_range(2000, 6000)
    frames = {m.label: m.frame for m in tl.project.markers()}
    assert frames == {"in": 2000, "later": 5000}
    tl.undo()
    assert {m.id: m.frame for m in tl.project.markers()} == {inside: 3000, later: 9000}
    tl.delete_range(2000, 6000, [a])  # one track only: markers stay
    assert {m.frame for m in tl.project.markers()} == {3000, 9000}


def test_markers_add_rename_move_remove_and_jump(two):
    tl, *_ = two
    m = tl.add_marker(4000, "Intro")
    tl.add_marker(100, "Start", "chapter")
    tl.rename_marker(m, "Verse")
    tl.move_marker(m, 5000)
    assert [(x.frame, x.label, x.kind) for x in tl.project.markers()] == [
        (100, "Start", "chapter"), (5000, "Verse", "marker")]
    assert tl.next_marker(100) == 5000 and tl.next_marker(5000) is None
    assert tl.next_marker(5000, forward=False) == 100
    assert tl.find_marker("Verse") == m
    tl.remove_marker(tl.find_marker("Verse"))
    assert [x.label for x in tl.project.markers()] == ["Start"]
    for _ in range(3):
        tl.undo()
    assert [(x.frame, x.label) for x in tl.project.markers()] == [(100, "Start"), (4000, "Intro")]
    with pytest.raises(ProjectError):
        tl.find_marker("Nope")


def test_empty_range_and_empty_clipboard_are_refused(two):
    tl, a, *_ = two
    with pytest.raises(ProjectError):
        tl.delete_range(5000, 5000)
    with pytest.raises(ProjectError):
        tl.paste(tl.copy_range(20_000, 30_000), 0, a)


def test_cli_edit_and_marker(two, timbre_cli):
    tl, a, b, t1, t2 = two
    path = tl.project.path
    tl.project.close()
    r = timbre_cli("edit", path, "delete", "0.25-0:00.75", "--track", b)
    assert r.returncode == 0, r.stderr
    with Project.open(path) as p:
        assert rows(p) == [(a, t1, 0, 0, 8000, 0, 0), (b, t2, 2000, 2000, 6000, 0, 0)]
    r = timbre_cli("edit", path, "trim", "0.5-1")
    assert r.returncode == 0, r.stderr
    with Project.open(path) as p:
        assert rows(p) == [(a, t1, 4000, 4000, 4000, 0, 0), (b, t2, 4000, 4000, 4000, 0, 0)]
    bad = timbre_cli("edit", path, "silence", "2-1")
    assert bad.returncode == 1 and "ends before it starts" in bad.stderr
    assert timbre_cli("marker", path, "add", "0:01.5", "Verse", "--chapter").returncode == 0
    listed = timbre_cli("marker", path, "list")
    assert "0:01.500  chapter  Verse" in listed.stdout
    assert timbre_cli("marker", path, "remove", "Verse").returncode == 0
    missing = timbre_cli("marker", path, "remove", "Verse")
    assert missing.returncode == 1 and "no marker named" in missing.stderr
