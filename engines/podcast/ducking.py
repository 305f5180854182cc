"""Music ducking: the bed drops by an asked number of dB while anyone speaks.

The gain is computed at a 100 Hz control rate and interpolated to samples: the level moves
in dB at a fixed slew (the full depth over ``attack_s`` going down, over ``release_s`` coming
back), and each speech region is widened by ``attack_s`` in front so the bed is already down
when the first syllable starts, and held for ``hold_s`` after so it does not pump between
words.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from engines.audio import AudioClip
from engines.stream import AudioStream, Block, Source, block_frames

CONTROL_RATE = 100


@dataclass(frozen=True)
class DuckEnvelope:
    """The bed's gain in dB at ``CONTROL_RATE``: ~400 bytes a minute, where a gain per
    sample costs 10 MB a minute; :meth:`gain` interpolates the samples a block needs."""

    levels_db: np.ndarray
    sample_rate: int

    def gain(self, start: int, frames: int) -> np.ndarray:
        """Linear gain for samples ``start`` .. ``start + frames`` (float32)."""
        t_ctrl = np.arange(len(self.levels_db)) / CONTROL_RATE
        t = np.arange(start, start + frames) / self.sample_rate
        return (10 ** (np.interp(t, t_ctrl, self.levels_db) / 20)).astype(np.float32)


def duck_envelope(
    frames: int,
    sample_rate: int,
    speech: list[tuple[float, float]],
    depth_db: float,
    attack_s: float = 0.12,
    release_s: float = 0.6,
    hold_s: float = 0.3,
) -> DuckEnvelope:
    """The ducking gain for ``frames`` samples of bed (0 dB in the clear, depth under speech)."""
    n = int(np.ceil(frames / sample_rate * CONTROL_RATE)) + 1
    target = np.zeros(n, np.float32)
    for start, end in speech:
        a = max(0, int((start - attack_s) * CONTROL_RATE))
        b = min(n, int(np.ceil((end + hold_s) * CONTROL_RATE)))
        target[a:b] = -abs(depth_db)
    down = abs(depth_db) / max(attack_s * CONTROL_RATE, 1.0)
    up = abs(depth_db) / max(release_s * CONTROL_RATE, 1.0)
    level = np.empty(n, np.float32)
    current = 0.0
    for i, want in enumerate(target):
        if want < current:
            current = max(want, current - down)
        elif want > current:
            current = min(want, current + up)
        level[i] = current
    return DuckEnvelope(level, sample_rate)


def duck(music: AudioClip, speech: list[tuple[float, float]], depth_db: float) -> AudioClip:
    gain = duck_envelope(music.frames, music.sample_rate, speech, depth_db).gain(0, music.frames)
    return AudioClip(music.samples * gain, music.sample_rate)


def fitted_bed(
    music: Source, frames: int, crossfade_s: float = 2.0, fade_out_s: float = 3.0
) -> AudioStream:
    """:func:`fit_bed` as a stream: each block sums the (at most two) looped copies that
    play in it, read from ``music`` by seeking, so a bed of any length loops under an
    episode of any length without either being held whole."""
    from engines.mixing import fade_curve

    sr, m = music.sample_rate, music.frames
    xf = min(int(crossfade_s * sr), m // 4)
    stride = m - xf
    copies = 1 + max(0, int(np.ceil((frames - m) / max(stride, 1))))
    rise, fall = fade_curve(xf, True), fade_curve(xf, False)
    k = min(int(fade_out_s * sr), frames)
    fade_out = fade_curve(k, False)
    step = block_frames(sr)

    def blocks() -> Iterator[Block]:
        for a in range(0, frames, step):
            b = min(frames, a + step)
            out = np.zeros((music.channels, b - a), np.float32)
            for i in range(max(0, (a - m) // stride), min(copies - 1, (b - 1) // stride) + 1):
                lo, hi = max(a, i * stride), min(b, i * stride + m)
                if lo >= hi:
                    continue
                piece = np.array(music.read(lo - i * stride, hi - lo), np.float32)
                p0 = lo - i * stride  # where the piece starts within its copy
                if xf and i > 0 and p0 < xf:
                    n = min(xf, p0 + piece.shape[1]) - p0
                    piece[:, :n] *= rise[p0 : p0 + n]
                if xf and i < copies - 1 and p0 + piece.shape[1] > m - xf:
                    s = max(p0, m - xf)
                    piece[:, s - p0 :] *= fall[s - (m - xf) : p0 + piece.shape[1] - (m - xf)]
                out[:, lo - a : hi - a] += piece
            if k and b > frames - k:
                s = max(a, frames - k)
                out[:, s - a :] *= fade_out[s - (frames - k) : b - (frames - k)]
            yield out

    return AudioStream(blocks, sr, music.channels, frames)


def fit_bed(
    music: AudioClip, frames: int, crossfade_s: float = 2.0, fade_out_s: float = 3.0
) -> AudioClip:
    """Loop (with an equal-power crossfade) or trim the bed to ``frames``, fading out at the end."""
    from engines.mixing import fade_curve

    sr = music.sample_rate
    xf = min(int(crossfade_s * sr), music.frames // 4)
    stride = music.frames - xf
    copies = 1 + max(0, int(np.ceil((frames - music.frames) / max(stride, 1))))
    out = np.zeros((music.channels, stride * (copies - 1) + music.frames), np.float32)
    rise, fall = fade_curve(xf, True), fade_curve(xf, False)
    for i in range(copies):  # overlap-add: each copy fades in over the previous one's tail
        piece = music.samples.copy()
        if xf and i > 0:
            piece[:, :xf] *= rise
        if xf and i < copies - 1:
            piece[:, -xf:] *= fall
        out[:, i * stride : i * stride + music.frames] += piece
    out = out[:, :frames]
    k = min(int(fade_out_s * sr), frames)
    if k:
        out[:, frames - k :] *= fade_curve(k, False)
    return AudioClip(out, sr)
