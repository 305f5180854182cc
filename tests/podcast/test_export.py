"""Export in every format with tags and chapter markers, and the CLI end to end."""

from __future__ import annotations

import pytest

from engines.audio_io import read_audio, write_audio
from engines.loudness import integrated_lufs, true_peak_db


@pytest.mark.parametrize("fmt", ["wav", "flac", "mp3", "ogg"])
def test_chapters_and_tags_survive_export(mastered, tmp_path, fmt):
    from engines.podcast.chapters import read_chapters
    from engines.podcast.master import export_episode
    from engines.tags import read_tags

    path = export_episode(
        mastered, tmp_path / f"ep.{fmt}", title="Small gardens", tags={"artist": "Joe"}
    )
    chapters = read_chapters(path)
    assert [c.title for c in chapters] == ["Welcome", "Sunlight"]
    for got, want in zip(chapters, mastered.chapters, strict=True):
        assert got.start == pytest.approx(want.start, abs=0.01)
    tags = read_tags(path)
    assert tags.fields["title"] == "Small gardens"
    assert tags.provenance["mastering"]["preset"] == "podcast"
    assert read_audio(path).duration == pytest.approx(mastered.clip.duration, abs=0.1)


def test_chapter_text_is_parsed_or_refused():
    from engines.errors import BadInput
    from engines.podcast.chapters import parse_chapter

    assert parse_chapter("1:02:03 Outro").start == 3723.0
    assert parse_chapter("12:30 The interview").title == "The interview"
    with pytest.raises(BadInput, match="12:30 Title"):
        parse_chapter("Interview")


def test_pause_times_map_through_cuts():
    from engines.podcast.pauses import CROSSFADE_S, Cut, map_time, plan_cuts

    cuts = plan_cuts([(1.0, 2.0), (6.0, 7.0)], duration=8.0, max_pause_s=1.0)
    # Leading silence keeps 0.5 s, the 4 s pause keeps 1 s, the trailing 1 s keeps 0.5 s.
    assert cuts == [Cut(0.0, 0.5), Cut(2.5, 5.5), Cut(7.5, 8.0)]
    assert map_time(6.0, cuts) == pytest.approx(6.0 - 0.5 - 3.0 - 2 * CROSSFADE_S)
    assert map_time(4.0, cuts) == map_time(2.5, cuts)  # a time inside a cut lands on the join


def test_cli_masters_tracks_with_bed_shortens_pauses_and_writes_mp3(episode, tmp_path, timbre_cli):
    paths = [write_audio(tmp_path / f"voice{i}.wav", v) for i, v in enumerate(episode.voices)]
    bed = write_audio(tmp_path / "bed.flac", episode.music)
    out = tmp_path / "episode.mp3"
    run = timbre_cli(
        "podcast",
        "master",
        *paths,
        "--music",
        bed,
        "--duck",
        "10",
        "--lufs",
        "-19",
        "--mono",
        "--chapter",
        "0:00 Start",
        "-o",
        out,
    )
    assert run.returncode == 0, run.stderr
    assert "LUFS" in run.stdout
    back = read_audio(out)
    assert back.channels == 1
    assert integrated_lufs(back) == pytest.approx(-19.0, abs=0.5)
    assert true_peak_db(back) <= -1.0
    # The 4 s pause keeps 1 s, the 0.6 s lead-in and 1.5 s tail keep 0.5 s: ~4.2 s shorter.
    assert episode.raw_mix.duration - back.duration == pytest.approx(4.2, abs=0.5)


def test_cli_refuses_a_missing_track_in_one_line(tmp_path, timbre_cli):
    run = timbre_cli("podcast", "master", tmp_path / "nope.wav", "-o", tmp_path / "o.wav")
    assert run.returncode == 1
    assert run.stderr.strip().count("\n") == 0
    assert "does not exist" in run.stderr
