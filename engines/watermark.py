"""The imperceptible watermark every generated take carries, and its detector.

resemble-perth's implicit PerthNet (its model ships inside the package, so this works
offline) nudges the magnitude spectrum below 2 kHz at 32 kHz in a way its decoder
recognises; detection gives one confidence in [0, 1] for a whole clip. It carries presence
only, no payload: *who/what/how* lives in the take's provenance and the file's tags.

Two things are done here rather than by calling perth's ``apply_watermark`` on the take:

- **Residual embedding.** Perth resamples to 32 kHz and back, which would low-pass a 48 kHz
  take at 16 kHz. Instead the watermark is computed at 32 kHz on the mid (mono) signal, the
  *difference* it makes is resampled to the take's rate and added to every channel. The
  take keeps its full bandwidth and stereo image, and its mono fold-down carries exactly
  the mark perth made.
- **Windows.** Long takes are processed in overlapping windows (cross-faded residuals), so
  memory stays bounded whatever the length.

Every engine goes through :func:`finalize_take`, so all takes are marked the same way and
``provenance.watermarked`` always says what was done.
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from engines.audio import AudioClip
from engines.errors import ModelMissing
from engines.provenance import GeneratedTake, Provenance

MODEL_RATE = 32_000  # perth's implicit model works at 32 kHz
THRESHOLD = 0.5  # decoder confidence above which the mark counts as present
MIN_SECONDS = 0.1  # perth's STFT (n_fft 2048) needs at least this much audio
WINDOW_SECONDS = 60.0
OVERLAP_SECONDS = 1.0
# Re-pitch factors that remove a real mark (it reads ~0.1 after them, up to ~0.47 on short
# stereo takes, also after MP3, noise or gain) while a response caused by tonal content
# usually survives at least one of them; a real mark must read below CONFIRM_MAX after
# each and below CONFIRM_MEAN on average. Stricter limits turned real marks inconclusive;
# ±2 % is too little (real marks survive it).
CONFIRM_SHIFTS = (0.96, 1.04, 0.92, 1.08)
CONFIRM_MAX = 0.5
CONFIRM_MEAN = 0.25
DETECT_SECONDS = 10.0  # detection window: a marked stretch this long is found anywhere
MAX_PASSES = 2  # embedding passes before giving up on a take the decoder cannot find

_lock = threading.Lock()
_model: Any = None


@dataclass(frozen=True)
class Detection:
    """Whether a clip carries the watermark.

    ``verdict`` is "present", "absent" or "inconclusive": the last when the decoder also
    responds to the audio slightly re-pitched, which a real mark does not survive, so the
    response comes from the content (steady tones, hum) and proves nothing. ``reason``
    says why a clip could not be judged or why it is inconclusive.
    """

    score: float
    verdict: str
    reason: str = ""
    marked_fraction: float = 0.0
    shifted_score: float | None = None

    @property
    def present(self) -> bool:
        return self.verdict == "present"


def method() -> str:
    """Name and version of the watermark, as recorded and shown to users."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"resemble-perth {version('resemble-perth')} (implicit)"
    except PackageNotFoundError:
        return "resemble-perth (implicit)"


def watermarker() -> Any:
    """perth's ``PerthImplicitWatermarker`` on CPU, loaded once per process (~40 MB)."""
    global _model
    with _lock:
        if _model is None:
            _model = _load()
    return _model


def _load() -> Any:
    from engines._standins import install

    install()  # perth imports torchaudio transforms; the project's stand-in provides them
    try:
        # perth prints "loaded PerthNet ..." on stdout, which would corrupt CLI output, and
        # imports the deprecated pkg_resources, which warns on stderr at every start.
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
            from perth.perth_net.perth_net_implicit.perth_watermarker import (
                PerthImplicitWatermarker,
            )

            return PerthImplicitWatermarker(device="cpu")
    except (ImportError, OSError, RuntimeError) as exc:
        raise ModelMissing(
            f"The watermark model (resemble-perth) could not be loaded: {exc}. "
            "Reinstall the app's dependencies with: make setup"
        ) from exc


def _to_model_rate(mono: np.ndarray, rate: int) -> np.ndarray:
    import soxr

    if rate == MODEL_RATE:
        return mono.astype(np.float32)
    return np.asarray(soxr.resample(mono, rate, MODEL_RATE, quality="VHQ"), dtype=np.float32)


def _windows(n: int) -> list[tuple[int, int]]:
    """Overlapping (start, end) windows covering ``n`` samples at the model rate."""
    size, hop = int(WINDOW_SECONDS * MODEL_RATE), int((WINDOW_SECONDS - OVERLAP_SECONDS) * MODEL_RATE)
    if n <= size:
        return [(0, n)]
    starts = list(range(0, n - size, hop)) + [max(0, n - size)]
    return [(s, min(n, s + size)) for s in starts]


def _residual(x: np.ndarray) -> np.ndarray:
    """What perth adds to ``x`` (mono, model rate), window by window, cross-faded."""
    import torch

    model = watermarker()
    out = np.zeros_like(x)
    weight = np.zeros_like(x)
    fade = int(OVERLAP_SECONDS * MODEL_RATE)
    with torch.inference_mode():
        for a, b in _windows(len(x)):
            seg = x[a:b]
            marked = np.asarray(model.apply_watermark(seg, sample_rate=MODEL_RATE), np.float32)
            m = min(len(marked), len(seg))  # the inverse STFT may drop a partial last hop
            w = np.ones(b - a, np.float32)
            if a > 0:
                w[:fade] = np.linspace(0, 1, fade, dtype=np.float32)
            if b < len(x):
                w[-fade:] = np.minimum(w[-fade:], np.linspace(1, 0, fade, dtype=np.float32))
            out[a : a + m] += (marked[:m] - seg[:m]) * w[:m]
            weight[a : a + m] += w[:m]
    return out / np.maximum(weight, 1e-6)


def _judgeable(clip: AudioClip) -> str:
    if clip.duration < MIN_SECONDS:
        return f"too short (under {MIN_SECONDS:g} s)"
    if clip.peak == 0.0:
        return "silent"
    return ""


def embed(clip: AudioClip) -> AudioClip:
    """The clip with the watermark added (same rate, channels and length)."""
    if _judgeable(clip):
        return clip
    import soxr

    mid = clip.mono().samples[0]
    residual = _residual(_to_model_rate(mid, clip.sample_rate))
    if clip.sample_rate != MODEL_RATE:
        residual = np.asarray(soxr.resample(residual, MODEL_RATE, clip.sample_rate, quality="VHQ"))
    fitted = np.zeros(clip.frames, np.float32)
    n = min(clip.frames, len(residual))
    fitted[:n] = residual[:n]
    return AudioClip(clip.samples + fitted[np.newaxis, :], clip.sample_rate)


def _detect_windows(n: int) -> list[tuple[int, int]]:
    """Back-to-back windows of ``DETECT_SECONDS``; a short tail joins the previous one."""
    size = int(DETECT_SECONDS * MODEL_RATE)
    bounds = list(range(0, n, size)) + [n]
    if len(bounds) > 2 and bounds[-1] - bounds[-2] < size // 2:
        del bounds[-2]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def _scores(clip: AudioClip) -> list[tuple[float, int]]:
    """(decoder confidence, length) per detection window of the mono fold-down."""
    import torch

    model = watermarker()
    x = _to_model_rate(clip.mono().samples[0], clip.sample_rate)
    scores: list[tuple[float, int]] = []
    with torch.inference_mode():
        for a, b in _detect_windows(len(x)):
            score = float(model.get_watermark(x[a:b], sample_rate=MODEL_RATE, round=False))
            if np.isfinite(score):  # all-quiet windows give NaN: they say nothing
                scores.append((score, b - a))
    return scores


def _repitched(clip: AudioClip, factor: float) -> AudioClip:
    """The clip played ``factor`` times faster (pitch and tempo together)."""
    import soxr

    out = soxr.resample(clip.samples.T, clip.sample_rate, round(clip.sample_rate / factor))
    return AudioClip(np.asarray(out, np.float32).T.reshape(clip.channels, -1), clip.sample_rate)


def raw_score(clip: AudioClip) -> float:
    """The decoder's best window confidence, without the content check (0 when unjudgeable)."""
    if _judgeable(clip):
        return 0.0
    return max((s for s, _ in _scores(clip)), default=0.0)


def detect(clip: AudioClip) -> Detection:
    """Is the watermark in this clip? Judged window by window on the mono fold-down.

    The score is the best window's, so a file where only part is generated (a generated
    voice in a longer imported programme) is still found; ``marked_fraction`` says how
    much of the judged audio responds. A high score is confirmed by re-pitching the clip
    a few percent: perth's mark sits in fixed frequency bins and is gone after that, while
    a response caused by the content itself stays (see :class:`Detection`).
    """
    reason = _judgeable(clip)
    if reason:
        return Detection(0.0, "absent", reason)
    scores = _scores(clip)
    if not scores:
        return Detection(0.0, "absent", "silent")
    best = max(s for s, _ in scores)
    marked = sum(n for s, n in scores if s >= THRESHOLD) / sum(n for _, n in scores)
    if best < THRESHOLD:
        return Detection(best, "absent", marked_fraction=marked)
    shifted: list[float] = []
    for factor in CONFIRM_SHIFTS:  # stop at the first re-pitched copy that still responds
        shifted.append(raw_score(_repitched(clip, factor)))
        if shifted[-1] >= CONFIRM_MAX:
            break
    if max(shifted) >= CONFIRM_MAX or float(np.mean(shifted)) >= CONFIRM_MEAN:
        return Detection(
            best,
            "inconclusive",
            "the detector also responds to this audio re-pitched, so its content (steady "
            "tones or hum) triggers it and a watermark can be neither confirmed nor ruled out",
            marked,
            max(shifted),
        )
    return Detection(best, "present", "", marked, max(shifted))


_override: contextvars.ContextVar[bool | None] = contextvars.ContextVar("watermark", default=None)


@contextlib.contextmanager
def watermarking(on: bool | None) -> Iterator[None]:
    """Within this block, takes whose engine passes ``watermark=None`` follow ``on``.

    This is how a caller applies a project's setting (or ``timbre regenerate`` the original
    take's choice) without every request type growing a field. Context variables do not
    cross into new threads: set it inside the worker that runs the engine.
    """
    token = _override.set(on)
    try:
        yield
    finally:
        _override.reset(token)


def watermark_wanted() -> bool:
    """The caller's override if one is active, else the user setting ``watermark``."""
    from engines.settings import get_setting

    forced = _override.get()
    return bool(get_setting("watermark")) if forced is None else forced


def finalize_take(
    clip: AudioClip, provenance: Provenance, watermark: bool | None = None
) -> GeneratedTake:
    """The one way an engine hands out a take: watermarked unless turned off, with the
    provenance saying so. ``watermark=None`` follows :func:`watermark_wanted`.

    The mark is verified by reading it back. Sparse, tonal audio (a few sustained partials,
    little noise) sometimes needs a second pass before the decoder finds it;
    ``watermarked`` is True only when the decoder reads the finished take as marked (a
    silent or very short take cannot be).
    """
    if watermark is None:
        watermark = watermark_wanted()
    if not watermark:
        return GeneratedTake(clip, replace(provenance, watermarked=False, watermark_score=None))
    marked = clip
    score = 0.0
    for _ in range(MAX_PASSES):
        marked = embed(marked)
        score = raw_score(marked)
        if score >= THRESHOLD or _judgeable(marked):
            break
    return GeneratedTake(
        marked,
        replace(provenance, watermarked=score >= THRESHOLD, watermark_score=round(score, 4)),
    )
