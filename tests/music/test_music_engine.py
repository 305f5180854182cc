"""MusicGen/AudioGen engines on tiny random-weight models (real audiocraft code paths;
the audio is noise, so these tests check behaviour, not musicality)."""

from __future__ import annotations

import numpy as np
import pytest

from engines.audio import AudioClip
from engines.cancel import CancelToken, Progress
from engines.errors import BadInput, Cancelled
from engines.music.engine import MusicRequest, seamless_loop


def req(**kw) -> MusicRequest:
    base = dict(prompt="calm piano with soft strings", duration=1.0, seed=3, watermark=False)
    return MusicRequest(**{**base, **kw})


def test_same_seed_gives_identical_audio_tiny_random_model(tiny_musicgen):
    a = tiny_musicgen.generate(req(seed=11))[0]
    b = tiny_musicgen.generate(req(seed=11))[0]
    c = tiny_musicgen.generate(req(seed=12))[0]
    assert np.array_equal(a.clip.samples, b.clip.samples)
    assert not np.array_equal(a.clip.samples, c.clip.samples)
    assert a.provenance.seed == 11 and a.provenance.device == "cpu"
    assert a.provenance.dtype == "float32" and a.provenance.model_id == "timbre/musicgen-debug"
    assert len(a.provenance.model_version) == 40 and a.provenance.params["debug_model"] is True


def test_no_seed_draws_one_and_records_it(tiny_musicgen):
    take = tiny_musicgen.generate(req(seed=None))[0]
    again = tiny_musicgen.generate(req(seed=take.provenance.seed))[0]
    assert np.array_equal(take.clip.samples, again.clip.samples)


def test_variations_come_from_one_batch_and_differ_tiny_random_model(tiny_musicgen):
    steps = []
    takes = tiny_musicgen.generate(req(variations=3), progress=steps.append)
    assert [t.provenance.params["variation"] for t in takes] == [1, 2, 3]
    assert all(t.clip.frames == 32000 for t in takes)
    assert not np.array_equal(takes[0].clip.samples, takes[1].clip.samples)
    assert not np.array_equal(takes[1].clip.samples, takes[2].clip.samples)
    generating = [p for p in steps if p.stage.startswith("generating")]
    assert len(generating) == 50 + 3  # one batch: 50 frames + delay pattern, not 3 × that


def test_a_second_batch_on_the_kept_copy_of_the_weights_gives_the_same_audio(
    debug_hub, tmp_path, monkeypatch
):
    """Variations run on a kernel with its own reordered copy of the weights (forced here):
    the next batch reuses that copy, and the same seed still gives the same audio."""
    from engines.music import speed
    from engines.music.engine import MusicGenEngine
    from engines.music.kernels import KERNELS

    def timed(lm, names, batch, *rest):  # as on a 2-core EPYC: gemv for a take, packed for more
        fastest = "gemv" if batch == speed.BATCH else "onednn-packed"
        return {k: 0.1 if k == fastest else 1.0 for k in names if KERNELS[k].exact}, {}

    monkeypatch.setenv("TIMBRE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(speed, "time_linears", timed)
    engine = MusicGenEngine(model="debug", device="cpu")
    engine.load()
    first = engine.generate(req(seed=5, variations=2))
    lm = engine._model.lm
    assert speed._kept[lm].kernel == "onednn-packed"
    def packed() -> list:
        state = speed._kept[lm].state
        return [x for _, _, x in state if getattr(x, "kernel", "") == "onednn-packed"]

    kept = packed()
    second = engine.generate(req(seed=5, variations=2))
    again = packed()
    assert kept and all(a is b for a, b in zip(kept, again, strict=True))  # not reordered again
    for a, b in zip(first, second, strict=True):
        assert np.array_equal(a.clip.samples, b.clip.samples)
    engine.unload()


def test_progress_every_step_and_cancel_within_one_step(tiny_musicgen):
    seen: list[Progress] = []
    tiny_musicgen.generate(req(duration=2.0), progress=seen.append)
    generating = [p for p in seen if p.stage == "generating"]
    assert [p.done for p in generating] == list(range(1, len(generating) + 1))
    assert generating[-1].done == generating[-1].total - 1  # last step; 100 % after decoding

    token = CancelToken()
    calls = []

    def cancel_at_five(p: Progress) -> None:
        if p.stage == "generating":
            calls.append(p.done)
            if p.done == 5:
                token.cancel()

    with pytest.raises(Cancelled):
        tiny_musicgen.generate(req(duration=2.0), progress=cancel_at_five, cancel=token)
    assert max(calls) == 5  # stopped at the very next step check
    assert tiny_musicgen.generate(req())[0].clip.frames == 32000  # model still works


@pytest.mark.parametrize("engine_name", ["tiny_musicgen", "tiny_audiogen"])
def test_windowed_extension_progress_is_monotonic_and_exact(engine_name, request, debug_hub):
    """Beyond the window (shortened here to 3 s) audiocraft re-counts per window; the
    engine's own plan must count every step once and end exactly at its total."""
    from engines.music import engine as music_engine

    loaded = request.getfixturevalue(engine_name)
    engine = type(loaded)(model="debug", device="cpu", window_seconds=3.0)
    engine.load()
    seen: list[Progress] = []
    take = engine.generate(req(duration=7.0), progress=seen.append)[0]
    generating = [p for p in seen if p.stage.startswith("generating")]
    assert "windows" in generating[0].stage
    dones = [p.done for p in generating]
    assert dones == list(range(1, len(dones) + 1))
    assert dones[-1] == generating[-1].total - 1  # plan total == steps actually run
    assert take.clip.frames == round(7.0 * take.clip.sample_rate)
    assert take.provenance.params["window_s"] == 3.0
    assert music_engine.MAX_SECONDS == 300.0


def test_continuation_keeps_the_clip_and_appends_new_audio(tiny_musicgen):
    rate = 32000
    t = np.arange(int(1.5 * rate)) / rate
    source = AudioClip(0.3 * np.sin(2 * np.pi * 220 * t), rate)
    seen: list[Progress] = []
    take = tiny_musicgen.generate(
        req(continuation=source, duration=1.0, normalize="none"), progress=seen.append
    )[0]
    assert take.clip.frames == source.frames + rate
    np.testing.assert_allclose(take.clip.samples[:, : source.frames], source.samples, atol=1e-6)
    assert np.abs(take.clip.samples[:, source.frames :]).max() > 0
    generating = [p for p in seen if p.stage == "generating"]
    assert generating[-1].done == generating[-1].total - 1  # prompt tokens planned right
    assert take.provenance.params["continuation_s"] == pytest.approx(1.5)


def test_seamless_loop_join_is_as_smooth_as_the_signal():
    rate = 16000
    t = np.arange(int(2.6 * rate)) / rate
    tone = AudioClip(np.sin(2 * np.pi * 233.3 * t) * (1 + 0.3 * np.sin(2 * np.pi * 0.7 * t)), rate)
    loop = seamless_loop(tone, 2 * rate, rate // 2)
    x = loop.samples[0]
    inner = np.abs(np.diff(x)).max()
    assert loop.frames == 2 * rate
    assert abs(x[0] - x[-1]) <= 1.05 * inner  # wrap-around step no bigger than any other


def test_sfx_loop_option_gives_exact_length(tiny_audiogen):
    take = tiny_audiogen.generate(req(prompt="rain on a tin roof", duration=2.0, loop=True))[0]
    assert take.clip.sample_rate == 16000 and take.clip.frames == 32000
    assert take.provenance.params["loop"] is True and take.provenance.engine == "audiogen"


def test_loudness_normalisation_by_default_and_peak_on_request(tiny_audiogen):
    from engines.loudness import integrated_lufs

    loud = tiny_audiogen.generate(req(duration=2.0))[0]
    assert integrated_lufs(loud.clip) == pytest.approx(-14.0, abs=0.3)
    peak = tiny_audiogen.generate(req(duration=2.0, normalize="peak"))[0]
    assert 20 * np.log10(peak.clip.peak) == pytest.approx(-1.0, abs=0.01)


def test_melody_needs_a_melody_checkpoint(tiny_musicgen):
    melody = AudioClip(np.zeros((1, 32000), np.float32), 32000)
    with pytest.raises(BadInput, match="melody"):
        tiny_musicgen.generate(req(melody=melody))


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        (dict(duration=0.1), "Duration"),
        (dict(duration=301), "Duration"),
        (dict(variations=9), "Variations"),
        (dict(temperature=0), "Temperature"),
        (dict(prompt="  "), "prompt is empty"),
        (dict(normalize="loud"), "Normalise"),
        (dict(threads=0), "Threads"),
    ],
)
def test_bad_requests_are_refused_with_a_sentence(kw, words):
    with pytest.raises(BadInput, match=words):
        req(**kw).validate()


def test_unload_then_generate_loads_again(debug_hub):
    from engines.music.engine import AudioGenEngine

    engine = AudioGenEngine(model="debug", device="cpu")
    engine.load()
    assert engine.loaded
    engine.unload()
    assert not engine.loaded
    assert engine.generate(req(duration=0.5))[0].clip.frames == 8000
    assert engine.loaded


def test_take_regenerates_identically_from_its_provenance(tiny_musicgen):
    take = tiny_musicgen.generate(req(seed=21, variations=2))[1]
    request = tiny_musicgen.request_from_provenance(take.provenance)
    # the take's thread count comes back with it (some kernels split their sums by thread)
    assert request.threads == take.provenance.params["threads"] == 1  # debug models: 1
    again = tiny_musicgen.generate(request)
    assert np.array_equal(again[1].clip.samples, take.clip.samples)


def test_running_out_of_memory_on_the_cpu_is_one_clear_error(tiny_musicgen):
    from engines.errors import OutOfMemory

    def exhaust(p: Progress) -> None:
        if p.stage == "generating" and p.done == 3:
            raise MemoryError()

    with pytest.raises(OutOfMemory, match="shorter"):
        tiny_musicgen.generate(req(), progress=exhaust)
    assert tiny_musicgen.generate(req())[0].clip.frames == 32000


def test_melody_and_continuation_together_are_refused():
    clip = AudioClip(np.zeros((1, 16000), np.float32), 16000)
    with pytest.raises(BadInput, match="not both"):
        req(melody=clip, continuation=clip).validate()
