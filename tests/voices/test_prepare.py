"""Reference clean-up on real speech (Piper joe, espeak-ng) with known noise and spans."""

from __future__ import annotations

import numpy as np
import pytest

from engines.audio import AudioClip
from engines.audio_io import read_audio, write_audio
from engines.errors import BadInput
from engines.loudness import integrated_lufs
from engines.voices.prepare import prepare_reference
from tests.voices import material as m


@pytest.fixture(scope="module")
def spoken() -> tuple[AudioClip, list[tuple[float, float]]]:
    """Three joe sentences with 0.8 s pauses, and where the speech is."""
    return m.with_pauses([m.joe(s) for s in m.SENTENCES[:3]], 0.8)


@pytest.mark.parametrize("snr", [5, 10, 20])
def test_snr_estimate_matches_a_known_mixture(spoken, warm_models, snr):
    clip, spans = spoken
    report = prepare_reference(m.add_noise(clip, spans, snr, seed=snr)).report
    assert report.snr_db == pytest.approx(snr, abs=2.0)
    assert any("very noisy" in w for w in report.warnings) == (snr < 15)
    assert not any("more than one speaker" in w for w in report.warnings)


def test_speech_ratio_and_spans_match_the_known_speech(spoken, warm_models):
    clip, spans = spoken
    report = prepare_reference(m.add_noise(clip, spans, 30)).report
    known = sum(b - a for a, b in spans) / clip.duration
    assert report.speech_ratio == pytest.approx(known, abs=0.04)
    assert report.original_duration == pytest.approx(clip.duration, abs=1e-6)
    found = report.speech_spans
    for start, end in spans:  # every sentence found, with edges within 150 ms
        assert any(abs(a - start) < 0.15 and abs(b - end) < 0.15 for a, b in found), found


@pytest.mark.parametrize("target", [-23.0, -18.0])
def test_output_meets_the_loudness_target(spoken, warm_models, target):
    clip, spans = spoken
    prepared = prepare_reference(m.add_noise(clip, spans, 25).scaled(0.1), target_lufs=target)
    assert integrated_lufs(prepared.clip) == pytest.approx(target, abs=0.5)
    assert prepared.report.output_lufs == pytest.approx(target, abs=0.5)
    assert prepared.report.input_lufs < target - 10


def test_noise_reduction_lowers_the_floor_between_words(spoken, warm_models):
    clip, spans = spoken
    noisy = m.add_noise(clip, spans, 10, seed=7)

    def floor_db(prepared):  # quietest 20 ms frames = the gaps between words
        x = prepared.clip.samples[0]
        hop = int(0.02 * prepared.clip.sample_rate)
        power = np.mean(x[: len(x) // hop * hop].reshape(-1, hop) ** 2, axis=1)
        return 10 * np.log10(np.percentile(power, 5) / np.median(power))

    assert (
        floor_db(prepare_reference(noisy)) < floor_db(prepare_reference(noisy, denoise=False)) - 10
    )


def test_warns_about_short_clipped_and_two_speaker_recordings(warm_models):
    short = prepare_reference(m.joe("Hello there.")).report
    assert any("only" in w and "speech" in w for w in short.warnings)

    loud = m.joe(m.SENTENCES[3])
    clipped = AudioClip(np.clip(loud.samples * 6, -1, 1), loud.sample_rate)
    assert any("clipped" in w for w in prepare_reference(clipped).report.warnings)

    two = AudioClip(
        np.concatenate(
            [
                m.joe(" ".join(m.SENTENCES[:2])).samples[0],
                m.espeak(" ".join(m.SENTENCES[2:4]), "en-us+f2").resampled(22050).samples[0],
            ]
        ),
        22050,
    )
    two_report = prepare_reference(two).report
    assert any("more than one speaker" in w for w in two_report.warnings)
    one_report = prepare_reference(m.espeak(" ".join(m.SENTENCES[:3]), "en-us+f2")).report
    assert not any("more than one speaker" in w for w in one_report.warnings)


def test_a_recording_without_speech_is_refused(warm_models):
    noise = np.random.default_rng(0).standard_normal(48000).astype(np.float32) * 0.01
    with pytest.raises(BadInput, match="No speech"):
        prepare_reference(AudioClip(noise, 16000))


@pytest.mark.parametrize("fmt", ["flac", "ogg", "mp3"])
def test_reads_common_formats_in_stereo(tmp_path, spoken, warm_models, fmt):
    clip, _spans = spoken
    stereo = clip.resampled(44100).with_channels(2)
    path = write_audio(tmp_path / f"ref.{fmt}", stereo)
    prepared = prepare_reference(path)
    assert prepared.report.source == path.name
    assert prepared.clip.channels == 1 and prepared.clip.sample_rate == 24000
    assert prepared.report.original_duration == pytest.approx(clip.duration, abs=0.1)
    assert read_audio(path).channels == 2
