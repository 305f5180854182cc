"""Word edges snapped to the audio, so cutting a word cuts that word and nothing else.

Whisper's word times come from attention, not from the waveform: a word usually starts where
the previous one ended, the pause between them counted as its own, 0.2–0.4 s before the
sound. Here the audio decides: a 10 ms loudness envelope marks pauses (runs of frames well
below the speech level, at least :data:`MIN_PAUSE_S` long), and every boundary between two
words that has a pause near it moves onto that pause's edges — the first word ends where
the pause starts, the next begins where it ends. Where words run together (no pause), the
boundary stays where Whisper put it. A cut keeps :data:`PAD_S` of the pause on the word's
side, so deleting a word takes its faint last milliseconds with it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from engines.transcripts.timed import Word

HOP_S = 0.010
MIN_PAUSE_S = 0.06  # shorter dips are stop consonants inside a word
SEARCH_S = 0.35  # how far from Whisper's boundary a pause may be
PAD_S = 0.020  # a cut keeps this much of a pause on the word's side (a word's faint tail)
RANGE_DB = 40.0  # frames this far below the speech level are quiet
FLOOR_MARGIN_DB = 8.0  # ... and at least this far above the room's noise


def envelope_db(audio: np.ndarray, rate: int) -> np.ndarray:
    """Loudness of each 10 ms frame in dB (RMS)."""
    hop = max(1, round(rate * HOP_S))
    n = len(audio) // hop
    if n == 0:
        return np.zeros(0)
    frames = audio[: n * hop].astype(np.float64).reshape(n, hop)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    return 20 * np.log10(np.maximum(rms, 1e-7))


def quiet_frames(env: np.ndarray) -> np.ndarray:
    """Which frames are pauses: below both the speech level less RANGE_DB and noise + margin."""
    if env.size == 0:
        return np.zeros(0, bool)
    speech = float(np.percentile(env, 95))
    noise = float(np.percentile(env, 10))
    threshold = max(speech - RANGE_DB, min(noise + FLOOR_MARGIN_DB, speech - 12.0))
    return env < threshold


def pauses(env: np.ndarray, min_frames: int) -> list[tuple[int, int]]:
    """Runs of quiet frames ``[a, b)`` at least ``min_frames`` long (and the edges' runs)."""
    quiet = quiet_frames(env)
    if quiet.size == 0:
        return []
    padded = np.concatenate([[False], quiet, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    runs = list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))
    return [(a, b) for a, b in runs if b - a >= min_frames or a == 0 or b == len(quiet)]


def _nearest(runs: list[tuple[int, int]], lo: int, hi: int, target: int,
             after: int = -1) -> tuple[int, int] | None:
    """The pause that overlaps frames [lo, hi] nearest to ``target`` (0 when it contains it),
    among those that begin after frame ``after`` (the word before it has begun)."""
    best, best_d = None, None
    for a, b in runs:
        if b <= lo or a >= hi or a <= after:
            continue
        d = 0 if a <= target < b else min(abs(a - target), abs(b - target))
        if best_d is None or d < best_d or (d == best_d and best is not None and b - a > best[1] - best[0]):
            best, best_d = (a, b), d
    return best


def refine(words: list[Word], audio: np.ndarray, rate: int) -> list[Word]:
    """``words`` with each edge moved onto the pause next to it (see the module doc)."""
    if not words:
        return []
    env = envelope_db(audio, rate)
    n = len(env)
    if n == 0:
        return list(words)
    runs = pauses(env, max(1, round(MIN_PAUSE_S / HOP_S)))
    span = round(SEARCH_S / HOP_S)

    def frame(t: float) -> int:
        return int(np.clip(round(t / HOP_S), 0, n))

    starts = [frame(w.start) for w in words]
    ends = [frame(w.end) for w in words]
    mids = [(s + e) // 2 for s, e in zip(starts, ends, strict=True)]
    # Before the first word: the pause it follows (the audio may start with silence).
    first = _nearest(runs, max(0, starts[0] - span), mids[0], starts[0])
    if first is not None and 0 < first[1] < ends[0]:
        starts[0] = max(first[0], first[1] - round(PAD_S / HOP_S))
    for i in range(len(words) - 1):
        boundary = (ends[i] + starts[i + 1]) // 2
        lo = max(starts[i] + 1, min(mids[i], boundary - span))
        hi = min(max(mids[i + 1], boundary + span), ends[i + 1] - 1)
        gap = _nearest(runs, lo, hi, boundary, after=starts[i])
        if gap is None:
            continue
        a, b = gap
        pad = min(round(PAD_S / HOP_S), (b - a) // 4)
        ends[i] = max(a + pad, starts[i] + 1)
        if b < ends[i + 1]:
            starts[i + 1] = max(b - pad, ends[i])
    last = _nearest(runs, mids[-1], min(n, ends[-1] + span), ends[-1])
    if last is not None and last[0] > starts[-1]:
        ends[-1] = min(last[1], last[0] + round(PAD_S / HOP_S))
    out = []
    for w, s, e in zip(words, starts, ends, strict=True):
        e = max(e, s + 1)
        out.append(replace(w, start=round(s * HOP_S, 3), end=round(min(e, n) * HOP_S, 3)))
    return out
