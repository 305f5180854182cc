"""``timbre voice clone NAME``: zero-shot Chatterbox when its weights are installed, the
Kokoro style search otherwise, and the command says which and why.

"Installed" is real here: the tiny random Chatterbox checkpoint is imported into a fresh
model store as ``ResembleAI/chatterbox``, so the clone loads it the way it would load the
downloaded weights.
"""

from __future__ import annotations

import pytest


def _voice(tmp_path, name: str, consent: bool = True) -> None:
    from engines.audio_io import write_audio
    from engines.voices.library import open_library
    from tests.voices import material

    lib = open_library()
    lib.add(name, [write_audio(tmp_path / "ref.wav", material.joe(material.SENTENCES[0]))])
    if consent:
        said = write_audio(tmp_path / "consent.wav", material.joe(lib.statement(name).text, 1.1))
        lib.record_consent(name, said, check_phrase=False)


def test_without_chatterbox_weights_it_says_it_falls_back_to_kokoro(tmp_path, capsys):
    from desktop.cli.main import main
    from engines.speech.chatterbox_clone import choose_method

    method, why = choose_method()
    assert method == "kokoro" and "weights not installed" in why
    _voice(tmp_path, "Kim", consent=False)  # refused after the method line: no search runs
    assert main(["voice", "clone", "Kim"]) != 0
    said = capsys.readouterr()
    assert said.out.splitlines()[0] == f"cloning 'Kim' with {why}"
    assert "no consent recording" in said.err


@pytest.fixture
def installed_chatterbox(tmp_path, monkeypatch):
    """The tiny checkpoint installed as ``ResembleAI/chatterbox`` in a fresh model store."""
    from engines import modelstore
    from engines.speech import service
    from engines.speech.chatterbox_engine import REPO_ID
    from engines.speech.chatterbox_tiny import ensure_debug_checkpoint

    folder = ensure_debug_checkpoint()
    monkeypatch.setenv("TIMBRE_MODELS_DIR", str(tmp_path / "store"))
    modelstore.import_folder(folder, REPO_ID)
    monkeypatch.setattr(service, "_ENGINES", {})
    return service._ENGINES


def test_with_weights_installed_the_clone_is_zero_shot_and_spoken_from(
    installed_chatterbox, tmp_path, capsys, monkeypatch
):
    from desktop.cli.main import main
    from engines.speech import service
    from engines.speech.voices import resolve
    from engines.voices.library import open_library

    _voice(tmp_path, "Sam")
    assert main(["voice", "clone", "Sam"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "cloning 'Sam' with zero-shot Chatterbox (ResembleAI/chatterbox is installed)"
    assert lines[1].startswith("cloned 'Sam' zero-shot from its ")
    stored = open_library().get_clone("Sam", "chatterbox")
    assert stored is not None and stored.meta["model_id"] == "ResembleAI/chatterbox"
    from engines.speech.chatterbox_conds import conditionals_model

    assert conditionals_model(stored.data) == "ResembleAI/chatterbox"  # others make their own

    voice = resolve("Sam")  # no --engine: the zero-shot clone speaks
    assert voice.engine == "chatterbox" and voice.fields["conditionals"] == stored.data
    chatterbox = installed_chatterbox["chatterbox"]
    chatterbox._voices.clear()
    monkeypatch.setattr(chatterbox._model, "prepare_conditionals",
                        lambda *a, **k: pytest.fail("conditioned again"))
    take = service.speak("Hello there.", voice, seed=1)
    assert take.provenance.engine == "chatterbox" and take.provenance.voice == "Sam"
    assert take.provenance.consent and take.clip.duration > 0
