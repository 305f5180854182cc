"""Separating audio into stems with demucs' Hybrid Transformer Demucs (``htdemucs``).

Weights: the one htdemucs file the melody checkpoints also use, kept in the model store
as ``demucs/htdemucs`` (``timbre models import 955717e8-8726e21a.th`` or ``timbre models
download htdemucs``: fetched from demucs' own URL and checked against the release's
SHA-256, :mod:`engines.htdemucs`). It is loaded weights-only by the one loader
(:func:`engines.htdemucs.load_htdemucs`): a file that would run pickled code is refused.
``debug`` is a tiny random-weight HTDemucs made with demucs' own class and written in the
release's format (:func:`engines.htdemucs.save_tiny_htdemucs`), loaded the same way: its
"stems" are noise, for tests and trying the plumbing.

Separation itself is demucs' ``apply_model`` (overlapping segments, cross-faded), with
the input normalised as demucs' own command line does. The audio goes through in blocks
of ``BLOCK_S`` seconds with ``CONTEXT_S`` of its neighbours either side, neighbouring
blocks cross-faded over the (up to ``2 × CONTEXT_S``) frames they share (no hard switch, so no click at a
block edge), so progress is reported and Cancel is honoured every block.

Two-stem mode (``two_stems="vocals"``: dialogue isolation) keeps that stem and sums the
others into ``no_vocals``, as ``demucs --two-stems`` does.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engines.audio import AudioClip
from engines.cancel import CancelToken, Progress, ProgressCallback, no_progress
from engines.errors import BadInput, ModelMissing

SOURCES = ("drums", "bass", "other", "vocals")  # htdemucs' stems, in its order
DEBUG = "debug"
DEBUG_ID = "timbre/htdemucs-debug"
OFFICIAL_ID = "htdemucs"
BLOCK_S = 30.0
CONTEXT_S = 1.0
MAX_MINUTES = 60  # every stem is held in memory (4 stems of an hour, stereo: ~5 GB at 44.1 kHz)


def debug_weights() -> Path:
    """The tiny random HTDemucs, written on first use (atomically: two processes may race)."""
    from engines.htdemucs import HTDEMUCS_FILE, save_tiny_htdemucs
    from engines.paths import models_dir

    path = models_dir() / "debug-hub" / "htdemucs-debug" / "checkpoints" / HTDEMUCS_FILE
    if not path.is_file():
        part = path.with_name(f".{path.name}.{os.getpid()}.part")
        save_tiny_htdemucs(part)
        os.replace(part, path)
    return path


def weights_for(model: str | None) -> tuple[Path, str]:
    """The ``.th`` file for ``model`` (``htdemucs`` or ``debug``) and its model id, or
    :class:`ModelMissing` saying how to get it."""
    from engines import htdemucs

    if model == DEBUG:
        return debug_weights(), DEBUG_ID
    if model not in (None, "", OFFICIAL_ID, htdemucs.HTDEMUCS_REPO):
        raise BadInput(f"'{model}' is not a stem separation model; use htdemucs or debug.")
    packages = htdemucs.missing_packages()
    if packages:
        raise ModelMissing(f"Stem separation needs the demucs package (missing: "
                           f"{', '.join(packages)}); 'make setup' installs it.")
    hub = htdemucs.find_hub_dir()
    if hub is None:
        raise ModelMissing("Stem separation needs demucs' htdemucs weights: run 'timbre models "
                           f"download htdemucs', or {htdemucs.import_hint()}.")
    return hub / "checkpoints" / htdemucs.HTDEMUCS_FILE, OFFICIAL_ID


def unavailable_reason() -> str | None:
    """Why the real model cannot run here, or None (no torch import: the registry's check)."""
    from engines import htdemucs

    packages = htdemucs.missing_packages()
    if packages:
        return f"needs the demucs package (missing: {', '.join(packages)})"
    if htdemucs.find_hub_dir() is None:
        return f"needs demucs' htdemucs weights ('timbre models download htdemucs', or {htdemucs.import_hint()})"
    return None


@dataclass
class Separator:
    """A loaded HTDemucs and what it is."""

    model: Any
    model_id: str
    sha256: str
    device: str

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(self.model.sources)

    @property
    def sample_rate(self) -> int:
        return int(self.model.samplerate)


def load_separator(model: str | None = None, device: str = "cpu") -> Separator:
    from engines.blobs import file_sha256
    from engines.htdemucs import load_htdemucs

    path, model_id = weights_for(model)
    net = load_htdemucs(path).to(device)
    return Separator(net, model_id, file_sha256(path), device)


def stem_names(sources: tuple[str, ...], two_stems: str | None) -> list[str]:
    if two_stems is None:
        return list(sources)
    if two_stems not in sources:
        raise BadInput(f"'{two_stems}' is not a stem this model makes; choose one of "
                       f"{', '.join(sources)}.")
    return [two_stems, f"no_{two_stems}"]


def separate(
    clip: AudioClip,
    separator: Separator,
    two_stems: str | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> dict[str, AudioClip]:
    """``clip`` split into stems (name → clip at the clip's rate, channels and length);
    the stems add up to (nearly) the input, as demucs' do."""
    import torch
    from demucs.apply import apply_model

    names = stem_names(separator.sources, two_stems)
    if clip.duration > MAX_MINUTES * 60:
        raise BadInput(f"The audio is {clip.duration / 60:.0f} minutes long; stem separation "
                       f"takes up to {MAX_MINUTES} minutes at a time. Split it first.")
    rate = separator.sample_rate
    channels = int(separator.model.audio_channels)
    mix = clip.resampled(rate).with_channels(channels).samples
    ref = mix.mean(axis=0)
    mean, std = float(ref.mean()), float(ref.std()) or 1.0
    x = torch.from_numpy((mix - mean) / std)
    frames = x.shape[1]
    blocks = list(cross_faded_blocks(frames, int(BLOCK_S * rate), int(CONTEXT_S * rate)))
    out = np.zeros((len(separator.sources), channels, frames), np.float32)
    weight = np.zeros(frames, np.float32)
    progress(Progress(0, len(blocks), "separating"))
    for i, (lo, hi, w) in enumerate(blocks):
        if cancel is not None:
            cancel.check()
        with torch.inference_mode():
            part = apply_model(separator.model, x[None, :, lo:hi], shifts=0, split=True,
                               overlap=0.25, progress=False, device=separator.device)[0]
        out[:, :, lo:hi] += part.float().cpu().numpy() * w
        weight[lo:hi] += w
        progress(Progress(i + 1, len(blocks), "separating"))
    out /= np.maximum(weight, 1e-6)
    out = out * std + mean
    by_name = dict(zip(separator.sources, out, strict=True))
    if two_stems is not None:
        rest = sum(v for k, v in by_name.items() if k != two_stems)
        by_name = {two_stems: by_name[two_stems], f"no_{two_stems}": rest}
    return {name: _like(AudioClip(np.ascontiguousarray(by_name[name], np.float32), rate), clip)
            for name in names}


def _like(stem: AudioClip, clip: AudioClip) -> AudioClip:
    """``stem`` at ``clip``'s rate and channels and exactly its length (resampling there
    and back can leave a sample more or less), so a stem lines up with its source."""
    out = stem.resampled(clip.sample_rate).with_channels(clip.channels).samples[:, : clip.frames]
    if out.shape[1] < clip.frames:
        out = np.pad(out, ((0, 0), (0, clip.frames - out.shape[1])))
    return AudioClip(np.ascontiguousarray(out, np.float32), clip.sample_rate)



def cross_faded_blocks(frames: int, step: int, context: int) -> Iterator[tuple[int, int, np.ndarray]]:
    """``(lo, hi, weights)`` for each block of ``step`` frames widened by ``context`` each
    side; where two blocks overlap, one fades out as the other fades in (linear, summing
    to 1), so the weights add up to 1 on every frame."""
    for a in range(0, max(frames, 1), step):
        b = min(frames, a + step)
        lo, hi = max(0, a - context), min(frames, b + context)
        rise = min(frames, a + context) - lo if a > 0 else 0  # shared with the block before
        fall = hi - (b - context) if b < frames else 0  # shared with the block after
        w = np.ones(hi - lo, np.float32)
        if rise:
            w[:rise] = (np.arange(rise, dtype=np.float32) + 0.5) / rise
        if fall:
            w[w.size - fall :] *= ((np.arange(fall, dtype=np.float32) + 0.5) / fall)[::-1]
        yield lo, hi, w
