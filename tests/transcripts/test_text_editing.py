"""Transcribing, cutting by words and removing fillers, on Piper speech whose word edges
are known (see tests/transcripts/speech.py)."""

from __future__ import annotations

import numpy as np
import pytest

from desktop.project.store import Project
from desktop.project.timeline import Timeline
from desktop.project.transcripts import (
    delete_words,
    filler_indexes,
    latest,
    placed_words,
    remove_fillers,
    word_ranges,
)
from engines.transcripts.fillers import normalized
from engines.transcripts.wer import word_error_rate

TOLERANCE_S = 0.050


def heard(words) -> list[str]:
    return [normalized(w.text) for w in words]


def matched(said, words) -> list[tuple[int, object]]:
    """(index said, word heard) for each heard word that lines up with a said one by time."""
    out = []
    for w in words:
        mid = (w.start + w.end) / 2
        for i, (a, b) in enumerate(said.spans):
            if a <= mid < b:
                out.append((i, w))
    return out


def mix(project: Project) -> np.ndarray:
    return project.mixdown().samples[0]


def test_every_word_cut_point_is_within_50_ms_of_the_true_edge(project_copy, said):
    with Project.open(project_copy) as project:
        info = latest(project)
        assert info is not None and info.language == "en" and info.scope == "mix"
        words = placed_words(project, info.id)
        pairs = matched(said, words)
        errors = [max(abs(w.start - said.spans[i][0]), abs(w.end - said.spans[i][1])) / said.rate
                  for i, w in pairs]
        print(f"\ncut points: {len(pairs)} of {len(said.words)} words placed; worst edge "
              f"error {1000 * max(errors):.1f} ms, mean {1000 * np.mean(errors):.1f} ms; "
              f"heard: {' '.join(w.text for w in words)}")
        assert len(pairs) >= len(said.words) - 1  # Whisper may merge or drop one word at most
        assert max(errors) <= TOLERANCE_S
        assert word_error_rate(" ".join(said.words), " ".join(w.text for w in words)) <= 0.2


def test_deleting_two_words_removes_exactly_their_audio_and_undo_brings_it_back(project_copy, said):
    with Project.open(project_copy) as project:
        timeline = Timeline(project)
        before = mix(project)
        words = placed_words(project, latest(project).id)
        names = heard(words)
        i = names.index("brown")
        assert names[i + 1] == "fox"
        (a, b), = word_ranges(words, [i, i + 1])
        # the range holds all of "brown fox" and none of "quick" or "uh"
        k = said.words.index("brown")
        assert said.spans[k - 1][1] < a <= said.spans[k][0]
        assert said.spans[k + 1][1] <= b < said.spans[k + 2][0]
        delete_words(timeline, words, [i, i + 1])
        after = mix(project)
        assert np.array_equal(after, np.concatenate([before[:a], before[b:]]))
        left = heard(placed_words(project, latest(project).id))
        assert "brown" not in left and "fox" not in left and left[i - 1] == "quick"
        assert timeline.undo_label.startswith("Delete words")
        timeline.undo()
        assert np.array_equal(mix(project), before)
        assert heard(placed_words(project, latest(project).id)) == names
        timeline.redo()
    with Project.open(project_copy) as project:  # saved at once
        assert np.array_equal(mix(project), after)


def test_remove_fillers_previews_then_removes_them_in_one_undo_step(project_copy, said):
    with Project.open(project_copy) as project:
        timeline = Timeline(project)
        before = mix(project)
        words = placed_words(project, latest(project).id)
        preview = [words[i] for i in filler_indexes(words, "en")]
        assert sorted(heard(preview)) == ["uh", "um"]
        removed = sum(w.end - w.start for w in preview)
        assert remove_fillers(timeline, words, "en") == 2
        after = mix(project)
        assert len(before) - len(after) == removed
        left = placed_words(project, latest(project).id)
        assert not filler_indexes(left, "en")
        assert [n for n in heard(left)] == [n for n in heard(words) if n not in ("um", "uh")]
        # every other word still plays the very same samples
        for old, new in zip([w for w in words if w not in preview], left, strict=True):
            assert np.array_equal(before[old.start:old.end], after[new.start:new.end])
        assert timeline.undo() == "Remove 2 filler words"
        assert np.array_equal(mix(project), before)
        timeline.redo()
        assert np.array_equal(mix(project), after)


def test_a_second_transcript_of_the_mix_replaces_the_first(project_copy, said):
    from desktop.project.transcripts import save_transcript, transcripts
    from engines.transcripts.words import Word

    with Project.open(project_copy) as project:
        save_transcript(project, [Word("So", 0.3, 0.5)], None, "en", "base")
        assert len(transcripts(project)) == 1
        assert [w.text for w in placed_words(project, latest(project).id)] == ["So"]


@pytest.mark.parametrize("fmt", ["srt", "vtt", "txt"])
def test_exports(project_copy, fmt):
    from desktop.project.transcripts import words_in_seconds
    from engines.transcripts.subtitles import render

    with Project.open(project_copy) as project:
        text = render(words_in_seconds(project, latest(project).id), fmt)
    assert "quick" in text.lower() and "lazy" in text.lower()
    if fmt == "srt":
        assert text.startswith("1\n00:00:00,") and " --> 00:00:" in text
    elif fmt == "vtt":
        assert text.startswith("WEBVTT\n\n00:00:00.")
    else:
        assert "-->" not in text


def test_words_of_the_mix_stay_with_the_voice_not_the_music_bed(project_copy, said):
    from desktop.project.transcripts import save_transcript, words_in_seconds
    from engines.audio import AudioClip

    with Project.open(project_copy) as project:
        timeline = Timeline(project)
        words = words_in_seconds(project, latest(project).id)
        voice = project.clips()[0]
        t = np.arange(voice.length_frames) / said.rate
        bed = project.add_take(AudioClip((0.1 * np.sin(2 * np.pi * 110 * t)).astype(np.float32), said.rate),
                               "bed", "music")
        track = timeline.add_track("Music")
        timeline.add_clip(track, bed.id, 0)
        tid = save_transcript(project, words, None, "en", "base")
        takes = {r[0] for r in project.db.execute(
            "SELECT take_id FROM transcript_words WHERE transcript_id=?", (tid,))}
        assert takes == {voice.take_id}
        # moving the voice later moves its words; the bed stays where it is
        timeline.move_clip(voice.id, voice.start_frame + said.rate)
        moved = placed_words(project, tid)
        assert [w.text for w in moved] == [w.text for w in words]
        assert moved[0].start == round(words[0].start * said.rate) + said.rate


def test_a_project_from_before_transcripts_is_migrated_and_repair_keeps_them(project_copy, tmp_path):
    import sqlite3

    from desktop.project.repair import repair_project
    from desktop.project.schema import LATEST

    with Project.open(project_copy) as project:
        words = [w.text for w in placed_words(project, latest(project).id)]
    repair_project(project_copy)  # salvaged into a fresh database: the transcript comes along
    with Project.open(project_copy) as project:
        assert [w.text for w in placed_words(project, latest(project).id)] == words
    db = sqlite3.connect(project_copy / "project.db")  # as a version-1 project was
    db.executescript("DROP TABLE transcript_words; DROP TABLE transcripts; PRAGMA user_version=1;")
    db.close()
    with Project.open(project_copy) as project:
        assert project.db.execute("PRAGMA user_version").fetchone()[0] == LATEST
        assert latest(project) is None and project.clips()
    assert (project_copy / "project.db.v1.bak").is_file()
