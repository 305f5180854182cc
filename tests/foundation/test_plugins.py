"""An engine from another package (an entry point in ``timbre.engines``) is one file: it
shows in ``timbre engines``, gets command-line flags from its request, and runs through the
same job path into a project; a broken plug-in is listed with its reason."""

from __future__ import annotations

import os

import soundfile as sf

from desktop.project.store import Project
from tests.conftest import REPO

PLUGIN_DIR = REPO / "tests" / "foundation" / "plugin_fixture"


def test_a_plugin_engine_is_listed_gets_flags_and_runs(timbre_cli, tmp_path):
    env = {"PYTHONPATH": os.pathsep.join([str(PLUGIN_DIR), str(REPO)])}
    listed = timbre_cli("engines", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "tone-plugin" in listed.stdout and "Tone (plug-in)" in listed.stdout
    broken = next(line for line in listed.stdout.splitlines() if line.startswith("broken-plugin"))
    assert "unavailable" in broken and "could not be loaded" in broken

    speak_help = timbre_cli("speak", "--help", env=env)
    assert "tone-plugin" not in speak_help.stdout  # an sfx engine is no --engine choice there
    assert "chatterbox" in speak_help.stdout  # the speech engines come from the registry

    helped = timbre_cli("run", "tone-plugin", "--help", env=env)
    assert "--pitch-hz" in helped.stdout and "Pitch of the tone in Hz. (50 to 2000)" in helped.stdout
    assert "{sine,square}" in helped.stdout

    Project.create(tmp_path / "p").close()
    out = tmp_path / "tone.wav"
    ran = timbre_cli("run", "tone-plugin", "--text", "beep", "--pitch-hz", "330", "--shape",
                     "square", "-o", out, "--project", tmp_path / "p.timbre", env=env)
    assert ran.returncode == 0, ran.stderr
    assert sf.info(str(out)).samplerate == 16_000
    with Project.open(tmp_path / "p.timbre") as p:
        (take,) = p.takes()
        assert take.engine == "tone-plugin" and take.provenance["params"]["pitch_hz"] == 330.0
        assert p.load_audio(take.audio_sha256).sample_rate == 48_000  # the project's format
        assert len(p.clips()) == 1 and p.job(take.job_id).state == "done"

    bad = timbre_cli("run", "tone-plugin", "--shape", "triangle", "-o", out, env=env)
    assert bad.returncode != 0 and "invalid choice" in bad.stderr
