"""The clone's long-term spectrum equaliser: fitted from two recordings, applied without
delay, clamped; stored in a clone's meta only in range; spoken by timbre speak."""

from __future__ import annotations

import numpy as np
import pytest

from engines.speech.request import SpeechRequest
from engines.speech.spectral_eq import (
    MAX_DB,
    SpectralEq,
    band_centres,
    fit_eq,
    long_term_spectrum,
)

SHORT = "Please bring the red box to the kitchen before dinner."


def _tilt(db_per_octave: float) -> SpectralEq:
    centres = band_centres()
    db = db_per_octave * np.log2(centres / 1000.0)
    return SpectralEq(tuple(centres), tuple(db - db.mean()))


def test_fitted_equaliser_recovers_the_colour_that_made_the_reference(kokoro):
    rate = kokoro.sample_rate
    clone = kokoro.raw(SHORT, SpeechRequest(SHORT, voice="jf_alpha"))
    made = _tilt(-2.0)  # a darker voice: -2 dB an octave
    reference = made.apply(clone, rate)
    assert len(reference) == len(clone)
    fitted = fit_eq(reference, rate, clone, rate)
    # inner bands (the outer ones are tempered by the smoothing): within 1 dB
    assert np.max(np.abs(np.array(fitted.db) - np.array(made.db))[2:-2]) < 1.0
    # the fitted filter makes the clone's long-term spectrum the reference's
    centres = np.array(fitted.hz)
    after = long_term_spectrum(fitted.apply(clone, rate), rate, centres)
    target = long_term_spectrum(reference, rate, centres)
    before = long_term_spectrum(clone, rate, centres)
    assert np.abs(after - target)[2:-2].mean() < 0.3 * np.abs(before - target)[2:-2].mean()


def test_equaliser_has_no_delay_and_is_clamped():
    rate = 24_000
    click = np.zeros(rate, np.float32)
    click[rate // 2] = 0.5
    out = _tilt(3.0).apply(click, rate)
    assert int(np.argmax(np.abs(out))) == rate // 2  # linear phase, centred: no shift
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(rate).astype(np.float32) * 0.1
    extreme = _tilt(20.0).apply(noise, rate)  # +-60 dB of tilt asked
    fitted = fit_eq(extreme, rate, noise, rate)
    assert max(abs(d) for d in fitted.db) <= MAX_DB
    assert SpectralEq.from_dict(fitted.as_dict()).as_dict() == fitted.as_dict()


def test_equaliser_fit_is_kept_only_when_it_brings_the_clone_closer(kokoro):
    """The fit against a reference made by colouring the clone's own speech keeps an
    equaliser; against the clone's own speech it keeps none."""
    from engines.audio import AudioClip
    from engines.speech.clone import fit_spectral_eq
    from engines.voices.embedding import embed

    rate = kokoro.sample_rate
    audio = kokoro.raw(SHORT, SpeechRequest(SHORT, voice="jf_alpha"))
    coloured = AudioClip(_tilt(-3.0).apply(audio, rate), rate)
    eq, score = fit_spectral_eq(audio, rate, coloured, embed(coloured))
    assert eq is not None and eq.db[0] > eq.db[-1]  # darker: lows up, highs down
    same = AudioClip(audio, rate)
    assert fit_spectral_eq(audio, rate, same, embed(same))[0] is None


@pytest.mark.parametrize(
    "eq",
    [
        {"hz": [100, 200], "db": [0.0]},
        {"hz": [200, 100], "db": [0.0, 1.0]},
        {"hz": [100, 200], "db": [0.0, 40.0]},
        {"hz": [100, 200], "db": [0.0, float("nan")]},
        {"hz": "100", "db": [0.0]},
        {"hz": list(range(100, 200)), "db": [0.0] * 100},
    ],
)
def test_clone_meta_refuses_an_equaliser_out_of_range(eq):
    from engines.voices.library import check_clone

    style = np.zeros((510, 1, 256), np.float32)
    import io

    buf = io.BytesIO()
    np.save(buf, style, allow_pickle=False)
    with pytest.raises(ValueError, match="meta.eq"):
        check_clone("kokoro-style", "npy", buf.getvalue(), {"eq": eq})
    check_clone("kokoro-style", "npy", buf.getvalue(), {"eq": _tilt(1.0).as_dict()})
