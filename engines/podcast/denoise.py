"""Noise reduction on its own, for one take (the studio's "Denoise…" on a clip or track).

The same two methods as the episode clean-up chain (:data:`engines.podcast.cleanup.DENOISERS`),
without its levelling and dynamics, so a denoised clip keeps its level and its place: the
spectral method profiles the take's own pauses (Silero VAD finds the speech), RNNoise
needs no profile.
"""

from __future__ import annotations

from engines.audio import AudioClip
from engines.cancel import CancelToken, Progress, ProgressCallback, no_progress
from engines.podcast.cleanup import BLOCK_S, DENOISERS, _denoised, noise_profile
from engines.stream import AudioStream


def denoise_clip(
    clip: AudioClip,
    method: str = "rnnoise",
    amount: float = 1.0,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> AudioClip:
    """``clip`` with its noise lowered by ``method`` (a key of ``DENOISERS``), same length,
    rate and channels, sample-aligned with the original."""
    from engines.errors import BadInput

    if method not in DENOISERS:
        raise BadInput(f"'{method}' is not a noise reduction method; use {', '.join(DENOISERS)}.")
    stream = AudioStream.from_clip(clip)
    step_frames = int(BLOCK_S * clip.sample_rate)
    total = max(1, -(-clip.frames // step_frames))
    done = 0

    def step() -> None:
        nonlocal done
        if cancel is not None:
            cancel.check()
        done += 1
        progress(Progress(min(done, total), total, "reducing noise"))

    if method == "rnnoise":
        from engines.podcast.rnnoise import denoised

        out = denoised(stream, amount, step, step_frames)
    else:
        from engines.podcast.vad import speech_regions

        progress(Progress(0, total, "finding speech"))
        profile = noise_profile(stream, speech_regions(clip))
        out = _denoised(stream, profile, amount, step)
    return out.clip()
