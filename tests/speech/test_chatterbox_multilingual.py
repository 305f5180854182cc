"""Chatterbox Multilingual speaking for real, on its tiny random checkpoint (``--model debug``).

The checkpoint is built from the package's own classes in the released multilingual layout
(``t3_mtl23ls_v2.safetensors``, ``ve.pt``, ``s3gen.pt``, the grapheme tokenizer,
``conds.pt``) and loaded by ``ChatterboxMultilingualTTS.from_local``; T3 runs with the
package's alignment analyzer. Its audio is noise: these tests check the plumbing.
"""

from __future__ import annotations

import numpy as np
import pytest

from engines.errors import BadInput
from engines.speech.request import SpeechRequest

TEXT = "Bonjour, comment ça va ?"


@pytest.fixture(scope="module")
def engine():
    from engines.registry import create

    mtl = create("chatterbox-multilingual", model="debug")
    mtl.load()
    return mtl


def _consented_voice(tmp_path, name: str = "Sam", consent: bool = True) -> None:
    from engines.audio_io import write_audio
    from engines.voices.library import open_library
    from tests.voices import material

    lib = open_library()
    lib.add(name, [write_audio(tmp_path / "ref.wav", material.joe(material.SENTENCES[0]))])
    if consent:
        said = write_audio(tmp_path / "consent.wav", material.joe(lib.statement(name).text, 1.1))
        lib.record_consent(name, said, check_phrase=False)


def test_loaded_from_the_released_multilingual_layout(engine):
    from engines.speech.chatterbox_multilingual import REQUIRED
    from engines.speech.chatterbox_tiny import ensure_debug_checkpoint

    folder = ensure_debug_checkpoint("multilingual")
    assert engine._folder == folder and all((folder / n).is_file() for n in (*REQUIRED, "conds.pt"))
    assert type(engine._model).__name__ == "ChatterboxMultilingualTTS"
    assert engine._model.t3.hp.is_multilingual  # the 2,454-token text vocabulary
    assert engine.model_id == "timbre/chatterbox-multilingual-debug"
    assert len(engine.languages()) == 23 and "fr" in engine.languages()


def test_the_language_tag_reaches_t3_and_the_same_seed_gives_the_same_audio(engine, monkeypatch):
    vocab = engine._model.tokenizer.tokenizer
    for given, code in (("fr", "fr"), ("fr-FR", "fr"), ("pt_BR", "pt"), ("nb", "no")):
        tokens = engine._text_tokens("Bonjour.", given)
        assert int(tokens[0, 0]) == vocab.token_to_id(f"[{code}]")
    t3 = engine._model.t3
    seen = []
    real = t3.inference
    monkeypatch.setattr(t3, "inference", lambda **kw: seen.append(kw["text_tokens"]) or real(**kw))
    layers = t3.tfmr.layers
    first = engine.raw("Hallo.", SpeechRequest("Hallo.", seed=7, language="de"))
    again = engine.raw("Hallo.", SpeechRequest("Hallo.", seed=7, language="de"))
    other = engine.raw("Hallo.", SpeechRequest("Hallo.", seed=8, language="de"))
    # [START] [de] text… [STOP], for the conditional and the unconditional (CFG) rows
    assert [int(t) for t in seen[0][:, 1]] == [vocab.token_to_id("[de]")] * 2
    assert int(seen[0][0, 0]) == t3.hp.start_text_token and int(seen[0][0, -1]) == t3.hp.stop_text_token
    np.testing.assert_array_equal(first, again)
    assert len(other) != len(first) or not np.array_equal(other, first)
    assert np.all(np.isfinite(first)) and np.abs(first).max() > 0
    # the package's alignment analyzer hooks three attention layers a call; none are left
    assert sum(len(layer.self_attn._forward_hooks) for layer in layers) == 0


def test_an_unknown_language_is_refused_in_one_line(engine):
    with pytest.raises(BadInput, match=r"does not speak 'xx'; use one of its 23 languages: ar, "):
        engine.generate(SpeechRequest(TEXT, language="xx"))


def test_a_library_voice_without_consent_is_refused(tmp_path):
    from engines.speech.voices import resolve
    from engines.voices.consent import ConsentRequired

    _consented_voice(tmp_path, "Kim", consent=False)
    with pytest.raises(ConsentRequired, match="consent"):
        resolve("Kim", "chatterbox-multilingual")


def test_speak_french_as_a_consented_library_voice(engine, tmp_path, capsys, monkeypatch):
    """``timbre speak "Bonjour…" --engine chatterbox-multilingual --model debug --voice Sam
    --language fr`` (in this process, on the loaded engine), then with a language it lacks."""
    from desktop.cli.main import main
    from engines.audio_io import read_audio
    from engines.speech import service
    from engines.tags import read_tags

    monkeypatch.setitem(service._ENGINES, "chatterbox-multilingual:debug", engine)
    _consented_voice(tmp_path)
    out = tmp_path / "sam.wav"
    args = ["speak", "Bonjour, comment allez-vous ?", "--engine", "chatterbox-multilingual",
            "--model", "debug", "--voice", "Sam", "--seed", "1"]
    assert main([*args, "--language", "fr", "-o", str(out)]) == 0
    said = capsys.readouterr()
    assert said.out.strip() == f"wrote {out}" and "Sampling" not in said.err
    assert read_audio(out).sample_rate == 24_000
    prov = read_tags(out).provenance["takes"][0]
    assert prov["engine"] == "chatterbox-multilingual" and prov["params"]["language"] == "fr"
    assert prov["model_id"] == "timbre/chatterbox-multilingual-debug"
    assert prov["voice"] == "Sam" and prov["consent"] and prov["watermarked"]

    bad = tmp_path / "bad.wav"
    assert main([*args, "--language", "xx", "-o", str(bad)]) != 0
    said = capsys.readouterr()
    lines = [line for line in said.err.splitlines() if line.strip() and "debug model" not in line]
    assert len(lines) == 1 and "does not speak 'xx'" in lines[0], said.err
    assert not bad.exists()
