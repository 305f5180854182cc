"""Shortening long pauses in speech, the same cuts on every speaker's track.

A pause counts only when nobody speaks (the union of all tracks' VAD regions), so a cut
never eats one speaker's reply. Each long pause keeps ``max_pause_s`` (half on each side;
silence before the first and after the last word keeps one half) and the join is crossfaded over 20 ms so it does not click.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from engines.audio import AudioClip
from engines.mixing import fade_curve
from engines.podcast.streams import Reader
from engines.stream import AudioStream, block_frames

CROSSFADE_S = 0.02


@dataclass(frozen=True)
class Cut:
    """Seconds ``start``..``end`` of the input timeline were removed."""

    start: float
    end: float


def plan_cuts(
    speech: Sequence[tuple[float, float]], duration: float, max_pause_s: float
) -> list[Cut]:
    cuts = []
    edges = [0.0] + [x for region in speech for x in region] + [duration]
    for gap_start, gap_end in zip(edges[0::2], edges[1::2], strict=True):
        half = max_pause_s / 2
        lead = 0.0 if gap_start == 0.0 else half  # the episode's start and end keep half
        tail = 0.0 if gap_end == duration else half
        if gap_end - gap_start - lead - tail > 2 * CROSSFADE_S:
            cuts.append(Cut(gap_start + lead, gap_end - tail))
    return cuts


def _pieces(frames: int, sr: int, cuts: Sequence[Cut]) -> list[tuple[int, int]]:
    """The kept input ranges ``[a, b)`` between the cuts (clamped as slicing clamps)."""
    pieces, pos = [], 0
    for cut in cuts:
        a, b = int(cut.start * sr), int(cut.end * sr)
        pieces.append((min(pos, frames), max(min(pos, frames), min(a, frames))))
        pos = b
    pieces.append((min(pos, frames), frames))
    return pieces


def _plan(frames: int, sr: int, cuts: Sequence[Cut]) -> tuple[list[tuple[int, int, bool]], int]:
    """Each kept piece with whether it is crossfaded onto what precedes it (both sides at
    least one crossfade long), and the output length."""
    xf = int(CROSSFADE_S * sr)
    plan, have = [], 0  # have: output frames so far
    for i, (a, b) in enumerate(_pieces(frames, sr, cuts)):
        fade = bool(i and xf and have >= xf and b - a >= xf)
        plan.append((a, b, fade))
        have += b - a - (xf if fade else 0)
    return plan, have


def cut_stream(stream: AudioStream, cuts: Sequence[Cut]) -> AudioStream:
    """``stream`` with ``cuts`` removed, each join crossfaded: the cuts are planned from the
    speech regions (small), and applied here while the audio streams past, holding back
    only the last crossfade's worth of output for the next join."""
    if not cuts:
        return stream
    sr, channels = stream.sample_rate, stream.channels
    xf = int(CROSSFADE_S * sr)
    plan, total = _plan(stream.frames, sr, cuts)
    step = block_frames(sr)

    def blocks() -> Iterator[np.ndarray]:
        reader = Reader(stream)
        held = np.zeros((channels, 0), np.float32)  # the last (up to) xf output frames
        for a, b, fade in plan:
            if fade:  # held is exactly the last xf frames of the output so far
                head = reader.read(a, xf)
                held = held * fade_curve(xf, False) + head * fade_curve(xf, True)
                a += xf
            for lo in range(a, b, step):
                data = np.concatenate([held, reader.read(lo, min(step, b - lo))], axis=1)
                if data.shape[1] > xf:
                    yield data[:, : data.shape[1] - xf]
                held = data[:, max(0, data.shape[1] - xf) :]
        if held.shape[1]:
            yield held

    return AudioStream(blocks, sr, channels, total)


def apply_cuts(clip: AudioClip, cuts: Sequence[Cut]) -> AudioClip:
    """:func:`cut_stream` on a clip in memory (short audio)."""
    return cut_stream(AudioStream.from_clip(clip), cuts).clip()


def map_time(t: float, cuts: Sequence[Cut]) -> float:
    """Where input time ``t`` lands after the cuts (times inside a cut go to its edge)."""
    removed = 0.0
    for cut in cuts:
        if t >= cut.end:
            removed += cut.end - cut.start + CROSSFADE_S  # the crossfade overlaps too
        elif t > cut.start:
            return cut.start - removed
        else:
            break
    return max(0.0, t - removed)
