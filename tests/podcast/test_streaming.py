"""The streamed mastering stages give what the in-memory ones gave, whatever the blocks."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from engines.audio import AudioClip
from engines.stream import AudioStream, ClipSource

RATE = 8_000


def _noise(seconds: float, channels: int = 1, seed: int = 0) -> AudioClip:
    rng = np.random.default_rng(seed)
    return AudioClip(rng.standard_normal((channels, int(seconds * RATE))).astype(np.float32) * 0.1, RATE)


def _odd_blocks(clip: AudioClip, sizes=(997, 13, 4001, 1)) -> AudioStream:
    """The clip in irregular blocks, to catch any dependence on where blocks fall."""

    def blocks() -> Iterator[np.ndarray]:
        a, i = 0, 0
        while a < clip.frames:
            n = sizes[i % len(sizes)]
            yield clip.samples[:, a : a + n]
            a, i = a + n, i + 1

    return AudioStream(blocks, clip.sample_rate, clip.channels, clip.frames)


@pytest.mark.parametrize(("bed_s", "episode_s"), [(7.0, 40.0), (30.0, 12.5), (3.0, 3.0)])
def test_fitted_bed_stream_equals_fit_bed(bed_s, episode_s):
    from engines.podcast.ducking import fit_bed, fitted_bed

    bed = _noise(bed_s, 2)
    frames = int(episode_s * RATE)
    want = fit_bed(bed, frames).samples
    got = fitted_bed(ClipSource(bed), frames).clip().samples
    assert np.array_equal(got, want)


def test_cuts_do_not_depend_on_block_edges():
    from engines.podcast.pauses import Cut, apply_cuts, cut_stream

    clip = _noise(10.0, 2)
    # Pieces shorter than the crossfade, touching the start, and running past the end.
    cuts = [Cut(0.0, 0.5), Cut(1.0, 1.01), Cut(1.015, 3.0), Cut(3.1, 3.2), Cut(9.5, 12.0)]
    want = apply_cuts(clip, cuts)
    got = cut_stream(_odd_blocks(clip), cuts)
    assert got.frames == want.frames
    assert np.array_equal(got.clip().samples, want.samples)


def _reference_profile(x: np.ndarray, speech: list[tuple[float, float]]) -> np.ndarray:
    """The whole-array definition (a mask as long as the track) that the streamed one
    must match."""
    from engines.podcast.cleanup import MAX_NOISE_PROFILE_S

    sr = RATE
    keep = np.ones(x.size, bool)
    for start, end in speech:
        keep[max(0, int(start * sr) - sr // 20) : int(end * sr) + sr // 20] = False
    noise = x[keep]
    limit = int(MAX_NOISE_PROFILE_S * sr)
    if noise.size <= limit:
        return noise
    pieces = noise[: noise.size // sr * sr].reshape(-1, sr)
    pick = np.linspace(0, len(pieces) - 1, limit // sr).round().astype(int)
    return pieces[pick].reshape(-1)


@pytest.mark.parametrize("seconds", [200.0, 30.0])
def test_noise_profile_is_the_pauses_joined_or_sampled(seconds):
    from engines.podcast.cleanup import noise_profile

    clip = _noise(seconds)
    speech = [(0.0, 1.0), (10.0, 12.5), (150.0, 151.0), (199.99, 200.0)]
    want = _reference_profile(clip.samples[0], speech)
    assert np.array_equal(noise_profile(_odd_blocks(clip), speech), want)
