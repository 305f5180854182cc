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
from engines.stream import AudioStream

MODEL_RATE = 32_000  # perth's implicit model works at 32 kHz
THRESHOLD = 0.5  # decoder confidence above which the mark counts as present
MIN_SECONDS = 0.1  # perth's STFT (n_fft 2048) needs at least this much audio
WINDOW_SECONDS = 60.0
OVERLAP_SECONDS = 1.0
# Re-pitch factors that remove a real mark while a response caused by tonal content usually
# survives at least one of them. Measured (tests/benchmarks/test_bench_watermark.py data,
# 180 marked speech/noise clips before and after the five attacks): a real mark reads at
# most 0.26 after any of these and 0.08 on average (a 2.5 s stereo take once 0.47 after one
# of them); clean music the decoder answers on its own reads ≥ 0.25 after two or more, or
# ≥ 0.5 after one. So a real mark must read below CONFIRM_MAX after each, below
# CONFIRM_MEAN on average, and reach CONFIRM_HIGH after at most one. The earlier rule
# (four factors, 0.5 / 0.25) called 1 of 110 clean clips marked (block chords).
CONFIRM_SHIFTS = (0.96, 1.04, 0.92, 1.08, 0.94, 1.06, 0.90, 1.10)
CONFIRM_MAX = 0.5
CONFIRM_MEAN = 0.15
CONFIRM_HIGH = 0.25
# Second, independent check: perth's encoder adds the same fixed ripple (about ±1.7 dB,
# runs of a few bins) to the log spectrum below 2 kHz of every active frame, whatever the
# content, so a marked clip's long-term spectrum correlates with that ripple. Marked
# speech/noise measured 0.16–0.95 after the attacks, clean speech at most 0.14; tonal
# music reaches 0.4 on its own, so this check can veto but never confirm by itself.
PATTERN_MIN = 0.10
PATTERN_BINS = (2, 128)  # STFT bins (n_fft 2048 at 32 kHz) perth writes its mark into
PATTERN_SMOOTH = 15  # bins; the spectral envelope removed before matching the ripple
DETECT_SECONDS = 10.0  # detection window: a marked stretch this long is found anywhere
MAX_PASSES = 2  # embedding passes before giving up on a take the decoder cannot find

_lock = threading.Lock()
_model: Any = None
_ripple: np.ndarray | None = None


@dataclass(frozen=True)
class Detection:
    """Whether a clip carries the watermark.

    ``verdict`` is "present", "absent" or "inconclusive": the last when the decoder also
    responds to the audio slightly re-pitched, which a real mark does not survive, so the
    response comes from the content (steady tones, hum) and proves nothing, or when the
    long-term spectrum lacks the ripple perth's mark always adds. ``reason`` says why a
    clip could not be judged or why it is inconclusive.
    """

    score: float
    verdict: str
    reason: str = ""
    marked_fraction: float = 0.0
    shifted_score: float | None = None
    pattern: float | None = None  # correlation with perth's spectral ripple (see PATTERN_MIN)

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


def _window_score(x: np.ndarray) -> float:
    """Perth's decoder confidence for ``x`` (mono, model rate); NaN for all-quiet audio."""
    import torch

    with torch.inference_mode():
        return float(watermarker().get_watermark(x, sample_rate=MODEL_RATE, round=False))


def _scores(clip: AudioClip) -> tuple[np.ndarray, list[tuple[float, int, int]]]:
    """The mono fold-down at the model rate, and (confidence, start, end) per window."""
    x = _to_model_rate(clip.mono().samples[0], clip.sample_rate)
    scores = []
    for a, b in _detect_windows(len(x)):
        score = _window_score(x[a:b])
        if np.isfinite(score):  # all-quiet windows give NaN: they say nothing
            scores.append((score, a, b))
    return x, scores


def _repitched(x: np.ndarray, factor: float) -> np.ndarray:
    """``x`` (model rate) played ``factor`` times faster (pitch and tempo together)."""
    import soxr

    return np.asarray(soxr.resample(x, MODEL_RATE, round(MODEL_RATE / factor)), np.float32)


def _log_spectrum(x: np.ndarray) -> np.ndarray:
    """Perth's own normalised log-magnitude STFT of ``x`` (model rate), (bins, frames)."""
    import torch

    with torch.inference_mode():
        mag, _ = watermarker().perth_net.ap.signal_to_magphase(
            torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        )
    return mag.numpy().astype(np.float64)


def _long_term_ripple(x: np.ndarray) -> np.ndarray | None:
    """Median over the active frames of the log spectrum minus its smoothed envelope, in
    the mark's bins; None when no frame is active. The median keeps what every frame
    shares (perth's fixed ripple) and drops what comes and goes (notes, formants)."""
    from scipy.ndimage import uniform_filter1d

    lo, hi = PATTERN_BINS
    spec = _log_spectrum(x)[: hi + PATTERN_SMOOTH]
    total = spec.sum(axis=0)
    active = total > 0.05 * total.max()  # perth's own rule for frames it marks
    db = spec[:hi] * 195.0 - 180.0  # perth normalises dB as (dB + 180) / 195
    level = 10 * np.log10(np.mean(10 ** (db / 10), axis=0) + 1e-30)
    active &= level > level.max() - 40.0  # near-silent frames carry noise, not the mark
    if not active.any():
        return None
    frames = spec[:, active]
    detail = frames - uniform_filter1d(frames, PATTERN_SMOOTH, axis=0, mode="nearest")
    ripple = np.median(detail[lo:hi], axis=1)
    return ripple - ripple.mean()


def _template() -> np.ndarray:
    """The ripple perth's encoder adds, measured once on seeded white noise it marks."""
    global _ripple
    with _lock:
        cached = _ripple
    if cached is None:
        rng = np.random.default_rng(0)
        noise = (0.1 * rng.standard_normal(2 * MODEL_RATE)).astype(np.float32)
        import torch

        with torch.inference_mode():
            marked = np.asarray(watermarker().apply_watermark(noise, sample_rate=MODEL_RATE))
        n = min(len(noise), len(marked))
        a, b = _long_term_ripple(marked[:n]), _long_term_ripple(noise[:n])
        assert a is not None and b is not None  # seeded noise is never silent
        cached = a - b
        cached = cached - cached.mean()
        with _lock:
            _ripple = cached
    return cached


def pattern_match(x: np.ndarray) -> float:
    """Correlation (−1..1) of ``x``'s long-term spectral ripple (model rate, mono) with the
    one perth's mark adds: about 0 for clean speech and noise, 0.15–0.95 when marked."""
    ripple = _long_term_ripple(x)
    if ripple is None:
        return 0.0
    template = _template()
    norm = float(np.linalg.norm(ripple) * np.linalg.norm(template))
    return float(ripple @ template / norm) if norm > 0 else 0.0


def raw_score(clip: AudioClip) -> float:
    """The decoder's best window confidence, without the content check (0 when unjudgeable)."""
    if _judgeable(clip):
        return 0.0
    return max((s for s, _, _ in _scores(clip)[1]), default=0.0)


CONTENT_REASON = (
    "the detector also responds to this audio re-pitched, so its content (steady tones or "
    "hum) triggers it and a watermark can be neither confirmed nor ruled out"
)
RIPPLE_REASON = (
    "the detector responds, but the spectral ripple the watermark always adds is missing, "
    "so the response comes from the content and a watermark cannot be confirmed"
)


def detect(clip: AudioClip) -> Detection:
    """Is the watermark in this clip? Judged window by window on the mono fold-down.

    The score is the best window's, so a file where only part is generated (a generated
    voice in a longer imported programme) is still found; ``marked_fraction`` says how
    much of the judged audio responds. A high score must pass two further checks on that
    window before the verdict is "present": re-pitched by each of ``CONFIRM_SHIFTS`` the
    decoder must stop responding (perth's mark sits in fixed frequency bins and is gone
    after that, while a response caused by the content usually stays), and the window's
    long-term spectrum must carry the ripple perth's encoder adds (:func:`pattern_match`).
    """
    reason = _judgeable(clip)
    if reason:
        return Detection(0.0, "absent", reason)
    x, scores = _scores(clip)
    if not scores:
        return Detection(0.0, "absent", "silent")
    best, a, b = max(scores)
    marked = sum(e - s for v, s, e in scores if v >= THRESHOLD) / sum(e - s for _, s, e in scores)
    if best < THRESHOLD:
        return Detection(best, "absent", marked_fraction=marked)
    window = x[a:b]
    shifted: list[float] = []
    for factor in CONFIRM_SHIFTS:  # stop at the first re-pitched copy that still responds
        score = _window_score(_repitched(window, factor))
        shifted.append(score if np.isfinite(score) else 0.0)
        if shifted[-1] >= CONFIRM_MAX:
            break
    top = max(shifted)
    high = sum(v >= CONFIRM_HIGH for v in shifted)
    if top >= CONFIRM_MAX or float(np.mean(shifted)) >= CONFIRM_MEAN or high > 1:
        return Detection(best, "inconclusive", CONTENT_REASON, marked, top)
    pattern = pattern_match(window)
    if pattern < PATTERN_MIN:
        return Detection(best, "inconclusive", RIPPLE_REASON, marked, top, pattern)
    return Detection(best, "present", "", marked, top, pattern)


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
    provenance saying so. ``watermark=None`` follows :func:`watermark_wanted`. The model's
    licence is recorded here too, so every engine's takes carry it without each engine
    remembering to.

    The mark is verified by reading it back. Sparse, tonal audio (a few sustained partials,
    little noise) sometimes needs a second pass before the decoder finds it;
    ``watermarked`` is True only when the decoder reads the finished take as marked (a
    silent or very short take cannot be).
    """
    if not provenance.licence:
        from engines.licences import licence_for

        provenance = replace(provenance, licence=licence_for(provenance.engine, provenance.model_id))
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


# ---- long audio: window by window over a stream -------------------------------------
def embed_stream(stream: AudioStream) -> AudioStream:
    """:func:`embed` over a stream of any length: windows of ``WINDOW_SECONDS`` at the
    stream's rate overlapping by ``OVERLAP_SECONDS``, each marked as :func:`embed` marks a
    clip, their residuals cross-faded as :func:`_residual` does within a clip. Memory is
    one window. Each pass re-embeds (the model's cost): spool the result to a file."""
    rate, channels = stream.sample_rate, stream.channels
    size, overlap = int(WINDOW_SECONDS * rate), int(OVERLAP_SECONDS * rate)
    hop = size - overlap
    rise = np.linspace(0, 1, overlap, dtype=np.float32)

    def residual(x: np.ndarray) -> np.ndarray:
        clip = AudioClip(x, rate)
        return (embed(clip).samples[0] - clip.samples[0]).astype(np.float32)

    def blocks() -> Iterator[np.ndarray]:
        buf = np.zeros((channels, 0), np.float32)
        tail: np.ndarray | None = None  # the previous window's residual over the overlap

        def marked(x: np.ndarray, r: np.ndarray) -> np.ndarray:
            r = r.copy()
            if tail is not None:
                k = min(overlap, len(r))
                r[:k] = tail[:k] * (1 - rise[:k]) + r[:k] * rise[:k]
            return x + r[np.newaxis, :]

        for block in stream.blocks():
            buf = np.concatenate([buf, block], axis=1)
            while buf.shape[1] >= size + overlap:  # keep enough for the next overlap
                r = residual(buf[:, :size])
                yield marked(buf[:, :hop], r[:hop])
                tail = r[hop:size]
                buf = buf[:, hop:]
        if buf.shape[1]:
            yield marked(buf, residual(buf))

    return AudioStream(blocks, rate, channels, stream.frames)


def raw_score_stream(stream: AudioStream) -> float:
    """:func:`raw_score` over a stream: the mono fold-down resampled to the model rate as it
    arrives (soxr streaming, the same samples as resampling the whole), judged in the same
    ``DETECT_SECONDS`` windows (a short tail joins the previous one)."""
    import soxr

    if stream.duration < MIN_SECONDS:
        return 0.0
    size = int(DETECT_SECONDS * MODEL_RATE)
    resampler = None
    if stream.sample_rate != MODEL_RATE:
        resampler = soxr.ResampleStream(stream.sample_rate, MODEL_RATE, 1, "float32", "VHQ")
    best = 0.0

    def judge(x: np.ndarray) -> None:
        nonlocal best
        score = _window_score(x)
        if np.isfinite(score):
            best = max(best, score)

    buf = np.zeros(0, np.float32)
    for block in stream.blocks():
        mid = AudioClip(block, stream.sample_rate).mono().samples[0]
        if resampler is not None:
            mid = np.asarray(resampler.resample_chunk(mid), np.float32)
        buf = np.concatenate([buf, mid])
        while len(buf) >= 2 * size:
            judge(buf[:size])
            buf = buf[size:]
    if resampler is not None:
        buf = np.concatenate([buf, np.asarray(resampler.resample_chunk(np.zeros(0, np.float32), last=True), np.float32)])
    if len(buf) >= size + size // 2:
        judge(buf[:size])
        buf = buf[size:]
    if len(buf) and np.any(buf):
        judge(buf)
    return best
