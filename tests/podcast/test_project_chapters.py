"""A project's markers become chapters in every export format, and follow range edits."""

from __future__ import annotations

import numpy as np
import pytest

from desktop.project.store import Project
from desktop.project.timeline import Timeline
from engines.audio import AudioClip

RATE = 16_000


@pytest.fixture
def marked(tmp_path):
    """Six seconds of tone; chapter markers at 1 s and 3 s, a plain note at 2 s."""
    p = Project.create(tmp_path / "marked", sample_rate=RATE)
    t = np.arange(6 * RATE) / RATE
    tone = (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    take = p.add_take(AudioClip(np.stack([tone, tone]), RATE), "tone", "import")
    tl = Timeline(p)
    tl.add_clip(tl.add_track("Voice"), take.id, 0)
    tl.add_marker(1 * RATE, "Intro", "chapter")
    tl.add_marker(2 * RATE, "fix breath", "marker")
    tl.add_marker(3 * RATE, "Interview", "chapter")
    yield tl
    p.close()


def chapters_of(path) -> list[tuple[float, str]]:
    from engines.chapters import read_chapters

    return [(round(c.start, 2), c.title) for c in read_chapters(path)]


@pytest.mark.parametrize("fmt", ["mp3", "m4a", "flac", "ogg", "opus", "wav"])
def test_export_writes_chapter_markers_as_chapters(marked, tmp_path, fmt):
    from desktop.project.export import export_project
    from engines.tags import read_tags

    out = export_project(marked.project, tmp_path / f"mix.{fmt}").path
    assert chapters_of(out) == [(1.0, "Intro"), (3.0, "Interview")]
    assert read_tags(out).fields["title"] == "marked"  # the chapters did not displace tags


def test_plain_markers_are_the_fallback_and_a_ripple_delete_moves_chapters(marked, tmp_path):
    from desktop.project.export import export_project

    for m in marked.project.markers():
        if m.kind == "chapter":
            marked.remove_marker(m.id)
    assert chapters_of(export_project(marked.project, tmp_path / "a.mp3").path) == [
        (2.0, "fix breath")]
    marked.add_marker(4 * RATE, "Outro", "chapter")
    marked.delete_range(0, RATE)  # ripple: one second out before both markers
    got = chapters_of(export_project(marked.project, tmp_path / "b.flac").path)
    assert got == [(3.0, "Outro")]


def test_wav_carries_a_cue_chunk_with_labels_once_after_retagging(marked, tmp_path):
    import struct

    from desktop.project.export import export_project, project_chapters
    from engines.tags import read_tags, write_tags

    out = export_project(marked.project, tmp_path / "mix.wav").path
    write_tags(out, read_tags(out).provenance, "again", project_chapters(marked.project), 6.0)
    data = out.read_bytes()
    assert data.count(b"cue ") == 1 and data.count(b"adtl") == 1
    at = data.index(b"cue ") + 8
    count, = struct.unpack("<I", data[at : at + 4])
    starts = [struct.unpack("<I", data[at + 4 + 24 * i + 20 : at + 8 + 24 * i + 20])[0]
              for i in range(count)]
    assert starts == [RATE, 3 * RATE]  # sample frames at the project's rate
    assert b"Intro\0" in data and b"Interview\0" in data


def test_podcast_master_takes_chapters_from_a_project(marked, tmp_path, timbre_cli):
    from engines.audio_io import write_audio

    voice = write_audio(tmp_path / "voice.wav", marked.project.mixdown())
    path = marked.project.path
    marked.project.close()
    out = tmp_path / "ep.m4a"
    run = timbre_cli("podcast", "master", voice, "--project", path, "--max-pause", "0",
                     "--no-denoise", "-o", out)
    assert run.returncode == 0, run.stderr
    assert [t for _, t in chapters_of(out)] == ["Intro", "Interview"]
