"""Where people speak, for ducking, pause shortening and the banking checks.

The detection itself is the voice library's (Silero VAD, ONNX, one model per process:
engines.voices.prepare.speech_spans); this module only adds the union over several
speakers' tracks, which mastering needs.
"""

from __future__ import annotations

from engines.audio import AudioClip


def speech_regions(clip: AudioClip) -> list[tuple[float, float]]:
    """Speech as sorted, non-overlapping ``(start, end)`` seconds on the clip's timeline."""
    from engines.voices.prepare import speech_spans

    return speech_spans(clip)


def merge_regions(regions: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Union of possibly overlapping regions (several speakers on several tracks)."""
    merged: list[list[float]] = []
    for start, end in sorted(regions):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]
