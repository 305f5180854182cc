"""Chatterbox speaking for real, with the tiny random checkpoint (``--model debug``).

The checkpoint is built once into the test model store from the package's own classes and
loaded through ``ChatterboxTTS.from_local``; every test here runs the package's networks.
Its audio is noise: these tests check plumbing (consent, seeds, progress, cancel, chunks,
the watermark, emotion), not how it sounds.
"""

from __future__ import annotations

import numpy as np
import pytest

from engines.cancel import CancelToken
from engines.errors import Cancelled
from engines.speech.request import SpeechRequest

TEXT = "Hello there, this is a test."
SAMPLES_PER_TOKEN = 24_000 // 25  # S3Gen: 25 speech tokens a second at 24 kHz


@pytest.fixture(scope="module")
def engine():
    from engines.registry import create

    chatterbox = create("chatterbox", model="debug")
    chatterbox.load()
    return chatterbox


@pytest.fixture
def sam(tmp_path):
    """A library voice with consent (recorded with joe's Piper voice)."""
    from engines.audio_io import write_audio
    from engines.voices.library import open_library
    from tests.voices import material

    lib = open_library()
    lib.add("Sam", [write_audio(tmp_path / "ref.wav", material.joe(material.SENTENCES[0]))])
    said = write_audio(tmp_path / "consent.wav", material.joe(lib.statement("Sam").text, 1.1))
    lib.record_consent("Sam", said, check_phrase=False)
    return lib


def _count_t3_steps(engine, monkeypatch) -> list[int]:
    """Counts T3 backbone calls (one per speech token) per chunk."""
    calls: list[int] = []
    t3 = engine._model.t3
    real = t3.inference

    def counted(**kw):
        calls.append(0)
        hook = t3.tfmr.register_forward_hook(lambda *_: calls.__setitem__(-1, calls[-1] + 1))
        try:
            return real(**kw)
        finally:
            hook.remove()

    monkeypatch.setattr(t3, "inference", counted)
    return calls


def test_debug_checkpoint_is_the_released_layout_and_is_reused(engine):
    import torch
    from chatterbox.tts import Conditionals

    from engines.speech.chatterbox_engine import REQUIRED, verify_checkpoint
    from engines.speech.chatterbox_tiny import ensure_debug_checkpoint

    folder = ensure_debug_checkpoint()
    assert engine._folder == folder
    assert all((folder / name).is_file() for name in (*REQUIRED, "conds.pt"))
    verify_checkpoint(folder)  # safetensors holding each network's keys
    Conditionals.load(folder / "conds.pt")  # weights_only=True inside the package
    torch.load(folder / "conds.pt", weights_only=True)
    stamp = (folder / "s3gen.safetensors").stat().st_mtime_ns
    assert ensure_debug_checkpoint() == folder
    assert (folder / "s3gen.safetensors").stat().st_mtime_ns == stamp  # not built again
    assert engine.model_id == "timbre/chatterbox-debug" and engine.model_version() == "debug-v1"


def test_a_chunk_stops_at_the_token_cap(engine, monkeypatch):
    steps = _count_t3_steps(engine, monkeypatch)
    audio = engine.raw(TEXT, SpeechRequest(TEXT, seed=1))
    # random weights never sample the stop token: the cap (plus the prompt pass) ends it
    assert steps == [engine.max_new_tokens + 1]
    assert 0 < len(audio) <= engine.max_new_tokens * SAMPLES_PER_TOKEN
    assert np.all(np.isfinite(audio)) and np.abs(audio).max() > 0


def test_same_seed_same_audio_other_seed_other_audio(engine):
    first = engine.raw(TEXT, SpeechRequest(TEXT, seed=7))
    again = engine.raw(TEXT, SpeechRequest(TEXT, seed=7))
    other = engine.raw(TEXT, SpeechRequest(TEXT, seed=8))
    np.testing.assert_array_equal(first, again)
    assert len(other) != len(first) or not np.array_equal(other, first)


def test_speaks_a_consented_library_voice_cloned_from_its_reference(engine, sam, monkeypatch):
    from engines.speech import service
    from engines.speech.voices import resolve

    voice = resolve("Sam", "chatterbox")
    reference = voice.fields["reference"]
    assert voice.engine == "chatterbox" and reference.duration > 1.0
    seen = []
    real = engine._model.prepare_conditionals
    monkeypatch.setattr(
        engine._model, "prepare_conditionals", lambda path, **kw: seen.append(path) or real(path, **kw)
    )
    monkeypatch.setitem(service._ENGINES, "chatterbox", engine)
    take = service.speak(TEXT, voice, seed=3)
    assert len(seen) == 1  # conditioned on Sam's reference, once
    assert take.provenance.voice == "Sam" and take.provenance.consent["similarity"] is not None
    assert take.provenance.engine == "chatterbox" and take.provenance.seed == 3
    builtin = engine.generate(SpeechRequest(TEXT, seed=3))[0]
    assert not np.array_equal(builtin.clip.samples, take.clip.samples)  # another voice
    again = service.speak(TEXT, voice, seed=3)
    assert len(seen) == 1  # the same reference is not conditioned on again
    np.testing.assert_array_equal(again.clip.samples, take.clip.samples)


def test_a_library_voice_without_consent_is_refused(tmp_path):
    from engines.audio_io import write_audio
    from engines.speech.voices import resolve
    from engines.voices.consent import ConsentRequired
    from engines.voices.library import open_library
    from tests.voices import material

    lib = open_library()
    lib.add("Kim", [write_audio(tmp_path / "ref.wav", material.joe(material.SENTENCES[1]))])
    with pytest.raises(ConsentRequired, match="consent"):
        resolve("Kim", "chatterbox")


def test_progress_reaches_every_token_and_cancel_stops_within_one(engine, monkeypatch):
    steps = _count_t3_steps(engine, monkeypatch)
    reports = []
    engine.generate(SpeechRequest(TEXT, seed=2), progress=reports.append)
    speaking = [p for p in reports if p.stage == "speaking"]
    assert len(speaking) >= engine.max_new_tokens  # one report per speech token at least
    done = [p.done for p in speaking]
    assert done == sorted(done) and done[-1] == speaking[-1].total == len(TEXT)

    steps.clear()
    cancel = CancelToken()
    seen = []

    def progress(p):
        seen.append(p)
        if len(seen) == 10:
            cancel.cancel()

    with pytest.raises(Cancelled):
        engine.generate(SpeechRequest(TEXT, seed=2), progress=progress, cancel=cancel)
    assert len(steps) == 1 and steps[0] <= len(seen)  # stopped at the next token


def test_long_text_is_spoken_sentence_by_sentence(engine, monkeypatch):
    steps = _count_t3_steps(engine, monkeypatch)
    text = "The first sentence is here. A second one follows it! And is there a third?"
    take = engine.generate(SpeechRequest(text, seed=4))[0]
    assert len(steps) == 3 and take.provenance.params["chunks"] >= 3
    assert take.clip.duration > 2 * engine.max_new_tokens / 25 * 0.5


def test_watermarked_once_and_the_detector_confirms_it(engine, monkeypatch):
    import engines.watermark as wm

    def perth_inside_chatterbox(*_a, **_k):
        raise AssertionError("Chatterbox's own watermark must not run: finalize_take marks")

    monkeypatch.setattr(engine._model.watermarker, "apply_watermark", perth_inside_chatterbox)
    embeds = []
    real = wm.embed
    monkeypatch.setattr(wm, "embed", lambda clip: embeds.append(1) or real(clip))
    take = engine.generate(SpeechRequest(TEXT, seed=5))[0]
    assert len(embeds) == 1
    assert take.provenance.watermarked
    assert wm.detect(take.clip).present


@pytest.mark.parametrize(("emotion", "exaggeration"), [("excited", 0.9), ("calm", 0.3)])
def test_emotion_drives_exaggeration(engine, monkeypatch, emotion, exaggeration):
    used = []
    t3 = engine._model.t3
    real = t3.inference

    def spy(**kw):
        used.append(float(kw["t3_cond"].emotion_adv[0, 0, 0]))
        return real(**kw)

    monkeypatch.setattr(t3, "inference", spy)
    engine.raw(TEXT, SpeechRequest(TEXT, emotion=emotion, seed=6))
    assert used == [pytest.approx(exaggeration)]
