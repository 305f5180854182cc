"""The per-take checks give the verdicts a person needs: re-record clipped, silent, wrong,
noisy or too-quiet takes; keep clean ones."""

from __future__ import annotations

import pytest

from engines.banking.quality import AMBER, GREEN, RED, check_take, expected_seconds, syllables
from tests.banking.recordings import clipped, recording, silence

LONG = "For the twentieth time that evening the two men shook hands."
SHORT = "Will we ever forget it."


@pytest.fixture(scope="module")
def long_take():
    return recording(LONG)


def test_clean_take_is_green_and_trimmed_to_the_speech(long_take):
    report = check_take(long_take, LONG)
    assert report.verdict == GREEN, report.summary()
    assert report.reasons == []
    start, end = report.metrics["speech_span"]
    assert start == pytest.approx(0.5, abs=0.1)
    assert report.trimmed.duration == pytest.approx(end - start + 0.4, abs=0.1)
    assert report.metrics["snr_db"] > 30


@pytest.mark.parametrize(
    ("case", "verdict", "words"),
    [
        ("clipped", RED, "clipping"),
        ("silence", RED, "no speech"),
        ("too short for the text", RED, "words seem missing"),
        ("too long for the text", RED, "much longer"),
        ("heavy noise", RED, "too noisy"),
        ("some noise", AMBER, "background noise"),
        ("far too quiet", RED, "too quiet"),
        ("cut off at the start", AMBER, "first word"),
    ],
)
def test_bad_takes_get_the_right_verdict_and_reason(long_take, case, verdict, words):
    clip, text = {
        "clipped": lambda: (clipped(long_take), LONG),
        "silence": lambda: (silence(), LONG),
        "too short for the text": lambda: (recording(SHORT), LONG),
        "too long for the text": lambda: (long_take, "Yes, indeed."),
        "heavy noise": lambda: (recording(LONG, noise_db=-30.0), LONG),
        "some noise": lambda: (recording(LONG, noise_db=-46.0), LONG),
        "far too quiet": lambda: (recording(LONG, gain=0.004, noise_db=-100.0), LONG),
        "cut off at the start": lambda: (recording(LONG, lead_s=0.0), LONG),
    }[case]()
    report = check_take(clip, text)
    print(f"{case}: {report.verdict} — {report.summary()}")
    assert report.verdict == verdict
    assert words in report.reasons[0]


def test_expected_length_follows_the_text():
    assert syllables("Will we ever forget it.") == 7
    assert expected_seconds(LONG) >= 1.8 * expected_seconds(SHORT)
