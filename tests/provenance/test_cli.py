"""``timbre detect``, ``export`` tags, ``watermark`` and ``regenerate``, run as a user would.

One test runs the real ``timbre`` process; the rest call the same ``main(argv)`` in this
process, so the perth model loaded for the session is not loaded again per command.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from desktop.cli.main import main
from engines.provenance import Provenance
from engines.tags import provenance_document, read_tags, write_tagged


@pytest.fixture
def timbre(capsys):
    """``timbre ARGS`` in this process: returncode, stdout, stderr."""

    def run(*args):
        code = main([str(a) for a in args])
        out = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out.out, stderr=out.err)

    return run


@pytest.fixture(scope="module")
def files(tmp_path_factory, marked_speech, speech):
    folder = tmp_path_factory.mktemp("detect")
    marked = write_tagged(
        folder / "marked.mp3", marked_speech.clip, provenance_document([marked_speech.provenance.to_dict()])
    )
    clean = write_tagged(folder / "clean.flac", speech, provenance_document([]))
    broken = folder / "broken.wav"
    broken.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt ")
    return marked, clean, broken


def test_detect_reports_mark_and_provenance_and_exits_0(timbre_cli, files):
    """The real entry point, as a subprocess: clean stdout, nothing on stderr."""
    marked, _, _ = files
    r = timbre_cli("detect", marked)
    assert r.returncode == 0, r.stderr
    assert f"{marked}: watermark present (score 1.00)" in r.stdout
    assert "piper  en_US-joe-medium" in r.stdout and "seed 7" in r.stdout
    assert r.stderr == ""


def test_detect_exits_1_when_any_file_is_unmarked(timbre, files):
    marked, clean, _ = files
    r = timbre("detect", "--json", marked, clean)
    assert r.returncode == 1, r.stderr
    first, second = (json.loads(line) for line in r.stdout.splitlines())
    assert first["verdict"] == "present" and first["provenance"]["takes"][0]["seed"] == 7
    assert second["verdict"] == "absent" and second["score"] < 0.5
    assert second["provenance"]["takes"] == []


def test_detect_exits_2_on_unreadable_input(timbre, files, tmp_path):
    _, _, broken = files
    r = timbre("detect", broken, tmp_path / "missing.wav")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("timbre: ") for line in lines)
    assert "missing.wav does not exist" in lines[1]


def test_export_tags_and_marks_the_mix_and_the_project_setting_turns_it_off(
    timbre, tmp_path, marked_speech, speech
):
    from desktop.project.store import Project

    clean_file = tmp_path / "interview.wav"
    write_tagged(clean_file, speech.scaled(0.5), provenance_document([]))
    with Project.create(tmp_path / "show") as p:
        _, track, _ = p.import_file(clean_file)
        p.add_take(marked_speech.clip, "joe", "speech", marked_speech.provenance,
                   place_on_track=track.id, at_frame=p.sample_rate * 5)
    project = tmp_path / "show.timbre"

    r = timbre("export", project, "-o", tmp_path / "mix.ogg")
    assert r.returncode == 0, r.stderr
    r = timbre("detect", tmp_path / "mix.ogg")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "mixdown of 2 take(s)" in r.stdout and '1. import "interview"' in r.stdout
    doc = read_tags(tmp_path / "mix.ogg").provenance
    assert doc["kind"] == "mixdown" and doc["project"] == "show" and doc["watermarked"] is True
    assert Provenance.from_dict(doc["takes"][1]) == marked_speech.provenance

    r = timbre("watermark", project, "off")
    assert r.stdout.strip() == "watermarking in show: off (project setting)"
    assert timbre("export", project, "-o", tmp_path / "plain.wav").returncode == 0
    assert read_tags(tmp_path / "plain.wav").provenance["watermarked"] is False
    r = timbre("watermark", project, "default")
    assert r.stdout.strip() == "watermarking in show: on (user setting)"


def test_regenerate_a_speech_take_gives_identical_audio_and_the_setting_applies(timbre, tmp_path):
    """espeak-ng is deterministic, so its take (watermark included) comes back bit for bit."""
    from desktop.project.store import Project

    project = tmp_path / "talk.timbre"
    assert timbre("project", "new", project).returncode == 0
    r = timbre("speak", "Provenance makes this take reproducible.", "--engine", "espeak",
                   "--project", project)
    assert r.returncode == 0, r.stderr
    r = timbre("regenerate", project, "1")
    assert r.returncode == 0, r.stderr
    assert "as take 2" in r.stdout and "audio identical to the original" in r.stdout
    with Project.open(project) as p:
        first, second = p.takes()
        a, b = p.load_audio(first.audio_sha256), p.load_audio(second.audio_sha256)
        assert a.samples.shape == b.samples.shape and (a.samples == b.samples).all()
        assert second.watermarked and second.engine == "espeak"

    # The project's setting reaches the engine: off here, so the next take is not marked.
    assert timbre("watermark", project, "off").returncode == 0
    r = timbre("speak", "Unmarked by choice.", "--engine", "espeak", "--project", project)
    assert r.returncode == 0, r.stderr
    with Project.open(project) as p:
        third = p.takes()[2]
        assert third.watermarked is False and third.provenance["watermark_score"] is None


def test_regenerate_refuses_an_imported_take(timbre, tmp_path, speech):
    from desktop.project.store import Project

    wav = write_tagged(tmp_path / "voice.wav", speech, provenance_document([]))
    with Project.create(tmp_path / "imp") as p:
        p.import_file(wav)
    r = timbre("regenerate", tmp_path / "imp.timbre", "1")
    assert r.returncode == 1
    assert "was imported, not generated" in r.stderr


def test_regenerate_a_piper_take_gives_identical_audio(timbre, tmp_path):
    """Piper draws noise inside its ONNX graph; the take's seed seeds a fresh session, so
    the take comes back bit for bit too."""
    from desktop.project.store import Project

    project = tmp_path / "piper.timbre"
    assert timbre("project", "new", project).returncode == 0
    r = timbre("speak", "Every take can be made again.", "--engine", "piper", "--project", project)
    assert r.returncode == 0, r.stderr
    r = timbre("regenerate", project, "1")
    assert r.returncode == 0, r.stderr
    assert "audio identical to the original" in r.stdout
    with Project.open(project) as p:
        first, second = p.takes()
        a, b = p.load_audio(first.audio_sha256), p.load_audio(second.audio_sha256)
        assert a.samples.shape == b.samples.shape and (a.samples == b.samples).all()
