"""WORLD conversion (the cloning baseline and post-process) moves f0 and formants."""

from __future__ import annotations

import numpy as np

from engines.speech.world_convert import GRID_HZ, best_warp, convert, voice_stats
from tests.speech.conftest import speak

SHORT = "Please bring the red box to the kitchen before dinner."


def test_formant_scale_is_recovered_from_a_warped_envelope():
    rng = np.random.default_rng(0)
    envelope = np.convolve(rng.standard_normal(len(GRID_HZ)), np.ones(9) / 9, mode="same")
    warped = np.interp(GRID_HZ / 1.1, GRID_HZ, envelope)
    assert abs(best_warp(warped - warped.mean(), envelope - envelope.mean()) - 1 / 1.1) < 0.03
    assert best_warp(envelope, envelope) == 1.0


def test_conversion_moves_f0_statistics_to_the_target(piper, kokoro):
    source = speak(piper, SHORT)
    target_audio = speak(kokoro, SHORT)
    target = voice_stats(target_audio, kokoro.sample_rate)
    before = voice_stats(source, piper.sample_rate)
    out = convert(source, piper.sample_rate, target)
    after = voice_stats(out, piper.sample_rate)
    assert len(out) == len(source)
    # log2 f0 mean: the gap to the target (about an octave) closes to under 2 semitones.
    assert abs(before.f0_mean - target.f0_mean) > 0.5
    assert abs(after.f0_mean - target.f0_mean) < 2 / 12
