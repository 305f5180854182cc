"""``timbre transcribe`` as a user runs it: a file to subtitles, a project's words cut."""

from __future__ import annotations

import re

import numpy as np

from desktop.project.store import Project


def test_transcribe_a_file_to_srt(timbre_cli, said, tmp_path):
    from engines.audio import AudioClip
    from engines.audio_io import write_audio

    short = write_audio(tmp_path / "opening.flac",  # the first words only: Whisper is the cost
                        AudioClip(said.clip.samples[:, : said.spans[5][1] + said.rate // 4], said.rate))
    out = tmp_path / "opening.srt"
    run = timbre_cli("transcribe", short, "-o", out, "--language", "en")
    assert run.returncode == 0, run.stderr
    text = out.read_text()
    assert text.startswith("1\n00:00:00,")
    assert "quick" in text.lower() and "fox" in text.lower()
    stamps = re.findall(r"(\d\d):(\d\d):(\d\d),(\d\d\d) --> ", text)
    starts = [int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000 for h, m, s, ms in stamps]
    assert starts == sorted(starts) and starts[0] < 0.5


def test_project_fillers_dry_run_then_removed_then_words_deleted(timbre_cli, project_copy, tmp_path):
    with Project.open(project_copy) as p:
        length = p.mixdown().frames
    dry = timbre_cli("transcribe", project_copy, "--remove-fillers", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would remove 2 filler word(s)" in dry.stderr
    fillers = re.findall(r"^\s+filler\s+\d+\s+\S+\s+(\S+)$", dry.stdout, re.M)
    assert sorted(w.strip(",.").lower() for w in fillers) == ["uh", "um"]
    with Project.open(project_copy) as p:
        assert p.mixdown().frames == length  # a dry run changes nothing
    run = timbre_cli("transcribe", project_copy, "--remove-fillers", "--list")
    assert run.returncode == 0, run.stderr
    assert "removed 2 filler word(s)" in run.stderr
    listed = re.findall(r"^\s+(\d+)\s+\S+\s+(.+)$", run.stdout, re.M)
    names = [w.strip(",.").lower() for _n, w in listed]
    assert "um" not in names and "uh" not in names and "brown" in names
    n = next(int(num) for num, w in listed if w.strip(",.").lower() == "brown")
    out = tmp_path / "after.vtt"
    cut = timbre_cli("transcribe", project_copy, "--delete-words", f"{n}-{n + 1}", "-o", out)
    assert cut.returncode == 0, cut.stderr
    assert "deleted" in cut.stderr and "brown" in cut.stderr.lower()
    vtt = out.read_text().lower()
    assert vtt.startswith("webvtt") and "brown" not in vtt and "fox" not in vtt and "lazy" in vtt
    with Project.open(project_copy) as p:
        assert p.mixdown().frames < length
        assert np.isfinite(p.mixdown().samples).all()


def test_bad_word_numbers_and_edits_on_a_file_are_one_line(timbre_cli, project_copy, speech_wav):
    run = timbre_cli("transcribe", project_copy, "--delete-words", "999")
    assert run.returncode == 1 and "not in the transcript" in run.stderr
    assert "Traceback" not in run.stderr
    run = timbre_cli("transcribe", speech_wav, "--remove-fillers")
    assert run.returncode == 1 and "is not a project" in run.stderr
