"""Music ducking: the bed drops by an asked number of dB while anyone speaks.

The gain is computed at a 100 Hz control rate and interpolated to samples: the level moves
in dB at a fixed slew (the full depth over ``attack_s`` going down, over ``release_s`` coming
back), and each speech region is widened by ``attack_s`` in front so the bed is already down
when the first syllable starts, and held for ``hold_s`` after so it does not pump between
words.
"""

from __future__ import annotations

import numpy as np

from engines.audio import AudioClip

CONTROL_RATE = 100


def duck_gain(
    frames: int,
    sample_rate: int,
    speech: list[tuple[float, float]],
    depth_db: float,
    attack_s: float = 0.12,
    release_s: float = 0.6,
    hold_s: float = 0.3,
) -> np.ndarray:
    """Per-sample linear gain for the music bed (1.0 in the clear, depth under speech)."""
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
    t_ctrl = np.arange(n) / CONTROL_RATE
    out = np.empty(frames, np.float32)
    step = 10 * sample_rate  # in pieces: whole-length float64 temporaries cost 24 bytes a frame
    for a in range(0, frames, step):
        t = np.arange(a, min(frames, a + step)) / sample_rate
        out[a : a + len(t)] = 10 ** (np.interp(t, t_ctrl, level) / 20)
    return out


def duck(music: AudioClip, speech: list[tuple[float, float]], depth_db: float) -> AudioClip:
    gain = duck_gain(music.frames, music.sample_rate, speech, depth_db)
    return AudioClip(music.samples * gain, music.sample_rate)


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
