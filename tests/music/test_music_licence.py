"""A debug MusicGen take made by ``timbre music`` carries its model's licence (issue 18)."""

from __future__ import annotations

from desktop.project.store import Project
from engines import licences
from engines.tags import read_tags


def test_debug_music_take_carries_its_licence(timbre_cli, tmp_path, debug_hub):
    project = tmp_path / "P.timbre"
    assert timbre_cli("project", "new", project).returncode == 0
    out = tmp_path / "out"
    out.mkdir()
    r = timbre_cli("music", "x", "--model", "debug", "--duration", "0.5", "--project", project,
                   "-o", out, "--no-watermark")
    assert r.returncode == 0, r.stderr
    expected = licences.licence_for("musicgen", "timbre/musicgen-debug")
    assert expected == "MIT"
    tags = read_tags(next(out.glob("*.wav")))
    assert tags.provenance["takes"][0]["licence"] == expected
    assert "model licence: MIT" in tags.fields["comment"]
    with Project.open(project) as p:
        assert p.takes()[0].provenance["licence"] == expected
