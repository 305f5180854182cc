"""Per-take quality checks with a traffic-light verdict and reasons a person can act on.

A take is judged on what matters for training a voice from it: no clipping, a healthy level,
a quiet room (noise floor and SNR from the pauses around the speech), all the words said
(speech duration against what the text predicts from its syllable count), and no word cut
off at either end. Silence around the speech is trimmed (Silero VAD) for export.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engines.audio import AudioClip

GREEN, AMBER, RED = "green", "amber", "red"
_RANK = {GREEN: 0, AMBER: 1, RED: 2}

CLIP_LEVEL = 0.99  # a sample this close to full scale, held, is clipping
CLIP_RUN = 3  # consecutive samples at the rail that count as one clipped spot
SYLLABLES_PER_S = 4.2  # read speech including short pauses (calibrated on Piper joe: 4.7)
TRIM_PAD_S = (0.15, 0.25)  # silence kept before and after the speech in the trimmed take


@dataclass
class Check:
    verdict: str
    reason: str


@dataclass
class QualityReport:
    verdict: str
    checks: list[Check]
    metrics: dict[str, Any]
    trimmed: AudioClip | None = field(default=None, repr=False)

    @property
    def reasons(self) -> list[str]:
        """What is wrong (amber and red), worst first; empty for a clean take."""
        bad = [c for c in self.checks if c.verdict != GREEN]
        return [c.reason for c in sorted(bad, key=lambda c: -_RANK[c.verdict])]

    def summary(self) -> str:
        return "; ".join(self.reasons) if self.reasons else "clean take"


def worst(verdicts: list[str]) -> str:
    return max(verdicts, key=_RANK.__getitem__, default=GREEN)


def syllables(text: str) -> int:
    """Syllable count by vowel groups (English), enough to predict a reading's length."""
    count = 0
    for word in re.findall(r"[a-z']+", text.lower()):
        groups = len(re.findall(r"[aeiouy]+", word))
        if word.endswith("e") and not word.endswith(("le", "ee")) and groups > 1:
            groups -= 1  # silent final e
        count += max(1, groups)
    for number in re.findall(r"\d+", text):
        count += 2 * len(number)  # digits read aloud: about two syllables each
    return count


def expected_seconds(text: str) -> float:
    return syllables(text) / SYLLABLES_PER_S


def _db(x: float) -> float:
    return float(20 * np.log10(max(x, 1e-10)))


def _clipped_spots(x: np.ndarray) -> int:
    hot = np.abs(x) >= CLIP_LEVEL
    if not hot.any():
        return 0
    edges = np.diff(np.concatenate([[0], hot.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return int(np.sum(ends - starts >= CLIP_RUN))


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) if x.size else 0.0


def check_take(clip: AudioClip, text: str) -> QualityReport:
    """Judge one recording of ``text``; never raises for bad audio, it says what is bad."""
    from engines.podcast.vad import speech_regions
    from engines.voices.prepare import estimate_snr

    x = clip.mono().samples[0]
    sr = clip.sample_rate
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    checks: list[Check] = []
    metrics: dict[str, Any] = {"duration": clip.duration, "peak_dbfs": round(_db(peak), 1)}

    spots = _clipped_spots(clip.samples.reshape(-1))
    metrics["clipped_spots"] = spots
    if spots >= 3:
        checks.append(
            Check(RED, f"clipping in {spots} places: turn the input gain down and re-record")
        )
    elif spots:
        checks.append(Check(AMBER, "clipped once: turn the input gain down a little"))
    elif peak >= 0.95:
        checks.append(Check(AMBER, "peaks touch full scale: leave a little more headroom"))

    spans = speech_regions(clip)
    if not spans:
        checks.append(Check(RED, "no speech found: check the microphone is on and selected"))
        return QualityReport(RED, checks, {**metrics, "speech_seconds": 0.0}, None)
    start, end = spans[0][0], spans[-1][1]
    speech = np.concatenate([x[int(a * sr) : int(b * sr)] for a, b in spans])
    level = _db(_rms(speech))
    snr = estimate_snr(x, sr, spans)
    pause = np.ones(x.size, bool)
    for a, b in spans:
        pause[max(0, int((a - 0.1) * sr)) : int((b + 0.1) * sr)] = False
    floor = _db(_rms(x[pause])) if pause.sum() >= 0.2 * sr else None
    spoken = end - start
    predicted = expected_seconds(text)
    n_syl = syllables(text)
    metrics.update(
        speech_seconds=round(sum(b - a for a, b in spans), 2),
        speech_span=[round(start, 2), round(end, 2)],
        speech_level_dbfs=round(level, 1),
        noise_floor_dbfs=None if floor is None else round(floor, 1),
        snr_db=None if snr is None else round(snr, 1),
        expected_seconds=round(predicted, 2),
        syllables_per_second=round(n_syl / max(spoken, 1e-3), 2),
    )

    if level < -42:
        checks.append(
            Check(RED, f"far too quiet ({level:.0f} dBFS speech): move closer or raise the gain")
        )
    elif level < -34:
        checks.append(
            Check(AMBER, f"quiet ({level:.0f} dBFS speech): move closer or raise the gain a little")
        )
    elif level > -8:
        checks.append(Check(AMBER, f"very loud ({level:.0f} dBFS speech): lower the input gain"))

    if snr is not None and snr < 15:
        checks.append(Check(RED, f"too noisy (SNR {snr:.0f} dB): record somewhere quieter"))
    elif snr is not None and snr < 25:
        checks.append(
            Check(AMBER, f"some background noise (SNR {snr:.0f} dB): a quieter room would help")
        )
    elif floor is not None and floor > -45:
        checks.append(Check(AMBER, f"noise floor {floor:.0f} dBFS: a quieter room would help"))

    ratio = (spoken + 0.3) / (predicted + 0.3)
    metrics["length_ratio"] = round(ratio, 2)
    if ratio < 0.45:
        checks.append(
            Check(
                RED,
                f"much shorter than the text ({spoken:.1f} s for ~{predicted:.1f} s): words seem missing",
            )
        )
    elif ratio > 2.5:
        checks.append(
            Check(
                RED,
                f"much longer than the text ({spoken:.1f} s for ~{predicted:.1f} s): extra words or a long pause",
            )
        )
    elif ratio < 0.6:
        checks.append(
            Check(AMBER, f"rushed ({spoken:.1f} s for ~{predicted:.1f} s): read a little slower")
        )
    elif ratio > 1.7:
        checks.append(Check(AMBER, f"slow or hesitant ({spoken:.1f} s for ~{predicted:.1f} s)"))

    if start < 0.05:
        checks.append(
            Check(AMBER, "speech starts at the very beginning: the first word may be cut off")
        )
    if end > clip.duration - 0.05:
        checks.append(Check(AMBER, "speech runs to the very end: the last word may be cut off"))

    trimmed = clip.slice_seconds(
        max(0.0, start - TRIM_PAD_S[0]), min(clip.duration, end + TRIM_PAD_S[1])
    )
    if not checks:
        checks.append(Check(GREEN, "clean take"))
    return QualityReport(worst([c.verdict for c in checks]), checks, metrics, trimmed)
