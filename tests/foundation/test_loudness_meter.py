"""The live loudness meter (momentary, short-term, integrated LUFS, true peak) against
pyloudnorm and EBU Tech 3341's reference tone, fed in blocks as playback feeds it."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest

from engines.audio import AudioClip
from engines.loudness import LiveLoudness, true_peak_db

RATE = 48_000


def fed(x: np.ndarray, block: int = 4800) -> LiveLoudness:
    meter = LiveLoudness(RATE, x.shape[0])
    for a in range(0, x.shape[1], block):
        meter.feed(x[:, a : a + block])
    return meter


def reference(x: np.ndarray) -> float:
    return float(pyloudnorm.Meter(RATE).integrated_loudness(x.T.astype(np.float64)))


def test_ebu_reference_tone_reads_minus_23_on_every_meter():
    """Tech 3341 case 1: a stereo 1 kHz sine at −23 dBFS reads −23.0 ±0.1 on M, S and I."""
    t = np.arange(10 * RATE) / RATE
    x = np.stack([10 ** (-23 / 20) * np.sin(2 * np.pi * 1000 * t)] * 2).astype(np.float32)
    meter = fed(x)
    for value in (meter.momentary(), meter.short_term(), meter.integrated()):
        assert value == pytest.approx(-23.0, abs=0.1)
        assert value == pytest.approx(reference(x), abs=0.01)


def test_meters_match_pyloudnorm_on_a_level_step():
    """Noise that steps up 12 dB at 3 s: integrated over all of it, momentary over the last
    0.4 s and short-term over the last 3 s each agree with pyloudnorm on that span; the
    block size the device happens to use changes nothing."""
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((2, 8 * RATE)) * 0.05).astype(np.float32)
    x[:, 3 * RATE :] *= 4
    meter = fed(x, block=1000)
    assert meter.integrated() == pytest.approx(reference(x), abs=0.01)
    assert meter.momentary() == pytest.approx(reference(x[:, -int(0.4 * RATE) :]), abs=0.05)
    assert meter.short_term() == pytest.approx(reference(x[:, -3 * RATE :]), abs=0.05)
    assert fed(x, block=1024).integrated() == pytest.approx(meter.integrated(), abs=1e-6)
    summary = meter.summary()
    assert summary["integrated"] == pytest.approx(reference(x), abs=0.01)
    assert summary["short_term_max"] >= meter.short_term() - 1e-9
    assert summary["momentary_max"] > reference(x[:, : 3 * RATE]) + 10  # found the loud part


def test_true_peak_finds_the_peak_between_samples():
    """A sine at a quarter of the rate, sampled 45° off its crests: every sample is at
    0.707 of the true peak (−3 dB), which the meter finds (as the whole-clip measure does)."""
    n = np.arange(2 * RATE)
    x = (0.5 * np.sin(np.pi / 2 * n + np.pi / 4)).astype(np.float32)[np.newaxis, :]
    assert 20 * np.log10(np.abs(x).max()) == pytest.approx(20 * np.log10(0.5) - 3.01, abs=0.05)
    meter = fed(x)
    assert meter.true_peak_so_far() == pytest.approx(20 * np.log10(0.5), abs=0.3)
    assert meter.summary()["true_peak"] == pytest.approx(true_peak_db(AudioClip(x, RATE)), abs=1e-6)


def test_asking_early_does_not_change_what_is_measured():
    """Reading the meter before one 400 ms gating block has played says nothing (−inf)
    and does not pad the measure: the final value equals measuring the whole at once."""
    t = np.arange(2 * RATE) / RATE
    x = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[np.newaxis, :]
    meter = LiveLoudness(RATE, 1)
    meter.feed(x[:, :4800])
    assert meter.integrated() == float("-inf")
    meter.momentary(), meter.short_term()
    meter.feed(x[:, 4800:])
    assert meter.integrated() == pytest.approx(reference(x), abs=0.01)
    assert LiveLoudness(RATE, 2).momentary() == float("-inf")  # nothing played: silence
