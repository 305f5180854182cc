"""``timbre speak --engine chatterbox --model debug --voice NAME``, as a user runs it."""

from __future__ import annotations


def _consented_voice(tmp_path, name: str = "Sam") -> None:
    from engines.audio_io import write_audio
    from engines.voices.library import open_library
    from tests.voices import material

    lib = open_library()
    lib.add(name, [write_audio(tmp_path / "ref.wav", material.joe(material.SENTENCES[0]))])
    said = write_audio(tmp_path / "consent.wav", material.joe(lib.statement(name).text, 1.1))
    lib.record_consent(name, said, check_phrase=False)


def test_speak_with_the_debug_model_as_a_library_voice(timbre_cli, tmp_path):
    from engines.audio_io import read_audio
    from engines.tags import read_tags

    _consented_voice(tmp_path)
    out = tmp_path / "sam.wav"
    done = timbre_cli("speak", "Hello there. How are you today?", "--engine", "chatterbox",
                      "--model", "debug", "--voice", "Sam", "--seed", "1", "-o", out)
    assert done.returncode == 0, done.stderr
    assert "debug model is a tiny random model" in done.stderr
    assert "Sampling" not in done.stderr  # the package's own progress bar is off
    assert done.stdout.strip() == f"wrote {out}"  # nothing else (perth prints a banner)
    clip = read_audio(out)
    assert clip.sample_rate == 24_000 and clip.duration > 1.0
    prov = read_tags(out).provenance["takes"][0]
    assert prov["engine"] == "chatterbox" and prov["model_id"] == "timbre/chatterbox-debug"
    assert prov["voice"] == "Sam" and prov["consent"] and prov["watermarked"]


def test_model_needs_the_chatterbox_engine(timbre_cli, tmp_path):
    done = timbre_cli("speak", "Hi.", "--model", "debug", "-o", tmp_path / "x.wav")
    assert done.returncode != 0 and "--engine chatterbox" in done.stderr
    assert not (tmp_path / "x.wav").exists()
