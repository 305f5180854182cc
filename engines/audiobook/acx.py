"""ACX (Audible) checks on a chapter, and the fix-up pass for what can be fixed.

ACX's audio submission requirements, per chapter file:
- RMS between −23 and −18 dB (the whole file, unweighted);
- peak at or below −3 dB;
- noise floor at or below −60 dB RMS (measured here as the quietest 500 ms window of the
  narration: its pauses, not the room tone around it);
- room tone: 0.5–1 s at the head, 1–5 s at the tail.

The fix-up trims what is before and after the narration, sets the level so the RMS lands
at −20 dB, holds the peaks under −3.5 dB with a limiter (pedalboard, as ``engines.loudness``
uses), and pads 0.75 s of room tone at the head and 2 s at the tail. Room tone is a very
quiet noise (−72 dB RMS), not digital silence, which ACX reviewers flag. A noise floor that
is too high cannot be fixed by level: the report says so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from engines.audio import AudioClip

RMS_RANGE = (-23.0, -18.0)
PEAK_MAX = -3.0
NOISE_MAX = -60.0
HEAD_RANGE = (0.5, 1.0)
TAIL_RANGE = (1.0, 5.0)
TARGET_RMS = -20.0
PEAK_CEILING = -3.5  # a little under ACX's limit: a later encode can add a fraction of a dB
HEAD_S, TAIL_S = 0.75, 2.0
ROOM_TONE_DB = -72.0
SPEECH_DB = -45.0  # a 10 ms window above this is narration, not room tone
NOISE_WINDOW_S = 0.5


def _db(x: float) -> float:
    return float(20 * np.log10(x)) if x > 0 else float("-inf")


@dataclass
class AcxReport:
    """One chapter's measures and what fails; ``problems`` is empty when it passes."""

    title: str
    duration: float
    rms_db: float
    peak_db: float
    noise_floor_db: float
    head_s: float
    tail_s: float
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "passed": self.passed}

    def line(self) -> str:
        verdict = "pass" if self.passed else "FAIL: " + "; ".join(self.problems)
        return (f"{self.title[:40]:40s} RMS {self.rms_db:6.1f} dB  peak {self.peak_db:5.1f} dB  "
                f"floor {self.noise_floor_db:6.1f} dB  head {self.head_s:4.2f} s  "
                f"tail {self.tail_s:4.2f} s  {verdict}")


def _window_db(mono: np.ndarray, rate: int, seconds: float, hop: float) -> np.ndarray:
    n = max(1, int(seconds * rate))
    step = max(1, int(hop * rate))
    if mono.size < n:
        return np.array([_db(float(np.sqrt(np.mean(mono**2)))) if mono.size else -np.inf])
    sq = np.concatenate([[0.0], np.cumsum(mono.astype(np.float64) ** 2)])
    starts = np.arange(0, mono.size - n + 1, step)
    ms = (sq[starts + n] - sq[starts]) / n
    with np.errstate(divide="ignore"):
        return 10 * np.log10(np.maximum(ms, 0.0))


def _edges(mono: np.ndarray, rate: int) -> tuple[int, int]:
    """First and last sample of the narration (10 ms windows above ``SPEECH_DB``)."""
    levels = _window_db(mono, rate, 0.01, 0.01)
    loud = np.flatnonzero(levels > SPEECH_DB)
    if loud.size == 0:
        return 0, 0
    step = max(1, int(0.01 * rate))
    return int(loud[0] * step), min(mono.size, int((loud[-1] + 1) * step))


def check(clip: AudioClip, title: str = "") -> AcxReport:
    mono = clip.mono().samples[0]
    rate = clip.sample_rate
    rms = _db(float(np.sqrt(np.mean(mono.astype(np.float64) ** 2)))) if mono.size else -np.inf
    peak = _db(float(np.max(np.abs(mono)))) if mono.size else -np.inf
    if clip.channels > 1:
        peak = _db(clip.peak)
    start, end = _edges(mono, rate)
    # The floor under the narration (its pauses), not the room tone padded around it: a
    # clean head and tail must not hide a hiss that runs under every sentence.
    body = mono[start:end] if end - start >= NOISE_WINDOW_S * rate else mono
    floor = float(np.min(_window_db(body, rate, NOISE_WINDOW_S, NOISE_WINDOW_S / 2)))
    head, tail = start / rate, (mono.size - end) / rate
    problems = []
    if not RMS_RANGE[0] <= rms <= RMS_RANGE[1]:
        problems.append(f"RMS {rms:.1f} dB is outside {RMS_RANGE[0]:g} to {RMS_RANGE[1]:g} dB")
    if peak > PEAK_MAX:
        problems.append(f"peak {peak:.1f} dB is above {PEAK_MAX:g} dB")
    if floor > NOISE_MAX:
        problems.append(f"noise floor {floor:.1f} dB is above {NOISE_MAX:g} dB (denoise or "
                        "re-record: level changes cannot fix it)")
    if not HEAD_RANGE[0] <= head <= HEAD_RANGE[1]:
        problems.append(f"{head:.2f} s of room tone at the head (ACX: "
                        f"{HEAD_RANGE[0]:g}–{HEAD_RANGE[1]:g} s)")
    if not TAIL_RANGE[0] <= tail <= TAIL_RANGE[1]:
        problems.append(f"{tail:.2f} s of room tone at the tail (ACX: "
                        f"{TAIL_RANGE[0]:g}–{TAIL_RANGE[1]:g} s)")
    return AcxReport(title, clip.duration, round(rms, 2), round(peak, 2), round(floor, 2),
                     round(head, 3), round(tail, 3), problems)


def room_tone(seconds: float, rate: int, channels: int, seed: int = 0) -> np.ndarray:
    """Quiet low-tilted noise at ``ROOM_TONE_DB`` RMS: what a silent, treated room sounds like."""
    from scipy.signal import lfilter

    n = int(round(seconds * rate))
    if n == 0:
        return np.zeros((channels, 0), np.float32)
    white = np.random.default_rng(seed).standard_normal((channels, n))
    tone = lfilter([1.0], [1.0, -0.9], white, axis=1)
    rms = float(np.sqrt(np.mean(tone**2))) or 1.0
    return (tone / rms * 10 ** (ROOM_TONE_DB / 20)).astype(np.float32)


def fix(clip: AudioClip, seed: int = 0) -> AudioClip:
    """The chapter trimmed, levelled to ``TARGET_RMS`` under ``PEAK_CEILING``, with room tone
    at the head and tail. The narration's own noise is left as it is."""
    from engines.loudness import _limit as limit  # the one limiter setting the app uses

    mono = clip.mono().samples[0]
    start, end = _edges(mono, clip.sample_rate)
    if end <= start:
        return clip
    pad = int(0.02 * clip.sample_rate)  # keep the breath before the first word
    body = AudioClip(clip.samples[:, max(0, start - pad): min(clip.frames, end + pad)],
                     clip.sample_rate)
    rate, channels = body.sample_rate, body.channels
    total = body.frames + int(round((HEAD_S + TAIL_S) * rate))
    for _ in range(3):
        energy = float(np.mean(body.samples.astype(np.float64) ** 2))  # mean square
        rms_in_file = _db(float(np.sqrt(energy * body.frames / total)))
        body = body.scaled(10 ** ((TARGET_RMS - rms_in_file) / 20))
        if _db(body.peak) <= PEAK_CEILING:
            break
        body = limit(body, PEAK_CEILING - 0.3)
    if _db(body.peak) > PEAK_CEILING:
        body = body.scaled(10 ** ((PEAK_CEILING - _db(body.peak)) / 20))
    head = room_tone(HEAD_S, rate, channels, seed)
    tail = room_tone(TAIL_S, rate, channels, seed + 1)
    return AudioClip(np.concatenate([head, body.samples, tail], axis=1), rate)
