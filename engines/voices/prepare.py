"""Reference clean-up: from any recording to clean speech at a known level, with a report.

The pipeline, in order, and why:

1. read any format (``engines.audio_io``), mix to mono, resample with soxr;
2. Silero VAD (ONNX) finds the speech spans — everything else is the room;
3. the report is measured on the input *before* anything is changed (SNR from speech vs
   non-speech frames, clipping, level), so it describes what the user recorded;
4. noisereduce (stationary) with the noise profile taken from the non-speech frames — the
   stationary mode with a real noise clip lowers the floor ~29 dB, while the non-stationary
   default also eats ~7 dB of the speech;
5. only the speech spans are kept (short fades at the joins, no clicks);
6. loudness is set to −23 LUFS (EBU R128) by default with pyloudnorm via ``engines.loudness``;
7. Resemblyzer embeds the clean speech and its ~1.6 s segments; when segments disagree the
   report warns that more than one speaker may be talking.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engines.audio import AudioClip
from engines.cancel import CancelToken, Progress
from engines.errors import BadInput

VAD_RATE = 16_000
DEFAULT_RATE = 24_000  # what the speech engines (Kokoro 24 kHz, Piper 22.05 kHz) need
DEFAULT_LUFS = -23.0
FRAME_S = 0.02
FADE_S = 0.01
CLIP_LEVEL = 0.999

MIN_SPEECH_S = 3.0
# A reference is 10–30 s of speech; a quarter of an hour is already far more than any use.
# Checked from the file header before decoding: a 10-hour file would otherwise be decoded,
# resampled and denoised whole (over 6 GB of memory for a silent 10-hour FLAC).
MAX_REFERENCE_S = 15 * 60.0
NOISY_SNR_DB = 15.0
CLIPPED_FRACTION = 1e-3
# Segment agreement = 5th percentile of the Resemblyzer similarities between all pairs of a
# clip's ~1.6 s segments (the minimum alone is thrown by one odd segment). Measured on 15 s
# clips: one speaker (Piper joe, espeak-ng m3/f2/klatt, Kokoro alpha/kumo; dry, reverberant,
# telephone band, 10 dB noise, WORLD-shifted) 0.68–0.81; two speakers (20 % or 50 % of the
# second: joe + espeak-ng/Kokoro, espeak m3 + f2, Kokoro alpha + kumo, joe + joe with formants
# ×1.12, espeak base + klatt) 0.33–0.63. Only a warning, so the line sits close to one speaker.
ONE_SPEAKER_AGREEMENT = 0.65

ProgressFn = Callable[[Progress], None]

# Bounds a stored report is checked against (far outside anything the pipeline writes).
_MAX_TEXT = 1000
_MAX_RATE = 768_000
_MAX_SPANS = 100_000
_MAX_SECONDS = 48 * 3600.0

_vad = None
_vad_lock = threading.Lock()


@dataclass
class PrepareReport:
    """What the input was like and what the clean-up kept. Plain data, JSON-ready."""

    source: str
    original_duration: float
    speech_duration: float
    speech_ratio: float
    snr_db: float | None  # None when no non-speech frames exist to measure the noise
    clipped_fraction: float
    peak_dbfs: float
    input_lufs: float
    output_lufs: float
    sample_rate: int
    speech_spans: list[tuple[float, float]] = field(default_factory=list)
    segment_agreement: float | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["speech_spans"] = [list(s) for s in self.speech_spans]
        return data

    @classmethod
    def from_dict(cls, data: Any) -> PrepareReport:
        """A report from stored or imported JSON, every field checked by type and range.

        Raises ``ValueError`` naming the first bad field: a report is shown with format
        codes (``:.1f``), so a text where a number belongs would crash ``voice show`` later.
        """
        if not isinstance(data, dict):
            raise ValueError("the report must be an object")

        def number(key: str, low: float, high: float, optional: bool = False) -> float | None:
            value = data.get(key)
            if value is None and optional:
                return None
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or not low <= value <= high
            ):
                empty = " or empty" if optional else ""
                raise ValueError(f"{key} must be a number from {low:g} to {high:g}{empty}")
            return float(value)

        def texts(key: str, count: int, length: int) -> list[str]:
            value = data.get(key, [])
            if (
                not isinstance(value, list)
                or len(value) > count
                or not all(isinstance(t, str) and len(t) <= length for t in value)
            ):
                raise ValueError(f"{key} must be a list of at most {count} short texts")
            return list(value)

        source = data.get("source")
        if not isinstance(source, str) or len(source) > _MAX_TEXT:
            raise ValueError(f"source must be a text of at most {_MAX_TEXT} characters")
        rate = data.get("sample_rate")
        if isinstance(rate, bool) or not isinstance(rate, int) or not 1 <= rate <= _MAX_RATE:
            raise ValueError(f"sample_rate must be a whole number from 1 to {_MAX_RATE}")
        spans = data.get("speech_spans", [])
        if not isinstance(spans, list) or len(spans) > _MAX_SPANS:
            raise ValueError(f"speech_spans must be a list of at most {_MAX_SPANS} spans")
        checked_spans = []
        for span in spans:
            if (
                not isinstance(span, list | tuple)
                or len(span) != 2
                or any(
                    isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x)
                    for x in span
                )
                or not 0 <= span[0] <= span[1] <= _MAX_SECONDS
            ):
                raise ValueError("speech_spans must hold [start, end] pairs of seconds")
            checked_spans.append((float(span[0]), float(span[1])))
        return cls(
            source=source,
            original_duration=number("original_duration", 0, _MAX_SECONDS),
            speech_duration=number("speech_duration", 0, _MAX_SECONDS),
            speech_ratio=number("speech_ratio", 0, 1),
            snr_db=number("snr_db", -200, 200, optional=True),
            clipped_fraction=number("clipped_fraction", 0, 1),
            peak_dbfs=number("peak_dbfs", -400, 200),
            input_lufs=number("input_lufs", -400, 200),
            output_lufs=number("output_lufs", -400, 200),
            sample_rate=rate,
            speech_spans=checked_spans,
            segment_agreement=number("segment_agreement", -1.001, 1.001, optional=True),
            warnings=texts("warnings", 50, _MAX_TEXT),
        )

    def lines(self) -> list[str]:
        """The report as a user reads it (CLI, GUI tooltip)."""
        snr = (
            "n/a (no pauses to measure the noise)"
            if self.snr_db is None
            else f"{self.snr_db:.1f} dB"
        )
        sim = (
            "n/a (too short)"
            if self.segment_agreement is None
            else f"{self.segment_agreement:.2f} segment agreement (one speaker ≥ {ONE_SPEAKER_AGREEMENT})"
        )
        out = [
            f"source:            {self.source}",
            f"original duration: {self.original_duration:.2f} s",
            f"clean speech:      {self.speech_duration:.2f} s ({100 * self.speech_ratio:.0f}% of the input)",
            f"SNR estimate:      {snr}",
            f"clipping:          {100 * self.clipped_fraction:.3f}% of samples",
            f"level:             {self.input_lufs:.1f} LUFS in, peak {self.peak_dbfs:.1f} dBFS; "
            f"{self.output_lufs:.1f} LUFS out",
            f"one speaker:       {sim}",
        ]
        out += [f"warning: {w}" for w in self.warnings] or ["warnings: none"]
        return out


@dataclass
class PreparedReference:
    clip: AudioClip
    report: PrepareReport
    embedding: np.ndarray  # (256,) unit length, of the clean speech


def _load_vad():
    global _vad
    with _vad_lock:
        if _vad is None:
            from silero_vad import load_silero_vad

            _vad = load_silero_vad(onnx=True)
    return _vad


def speech_spans(clip: AudioClip) -> list[tuple[float, float]]:
    """Speech spans in seconds, found by Silero VAD (ONNX) at 16 kHz."""
    import torch
    from silero_vad import get_speech_timestamps

    wav = clip.mono().resampled(VAD_RATE).samples[0]
    model = _load_vad()
    with _vad_lock:
        model.reset_states()
        stamps = get_speech_timestamps(
            torch.from_numpy(np.ascontiguousarray(wav)),
            model,
            sampling_rate=VAD_RATE,
            min_speech_duration_ms=250,
            min_silence_duration_ms=150,
            speech_pad_ms=30,
        )
    return [(s["start"] / VAD_RATE, s["end"] / VAD_RATE) for s in stamps]


def _span_mask(
    frames: int, rate: int, spans: list[tuple[float, float]], pad: float = 0.0
) -> np.ndarray:
    mask = np.zeros(frames, bool)
    for start, end in spans:
        a = max(0, int((start - pad) * rate))
        b = min(frames, int((end + pad) * rate))
        mask[a:b] = True
    return mask


def estimate_snr(wav: np.ndarray, rate: int, spans: list[tuple[float, float]]) -> float | None:
    """SNR in dB: speech-frame power over non-speech-frame power, noise subtracted.

    Non-speech frames are taken 100 ms away from any speech so that breaths and the VAD's
    padding do not count as noise. Returns None when less than 0.2 s of pause exists.
    """
    speech = _span_mask(len(wav), rate, spans)
    pause = ~_span_mask(len(wav), rate, spans, pad=0.1)
    if pause.sum() < 0.2 * rate or speech.sum() == 0:
        return None
    noise_power = float(np.mean(wav[pause].astype(np.float64) ** 2))
    mixed_power = float(np.mean(wav[speech].astype(np.float64) ** 2))
    if noise_power <= 1e-12:
        return 100.0
    clean_power = max(mixed_power - noise_power, 1e-12)
    return float(np.clip(10 * np.log10(clean_power / noise_power), -20.0, 100.0))


def _keep_spans(wav: np.ndarray, rate: int, spans: list[tuple[float, float]]) -> np.ndarray:
    fade = int(FADE_S * rate)
    pieces = []
    for start, end in spans:
        piece = wav[int(start * rate) : int(end * rate)].copy()
        n = min(fade, len(piece) // 2)
        if n:
            ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
            piece[:n] *= ramp
            piece[-n:] *= ramp[::-1]
        pieces.append(piece)
    return np.concatenate(pieces) if pieces else np.zeros(0, np.float32)


def _denoise(wav: np.ndarray, rate: int, spans: list[tuple[float, float]]) -> np.ndarray:
    """Stationary spectral gating with the noise profile from the pauses."""
    import noisereduce

    pause = ~_span_mask(len(wav), rate, spans, pad=0.1)
    noise = wav[pause]
    if len(noise) < 0.25 * rate:
        # No usable pause: the quietest 10% of 20 ms frames stand in for the noise.
        hop = int(FRAME_S * rate)
        frames = wav[: len(wav) // hop * hop].reshape(-1, hop)
        if len(frames) < 10:
            return wav
        quiet = np.argsort(np.mean(frames**2, axis=1))[: max(1, len(frames) // 10)]
        noise = frames[np.sort(quiet)].reshape(-1)
    out = noisereduce.reduce_noise(y=wav, sr=rate, y_noise=noise, stationary=True)
    return np.asarray(out, np.float32)


def _warnings(report: PrepareReport) -> list[str]:
    out = []
    if report.speech_duration < MIN_SPEECH_S:
        out.append(
            f"only {report.speech_duration:.1f} s of speech; record at least {MIN_SPEECH_S:.0f} s "
            "(10–30 s gives a steadier voice)"
        )
    if report.snr_db is not None and report.snr_db < NOISY_SNR_DB:
        out.append(
            f"very noisy (SNR {report.snr_db:.0f} dB); record closer to the microphone in a "
            "quieter room"
        )
    if report.clipped_fraction > CLIPPED_FRACTION:
        out.append(
            f"clipped ({100 * report.clipped_fraction:.2f}% of samples at full scale); record "
            "with the input gain lower"
        )
    if report.segment_agreement is not None and report.segment_agreement < ONE_SPEAKER_AGREEMENT:
        out.append(
            "looks like more than one speaker (parts of the clip sound like different voices); "
            "use a recording of one person only"
        )
    return out


_LONG_HINT = "Cut out 10–30 s of one person speaking clearly and use that."


def prepare_reference(
    source: AudioClip | str | Path,
    *,
    target_lufs: float = DEFAULT_LUFS,
    sample_rate: int = DEFAULT_RATE,
    denoise: bool = True,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> PreparedReference:
    """Clean one reference recording; raise :class:`BadInput` when it holds no speech."""
    from engines.audio_io import read_audio, validate
    from engines.loudness import integrated_lufs, normalize_loudness
    from engines.voices.embedding import embed_with_segments

    def step(done: int, stage: str) -> None:
        if cancel is not None:
            cancel.check()
        if progress is not None:
            progress(Progress(done, 5, stage))

    if isinstance(source, AudioClip):
        name, clip = "audio", source
        validate(clip, name)
    else:
        from engines.audio_limits import check_length

        check_length(source, MAX_REFERENCE_S, "a voice reference or consent recording", _LONG_HINT)
        name, clip = Path(source).name, read_audio(source)
    if clip.duration > MAX_REFERENCE_S:
        from engines.audio_limits import describe_seconds

        raise BadInput(
            f"The recording {name} is {describe_seconds(clip.duration)} long; a voice reference or "
            f"consent recording may be at most {describe_seconds(MAX_REFERENCE_S)}. {_LONG_HINT}"
        )
    step(0, "reading")
    original = clip.mono()
    clipped = float(np.mean(np.abs(clip.samples) >= CLIP_LEVEL))
    peak = original.peak
    work = original.resampled(sample_rate)
    wav = work.samples[0]

    step(1, "finding speech")
    spans = speech_spans(work)
    if not spans:
        raise BadInput(
            f"No speech was found in {name}. Choose a recording in which one person speaks."
        )
    snr = estimate_snr(wav, sample_rate, spans)

    step(2, "reducing noise")
    cleaned = _denoise(wav, sample_rate, spans) if denoise else wav
    speech = AudioClip(_keep_spans(cleaned, sample_rate, spans), sample_rate)

    step(3, "setting loudness")
    speech = normalize_loudness(speech, target_lufs)

    step(4, "measuring the voice")
    embedding, segments = embed_with_segments(speech)
    agreement = None
    if len(segments) >= 2:
        pairs = (segments @ segments.T)[np.triu_indices(len(segments), 1)]
        agreement = float(np.percentile(pairs, 5))

    report = PrepareReport(
        source=name,
        original_duration=clip.duration,
        speech_duration=speech.duration,
        speech_ratio=min(1.0, speech.duration / clip.duration),
        snr_db=snr,
        clipped_fraction=clipped,
        peak_dbfs=float(20 * np.log10(peak)) if peak > 0 else -120.0,
        input_lufs=max(integrated_lufs(original), -120.0),
        output_lufs=integrated_lufs(speech),
        sample_rate=sample_rate,
        speech_spans=[(round(a, 3), round(b, 3)) for a, b in spans],
        segment_agreement=agreement,
    )
    report.warnings = _warnings(report)
    step(5, "done")
    return PreparedReference(speech, report, embedding)
