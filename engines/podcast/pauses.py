"""Shortening long pauses in speech, the same cuts on every speaker's track.

A pause counts only when nobody speaks (the union of all tracks' VAD regions), so a cut
never eats one speaker's reply. Each long pause keeps ``max_pause_s`` (half on each side;
silence before the first and after the last word keeps one half) and the join is crossfaded over 20 ms so it does not click.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engines.audio import AudioClip
from engines.mixing import fade_curve

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


def apply_cuts(clip: AudioClip, cuts: Sequence[Cut]) -> AudioClip:
    sr = clip.sample_rate
    xf = int(CROSSFADE_S * sr)
    pieces: list[np.ndarray] = []
    pos = 0
    for cut in cuts:
        a, b = int(cut.start * sr), int(cut.end * sr)
        pieces.append(clip.samples[:, pos:a])
        pos = b
    pieces.append(clip.samples[:, pos:])
    # Crossfade each join where both sides are long enough, then join everything once
    # (joining piece by piece copied the growing result at every cut).
    parts: list[np.ndarray] = [pieces[0]]
    have = pieces[0].shape[1]  # frames in parts so far
    for piece in pieces[1:]:
        if xf and have >= xf and piece.shape[1] >= xf:
            tail = _take_tail(parts, xf)
            joint = tail * fade_curve(xf, False) + piece[:, :xf] * fade_curve(xf, True)
            parts += [joint, piece[:, xf:]]
            have += piece.shape[1] - xf
        else:
            parts.append(piece)
            have += piece.shape[1]
    return AudioClip(np.concatenate(parts, axis=1), sr)


def _take_tail(parts: list[np.ndarray], n: int) -> np.ndarray:
    """Remove the last ``n`` frames from the pieces in ``parts`` and return them."""
    taken: list[np.ndarray] = []
    need = n
    while need:
        last = parts.pop()
        k = min(need, last.shape[1])
        taken.insert(0, last[:, last.shape[1] - k :])
        if last.shape[1] > k:
            parts.append(last[:, : last.shape[1] - k])
        need -= k
    return np.concatenate(taken, axis=1)


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
