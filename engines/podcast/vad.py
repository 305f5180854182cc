"""Where people speak, for ducking, pause shortening and the banking checks.

The detection itself is the voice library's (Silero VAD, ONNX, one model per process:
engines.voices.prepare.speech_spans); this module only adds the union over several
speakers' tracks, which mastering needs.
"""

from __future__ import annotations

from collections.abc import Callable

from engines.audio import AudioClip
from engines.stream import AudioStream

BLOCK_S = 60.0


def speech_regions(
    audio: AudioClip | AudioStream, on_block: Callable[[float], None] | None = None
) -> list[tuple[float, float]]:
    """Speech as sorted, non-overlapping ``(start, end)`` seconds on the audio's timeline.

    The audio goes in blocks of ``BLOCK_S`` (a stream is read block by block, so its
    length does not matter); ``on_block(fraction_done)`` runs after each (for progress,
    and to raise Cancelled between blocks). A word cut by a block edge comes back as two
    touching regions, which :func:`merge_regions` joins.
    """
    from engines.podcast.streams import regrouped
    from engines.voices.prepare import speech_spans

    stream = AudioStream.from_clip(audio) if isinstance(audio, AudioClip) else audio
    rate, frames = stream.sample_rate, max(stream.frames, 1)
    step = int(BLOCK_S * rate)
    found: list[tuple[float, float]] = []
    for a, block in regrouped(stream, step):
        offset = a / rate
        found += [(offset + s, offset + e) for s, e in speech_spans(AudioClip(block, rate))]
        if on_block is not None:
            on_block(min(1.0, (a + step) / frames))
    return merge_regions(found)


def merge_regions(regions: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Union of possibly overlapping regions (several speakers on several tracks)."""
    merged: list[list[float]] = []
    for start, end in sorted(regions):
        if merged and start <= merged[-1][1] + 0.05:  # touching across a block edge
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]
