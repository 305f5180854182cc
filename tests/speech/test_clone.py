"""Style search: a tiny real search (real Kokoro, real Resemblyzer), cancel, consent gate,
and the WORLD post-process a clone carries into timbre speak.

The long search that reaches the issue's similarity goal runs in make bench-voice.
"""

from __future__ import annotations

import numpy as np
import pytest

from engines.cancel import CancelToken
from engines.errors import Cancelled
from engines.speech.clone import CloneSettings, search_style, word_error_rate
from engines.speech.request import SpeechRequest

SHORT = "Please bring the red box to the kitchen before dinner."
TINY = CloneSettings(
    budget_s=120,
    max_candidates=2,
    check_intelligibility=False,
    start_voices=("jf_alpha", "jm_kumo"),
    scoring=("Good morning to you, my friend.",),
    fit=(),
    held_out=("The garden looks lovely today.",),
    post_process=False,  # fitted in its own test below
)


@pytest.fixture(scope="module")
def target(espeak):
    from engines.audio import AudioClip
    from engines.voices.embedding import embed

    text = "Hello, this is the reference voice. It reads a few short sentences."
    audio = espeak.raw(text, SpeechRequest(text, voice="en-us+m3"))
    return embed(AudioClip(audio, espeak.sample_rate))


def test_tiny_style_search_starts_from_nearest_shipped_style_and_never_gets_worse(kokoro, target):
    result = search_style(kokoro, target, TINY)
    assert result.nearest in ("jf_alpha", "jm_kumo")
    assert np.array_equal(result.base_style, kokoro.styles[result.nearest])
    assert result.candidates == 2
    assert result.style.shape == (510, 256)
    # whatever the start (a shipped style, a mix, a prosody swap), the search adds one
    # offset to every row, so the clone speaks any sentence length
    a, k = kokoro.styles["jf_alpha"], kokoro.styles["jm_kumo"]
    starts = [a, k, (a + k) / 2, np.concatenate([a[:, :128], k[:, 128:]], axis=1),
              np.concatenate([k[:, :128], a[:, 128:]], axis=1)]
    offsets = [result.style - s for s in starts]
    assert any(np.allclose(d, d[0], atol=1e-5) for d in offsets)
    assert -1.0 <= result.similarity <= 1.0 and -1.0 <= result.start_similarity <= 1.0
    if result.post is None:
        assert result.similarity == result.style_similarity
    else:  # a fitted shift is kept only when it beat the plain voice on the fitting sentences
        assert result.post.warp in (0.88, 0.94, 1.0, 1.06, 1.12)
    assert result.meta()["world"] == (None if result.post is None else result.post.as_dict())


def test_style_search_cancels_between_candidates(kokoro, target):
    token = CancelToken()
    seen = []

    def progress(p):
        seen.append(p.stage)
        if "searching" in p.stage:
            token.cancel()

    with pytest.raises(Cancelled):
        settings = CloneSettings(**{**TINY.__dict__, "max_candidates": 50,
                                    "start_voices": ("jf_alpha",)})
        search_style(kokoro, target, settings, progress, token)
    assert any("searching" in s for s in seen)


def test_word_error_rate():
    assert word_error_rate("the red box", "The red box.") == 0.0
    assert word_error_rate("the red box", "the bed box") == pytest.approx(1 / 3)
    assert word_error_rate("the red box", "red box") == pytest.approx(1 / 3)


def test_clone_command_needs_a_library_voice_with_consent(timbre_cli):
    out = timbre_cli("voice", "clone", "Nobody", "--budget", "5")
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and "Nobody" in out.stderr


def test_world_shift_moves_pitch_and_formants_by_the_fixed_amounts(kokoro):
    from engines.speech.prosody import median_f0, semitones
    from engines.speech.world_convert import WorldShift, _analyse, _envelope, best_warp, convert

    rate = kokoro.sample_rate
    plain = kokoro.raw(SHORT, SpeechRequest(SHORT, voice="jf_alpha"))
    shifted = convert(plain, rate, WorldShift(pitch=-4.0, warp=0.9))
    assert len(shifted) == len(plain)
    assert abs(semitones(median_f0(shifted, rate), median_f0(plain, rate)) + 4.0) < 0.5

    def envelope(x):
        a = _analyse(x, rate)
        return _envelope(a.sp, a.f0, rate)

    # best_warp(a, b) is the scale that turns a's envelope into b's
    assert abs(best_warp(envelope(plain), envelope(shifted)) - 0.9) < 0.03


def test_post_process_fit_finds_the_shift_that_made_the_target(kokoro):
    """A target made by shifting the clone's own speech is matched by that shift, not by none."""
    from engines.audio import AudioClip
    from engines.speech.clone import fit_post_process
    from engines.speech.world_convert import WorldShift, convert
    from engines.voices.embedding import cosine, embed

    rate = kokoro.sample_rate
    audio = kokoro.raw(SHORT, SpeechRequest(SHORT, voice="jf_alpha"))
    made = convert(audio, rate, WorldShift(pitch=0.0, warp=0.88))
    target = embed(AudioClip(made, rate))
    post, score = fit_post_process(audio, rate, target, None, warps=(0.88, 1.0, 1.12))
    assert post == WorldShift(pitch=0.0, warp=0.88)
    assert score > cosine(embed(AudioClip(audio, rate)), target) + 0.01


def test_cloned_voice_speaks_with_its_saved_post_process(kokoro, tmp_path):
    """What timbre speak --voice NAME does with a clone whose search fitted a WORLD shift."""
    from engines.audio_io import write_audio
    from engines.speech import service
    from engines.speech.prosody import median_f0, semitones
    from engines.speech.voices import CLONE_KIND, resolve
    from engines.speech.world_convert import WorldShift
    from engines.voices.library import open_library
    from tests.voices import material

    lib = open_library()
    lib.add("Sam", [write_audio(tmp_path / "ref.wav", material.joe(" ".join(material.SENTENCES[:2])))])
    lib.statement("Sam")
    said = write_audio(tmp_path / "consent.wav", material.joe(lib.statement("Sam").text, 1.1))
    lib.record_consent("Sam", said, check_phrase=False)
    style = kokoro.styles["jf_alpha"]
    lib.set_clone("Sam", CLONE_KIND, style, {"base": "jf_alpha", "world": {"pitch": -5.0, "warp": 0.94}})

    voice = resolve("Sam")
    assert voice.engine == "kokoro" and voice.fields["convert_toward"] == WorldShift(-5.0, 0.94)
    take = service.speak(SHORT, voice, seed=0)
    plain = service.speak(SHORT, resolve("jf_alpha"), seed=0)
    rate = take.clip.sample_rate
    moved = semitones(median_f0(take.clip.samples[0], rate), median_f0(plain.clip.samples[0], rate))
    assert abs(moved + 5.0) < 0.75
    assert take.provenance.params["clone_world"] == {"pitch": -5.0, "warp": 0.94}


def test_cloned_voice_speaks_with_its_saved_equaliser(kokoro, tmp_path):
    """A clone whose search kept a spectral equaliser (meta["eq"]) speaks through it, after
    its WORLD shift when it has one, and the take records it."""
    from engines.audio_io import write_audio
    from engines.speech import service
    from engines.speech.spectral_eq import SpectralEq, band_centres, long_term_spectrum
    from engines.speech.voices import CLONE_KIND, resolve
    from engines.speech.world_convert import WorldShift
    from engines.voices.library import open_library
    from tests.voices import material

    lib = open_library()
    lib.add("Sam", [write_audio(tmp_path / "ref.wav", material.joe(" ".join(material.SENTENCES[:2])))])
    said = write_audio(tmp_path / "consent.wav", material.joe(lib.statement("Sam").text, 1.1))
    lib.record_consent("Sam", said, check_phrase=False)
    centres = band_centres()
    db = np.clip(4.0 * np.log2(centres / 1000.0), -8, 8)
    eq = SpectralEq(tuple(centres), tuple(db - db.mean()))
    style = kokoro.styles["jf_alpha"]
    world = {"pitch": -2.0, "warp": 1.0}
    lib.set_clone("Sam", CLONE_KIND, style, {"base": "jf_alpha", "world": world, "eq": eq.as_dict()})
    both = resolve("Sam")
    assert both.fields["convert_toward"] == (WorldShift(-2.0, 1.0), SpectralEq.from_dict(eq.as_dict()))

    lib.set_clone("Sam", CLONE_KIND, style, {"base": "jf_alpha", "eq": eq.as_dict()})
    voice = resolve("Sam")
    take = service.speak(SHORT, voice, seed=0)
    plain = service.speak(SHORT, resolve("jf_alpha"), seed=0)
    assert take.provenance.params["clone_eq"] == eq.as_dict()
    rate = take.clip.sample_rate
    moved = long_term_spectrum(take.clip.samples[0], rate, centres) - long_term_spectrum(
        plain.clip.samples[0], rate, centres
    )
    assert np.max(np.abs(moved - (db - db.mean()))[1:-1]) < 1.5


def _espeak_voice(name: str, tmp_path, variant: str = "en-us+m3"):
    """A library voice whose reference and consent are espeak-ng speech (a voice that is
    not Kokoro's), consent given."""
    from engines.audio_io import write_audio
    from engines.voices.library import open_library
    from tests.voices import material

    lib = open_library()
    ref = material.espeak(" ".join(material.SENTENCES[:3]), variant)
    lib.add(name, [write_audio(tmp_path / "ref.wav", ref)])
    said = write_audio(tmp_path / "consent.wav", material.espeak(lib.statement(name).text, variant))
    lib.record_consent(name, said, check_phrase=False)
    return lib


QUICK_OTHER = CloneSettings(
    budget_s=20,  # the engine voices take it all: the Kokoro search is skipped
    other_bases=1,
    check_intelligibility=False,  # Whisper's gate is exercised by the benchmark
    scoring=("Good morning to you, my friend.",),
    fit=(),
    held_out=("The garden looks lovely today.",),
)


def test_clone_of_an_espeak_voice_speaks_through_another_engines_voice(tmp_path):
    """Excluding the exact variant the reference was made from, the clone still picks
    another engine's voice (not Kokoro), records it, and timbre speak speaks through it."""
    import dataclasses

    from engines.speech import service
    from engines.speech.clone import clone_voice
    from engines.speech.voices import CLONE_KIND, resolve

    lib = _espeak_voice("Esme", tmp_path)
    seen = []
    settings = dataclasses.replace(QUICK_OTHER, exclude_bases=("en-us+m3",))
    result = clone_voice("Esme", settings, progress=lambda p: seen.append(p.stage))
    assert result.engine in ("piper", "espeak") and result.voice != "en-us+m3"
    assert any("comparing espeak voice" in s for s in seen) and seen[-1] == "done"
    assert not any(t["voice"] == "en-us+m3" for t in result.tried)

    stored = lib.get_clone("Esme", CLONE_KIND)
    assert stored.meta["engine"] == result.engine and stored.meta["voice"] == result.voice
    assert stored.data.shape == (510, 256)  # the slot still holds a Kokoro table

    voice = resolve("Esme")
    assert voice.engine == result.engine
    if result.engine == "espeak":
        assert voice.fields["voice"] == result.voice
    take = service.speak(SHORT, voice, seed=0)
    assert take.provenance.engine == result.engine
    assert take.provenance.params["clone_voice"] == result.voice
    assert take.provenance.params["library_voice"] == "Esme"


def test_clone_through_a_removed_piper_voice_or_another_engine_is_refused_in_one_sentence(tmp_path):
    from engines.errors import BadInput
    from engines.speech.voices import CLONE_KIND, resolve

    lib = _espeak_voice("Esme", tmp_path)
    table = np.zeros((510, 256), np.float32)
    lib.set_clone("Esme", CLONE_KIND, table, {"engine": "espeak", "voice": "en-us+f3"})
    with pytest.raises(BadInput) as refused:
        resolve("Esme", "kokoro")
    assert "espeak-ng voice 'en-us+f3'" in str(refused.value) and "--engine espeak" in str(refused.value)
    assert resolve("Esme", "espeak").fields["voice"] == "en-us+f3"

    lib.set_clone("Esme", CLONE_KIND, table, {"engine": "piper", "voice": "en_GB-gone-medium"})
    with pytest.raises(BadInput) as gone:
        resolve("Esme")
    message = str(gone.value)
    assert "en_GB-gone-medium" in message and "no longer in the model store" in message
    assert message.count(". ") == 0 and "import it again" in message

    lib.set_clone("Esme", CLONE_KIND, table, {"engine": "piper", "voice": "joe"})
    assert resolve("Esme").engine == "piper" and resolve("Esme").fields["voice"] == "joe"


def test_clone_reference_cancels_while_comparing_the_other_engines_voices(target):
    from engines.speech.clone import clone_reference

    token = CancelToken()
    seen = []

    def progress(p):
        seen.append(p.stage)
        if "comparing espeak voice" in p.stage:
            token.cancel()

    with pytest.raises(Cancelled):
        clone_reference(target, QUICK_OTHER, progress, token)
    assert not any("Kokoro" in s for s in seen)


def test_a_piper_clone_is_spoken_as_it_was_judged(piper, tmp_path):
    """The clone is fitted and judged on Piper's own audio plus its WORLD shift; spoken, its
    neutral takes are not re-voiced before that shift (two WORLD resyntheses in a row cost a
    joe clone 0.19 of its held-out similarity)."""
    from engines.audio import AudioClip
    from engines.speech import service
    from engines.speech.clone import _say, post_processed
    from engines.speech.voices import CLONE_KIND, resolve
    from engines.speech.world_convert import WorldShift
    from engines.voices.embedding import cosine, embed

    lib = _espeak_voice("Esme", tmp_path)
    world = {"pitch": 3.0, "warp": 1.12}
    lib.set_clone("Esme", CLONE_KIND, np.zeros((510, 256), np.float32),
                  {"engine": "piper", "voice": "joe", "world": world})
    take = service.speak(SHORT, resolve("Esme"), seed=0)
    assert take.provenance.engine == "piper" and take.provenance.params["clone_world"] == world
    judged = post_processed(_say(piper, "joe", (SHORT,), "en-us"), piper.sample_rate, WorldShift(3.0, 1.12))
    spoken = embed(AudioClip(take.clip.samples[0], take.clip.sample_rate))
    # 0.94-0.98 across machines (the take's delivery and level differ from the bare call);
    # re-voiced before the shift, as before the fix, it measured 0.73
    assert cosine(spoken, embed(AudioClip(judged, piper.sample_rate))) >= 0.88


def test_formant_synthesis_wins_only_when_clearly_nearer():
    from engines.speech.clone import FORMANT_MARGIN, CloneResult, _preferred

    def result(engine: str, similarity: float) -> CloneResult:
        return CloneResult(style=np.zeros((0, 256), np.float32), base=engine, similarity=similarity,
                           start_similarity=0.0, score=0.0, candidates=0, seconds=0.0, engine=engine)

    near_tie = [result("espeak", 0.80), result("kokoro", 0.80 - FORMANT_MARGIN / 2), result("piper", 0.7)]
    assert _preferred(near_tie).engine == "kokoro"  # a person would hear a robot for 0.02
    clear = [result("espeak", 0.93), result("kokoro", 0.70)]
    assert _preferred(clear).engine == "espeak"
    assert _preferred([result("espeak", 0.6)]).engine == "espeak"  # nothing else to speak through
