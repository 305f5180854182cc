"""Render an episode: clean each voice track, shorten pauses, duck the music bed under
speech, add intro and outro, meet a loudness preset, and export with tags and chapters.

Voice tracks are aligned at time zero (one file per microphone, as recorders and call
recorders deliver them). Speech is found once per track with Silero VAD and reused for the
noise profile, the pause cuts and the ducking, so all three agree on what is speech.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engines.audio import AudioClip
from engines.audio_io import encode_audio, format_for
from engines.cancel import CancelToken, Progress, ProgressCallback, no_progress
from engines.errors import BadInput
from engines.files import atomic_write
from engines.loudness import integrated_lufs, normalize_loudness, true_peak_db
from engines.podcast.chapters import Chapter, write_chapters
from engines.podcast.cleanup import CleanupSettings, clean_track
from engines.podcast.ducking import duck_gain, fit_bed
from engines.podcast.pauses import apply_cuts, map_time, plan_cuts
from engines.podcast.presets import PRESETS, LoudnessPreset
from engines.podcast.vad import merge_regions, speech_regions

SAMPLE_RATE = 44_100
# Mastering holds each voice track, its cleaned copy and the finished episode in memory
# (pause cuts, ducking and loudness work on the whole programme). Measured peak RSS of
# `timbre podcast master` (tests/foundation/test_long_audio.py's sparse 44.1 kHz file,
# pauses kept): one 10-minute voice 0.9 GB, one 20-minute voice 1.4 GB, two 10-minute
# voices and a music bed 1.4 GB. So tracks are refused above 10 minutes, up front, to
# stay under 1.5 GB; longer episodes need the chain rendered in blocks (issue 12).
MAX_MINUTES = 10


@dataclass
class MasterRequest:
    voices: Sequence[AudioClip]
    music: AudioClip | None = None
    intro: AudioClip | None = None
    outro: AudioClip | None = None
    preset: LoudnessPreset = PRESETS["podcast"]
    duck_db: float = 12.0
    music_level_lu: float = -8.0  # the bed's loudness in the clear, relative to the speech
    max_pause_s: float | None = 1.0  # None keeps every pause as recorded
    cleanup: CleanupSettings = field(default_factory=CleanupSettings)
    chapters: Sequence[Chapter] = ()  # on the voice tracks' timeline
    sample_rate: int = SAMPLE_RATE


@dataclass
class MasterResult:
    clip: AudioClip
    chapters: list[Chapter]  # on the output timeline
    speech: list[tuple[float, float]]  # on the output timeline
    music_gain: np.ndarray | None  # the ducking gain per output sample of the voice section
    voice_offset: float  # where the voice section starts (after the intro), seconds
    lufs: float
    true_peak_db: float
    preset: str = ""


MIN_VOICE_S = 0.5


def check_length(seconds: float, name: str) -> None:
    """Refuse a track longer than ``MAX_MINUTES`` in one line, before any work is done."""
    if seconds > MAX_MINUTES * 60:
        raise BadInput(
            f"{name} is {seconds / 60:.0f} minutes long; podcast mastering works on the whole "
            f"episode in memory and takes tracks up to {MAX_MINUTES} minutes. Master it in "
            "parts, or level it with: timbre export --lufs -16 (any length)."
        )


def check_files(paths: Sequence[str | Path]) -> None:
    """:func:`check_length` from the files' headers, so nothing long is decoded first."""
    import soundfile as sf

    for path in paths:
        try:
            info = sf.info(str(path))
        except (sf.LibsndfileError, RuntimeError, TypeError, OSError):
            continue  # read_audio gives the reason when the file is read
        check_length(info.frames / max(info.samplerate, 1), Path(path).name)


def _prepare(clip: AudioClip, rate: int, channels: int) -> AudioClip:
    return clip.resampled(rate).with_channels(channels)


def _pad(clip: AudioClip, frames: int) -> AudioClip:
    if clip.frames >= frames:
        return clip
    out = np.zeros((clip.channels, frames), np.float32)
    out[:, : clip.frames] = clip.samples
    return AudioClip(out, clip.sample_rate)


def master(
    request: MasterRequest,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> MasterResult:
    """Render the episode (see the module docstring); checks ``cancel`` between stages."""
    if not request.voices:
        raise BadInput("Give at least one voice track to master.")
    if not 0 <= request.duck_db <= 40:
        raise BadInput(f"A ducking depth of {request.duck_db} dB is outside 0…40 dB.")
    for i, voice in enumerate(request.voices, start=1):
        if voice.duration < MIN_VOICE_S:  # noise reduction and speech finding need some audio
            raise BadInput(
                f"Voice track {i} is only {voice.duration:.2f} s long; mastering needs at least "
                f"{MIN_VOICE_S:g} s of speech."
            )
        check_length(voice.duration, f"Voice track {i}")
    token = cancel or CancelToken()
    rate, channels = request.sample_rate, request.preset.channels
    total = len(request.voices) * 2 + 4
    step = 0

    def advance(stage: str) -> None:
        nonlocal step
        token.check()
        step += 1
        progress(Progress(step, total, stage))

    progress(Progress(0, total, "starting"))
    voices = [_prepare(v, rate, 1) for v in request.voices]
    length = max(v.frames for v in voices)
    voices = [_pad(v, length) for v in voices]

    def within(stage: str):
        """Progress inside the current stage, as a fraction of one step."""

        def sink(p: Progress | float) -> None:
            token.check()
            fraction = p.fraction if isinstance(p, Progress) else p
            progress(Progress(step + min(fraction, 0.999), total, stage))

        return sink

    regions: list[list[tuple[float, float]]] = []
    for i, voice in enumerate(voices, start=1):
        regions.append(speech_regions(voice, on_block=within(f"finding speech on track {i}")))
        advance(f"finding speech on track {i}")
    cleaned = []
    for i, (voice, speech) in enumerate(zip(voices, regions, strict=True), start=1):
        stage = f"cleaning track {i}"
        cleaned.append(clean_track(voice, speech, request.cleanup, within(stage), token))
        advance(stage)
    speech = merge_regions([r for rs in regions for r in rs])
    mixed = cleaned[0].samples
    for other in cleaned[1:]:  # summed in place: no stack of every track at once
        mixed = mixed + other.samples if mixed is cleaned[0].samples else mixed.__iadd__(other.samples)
    voice_mix = AudioClip(mixed, rate)
    del voices, cleaned, voice, mixed  # the mix is all that is needed from here on

    cuts = []
    if request.max_pause_s is not None:
        cuts = plan_cuts(speech, voice_mix.duration, request.max_pause_s)
        voice_mix = apply_cuts(voice_mix, cuts)
        speech = [(map_time(a, cuts), map_time(b, cuts)) for a, b in speech]
    advance("shortening pauses")
    voice_mix = voice_mix.with_channels(channels)

    body = voice_mix
    gain = None
    if request.music is not None:
        bed = fit_bed(_prepare(request.music, rate, channels), voice_mix.frames)
        speech_lufs, bed_lufs = integrated_lufs(voice_mix), integrated_lufs(bed)
        if bed_lufs > -70 and speech_lufs > -70:
            bed = bed.scaled(10 ** ((speech_lufs + request.music_level_lu - bed_lufs) / 20))
        gain = duck_gain(bed.frames, rate, speech, request.duck_db)
        # As engines.podcast.ducking.duck, in place: the bed and the mix are our own copies.
        bed.samples[...] *= gain
        voice_mix.samples[...] += bed.samples
        body = voice_mix
        del bed
    advance("ducking music")

    parts = [body]
    offset = 0.0
    if request.intro is not None:
        intro = _prepare(request.intro, rate, channels)
        parts.insert(0, intro)
        offset = intro.duration
    if request.outro is not None:
        parts.append(_prepare(request.outro, rate, channels))
    episode = body if len(parts) == 1 else AudioClip(np.concatenate([p.samples for p in parts], axis=1), rate)
    del parts, body, voice_mix  # only the episode is needed from here on
    advance("joining intro and outro")

    episode = normalize_loudness(episode, request.preset.lufs, request.preset.true_peak_db)
    advance("loudness")
    chapters = [Chapter(offset + map_time(c.start, cuts), c.title) for c in request.chapters]
    return MasterResult(
        clip=episode,
        chapters=sorted(chapters, key=lambda c: c.start),
        speech=[(offset + a, offset + b) for a, b in speech],
        music_gain=gain,
        voice_offset=offset,
        lufs=integrated_lufs(episode),
        true_peak_db=true_peak_db(episode),
        preset=request.preset.name,
    )


def export_episode(
    result: MasterResult,
    path: str | Path,
    title: str = "",
    tags: Mapping[str, str] | None = None,
    fmt: str | None = None,
) -> Path:
    """Write WAV/FLAC/MP3/OGG with the studio's provenance fields (engines.tags), then the
    chapter markers and episode tags, which every one of these formats can carry."""
    from engines.tags import provenance_document, write_tags

    path = Path(path)
    fmt = format_for(path, fmt)
    mastering = {
        "preset": result.preset,
        "lufs": round(result.lufs, 2),
        "true_peak_db": round(result.true_peak_db, 2),
    }
    with atomic_write(path) as tmp:  # the final name never holds an untagged episode
        encode_audio(tmp, result.clip, fmt)
        write_tags(tmp, provenance_document([], mastering=mastering), title or path.stem)
        if tags or result.chapters:
            write_chapters(tmp, result.chapters, result.clip.duration, dict(tags or {}), fmt)
    return path
