"""Render an episode: clean each voice track, shorten pauses, duck the music bed under
speech, add intro and outro, meet a loudness preset, and export with tags and chapters.

Voice tracks are aligned at time zero (one file per microphone, as recorders and call
recorders deliver them). Speech is found once per track with Silero VAD and reused for the
noise profile, the pause cuts and the ducking, so all three agree on what is speech.

Memory stays bounded whatever the length (issue 12): every stage works on
:class:`~engines.stream.AudioStream` blocks. What needs the whole episode is reduced to
something small before the audio is touched again: speech regions (a list of times), the
pause cuts planned from them (applied while streaming), the ducking gain (a 100 Hz
envelope, interpolated per block), and loudness (measured in a pass, applied in the next).
What is costly to redo, resampled inputs and the cleaned voice tracks, is spooled to
temporary float WAVs in a folder that the :class:`MasterResult` owns; the mix, cuts,
ducking, joins and levelling are recomputed from those on every pass, the last pass being
the export itself.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from engines.audio import AudioClip
from engines.audio_io import encode_audio, format_for
from engines.cancel import CancelToken, Progress, ProgressCallback, no_progress
from engines.errors import BadInput
from engines.files import atomic_write
from engines.podcast.chapters import Chapter, write_chapters
from engines.podcast.cleanup import CleanupSettings, clean_to_file
from engines.podcast.ducking import DuckEnvelope, duck_envelope, fitted_bed
from engines.podcast.pauses import cut_stream, map_time, plan_cuts
from engines.podcast.presets import PRESETS, LoudnessPreset
from engines.podcast.streams import Reader, file_stream, joined, lufs_of, padded, summed
from engines.podcast.vad import merge_regions, speech_regions
from engines.render import normalized
from engines.stream import AudioStream, Block, ClipSource, FileSource, Source, spool, watched

SAMPLE_RATE = 44_100
# Memory no longer grows with the length: `timbre podcast master` on a stereo 48 kHz
# voice with a looped bed, intro and outro at -16 LUFS peaks at ~0.55 GB for 10 minutes and
# for 3 hours alike (tests/foundation/test_long_audio.py; whole-episode mastering took
# ~50 MB a minute and was capped at 10 minutes). Time and temporary disk still grow: a
# 3-hour episode takes ~10 minutes and spools ~2 GB per voice track. Ten hours is issue
# 12's bar; longer tracks are refused up front, and so is an episode whose spools would
# not fit on the temporary folder's disk (check_disk).
MAX_MINUTES = 600
DISK_MARGIN_BYTES = 256 * 2**20

Audio = AudioClip | AudioStream  # a clip in memory, or a stream of any length


@dataclass
class MasterRequest:
    voices: Sequence[Audio]
    music: Audio | None = None
    intro: Audio | None = None
    outro: Audio | None = None
    preset: LoudnessPreset = PRESETS["podcast"]
    duck_db: float = 12.0
    music_level_lu: float = -8.0  # the bed's loudness in the clear, relative to the speech
    max_pause_s: float | None = 1.0  # None keeps every pause as recorded
    cleanup: CleanupSettings = field(default_factory=CleanupSettings)
    chapters: Sequence[Chapter] = ()  # on the voice tracks' timeline
    sample_rate: int = SAMPLE_RATE
    work_dir: Path | None = None  # where the spools go; None: the system's temporary folder


@dataclass
class MasterResult:
    """The finished episode as a stream (rendered again on every pass, from spooled files
    in ``work_dir``). The files go when :meth:`close` is called or the result is garbage
    collected, so keep the result while its stream is in use."""

    stream: AudioStream
    chapters: list[Chapter]  # on the output timeline
    speech: list[tuple[float, float]]  # on the output timeline
    music_gain: DuckEnvelope | None  # the ducking gain over the voice section
    voice_offset: float  # where the voice section starts (after the intro), seconds
    lufs: float
    true_peak_db: float
    preset: str = ""
    work_dir: Path | None = None

    def __post_init__(self) -> None:
        folder = self.work_dir
        self._cleanup = weakref.finalize(self, _remove, folder)

    @property
    def duration(self) -> float:
        return self.stream.duration

    @cached_property
    def clip(self) -> AudioClip:
        """The whole episode in memory: for short episodes (tests, previews) only."""
        return self.stream.clip()

    def close(self) -> None:
        """Delete the spooled files; the stream cannot be read after this."""
        self._cleanup()

    def __enter__(self) -> MasterResult:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _remove(folder: Path | None) -> None:
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


MIN_VOICE_S = 0.5


def check_length(seconds: float, name: str) -> None:
    """Refuse a track longer than ``MAX_MINUTES`` in one line, before any work is done."""
    if seconds > MAX_MINUTES * 60:
        raise BadInput(
            f"{name} is {seconds / 3600:.1f} hours long; podcast mastering takes tracks up to "
            f"{MAX_MINUTES} minutes ({MAX_MINUTES // 60} hours). Master it in parts, or level "
            "it with: timbre export --lufs -16 (any length)."
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


def spool_bytes(request: MasterRequest) -> int:
    """Temporary disk the render needs at most: each voice track cleaned (mono float32),
    plus the noise-reduced and the resampled copy of the track being cleaned, plus the
    resampled music, intro and outro when they are streams."""
    rate, channels = request.sample_rate, request.preset.channels
    frames = max(round(v.duration * rate) for v in request.voices)
    need = (len(request.voices) + 2) * frames * 4
    for extra in (request.music, request.intro, request.outro):
        if isinstance(extra, AudioStream):
            need += round(extra.duration * rate) * channels * 4
    return need


def check_disk(request: MasterRequest) -> None:
    """Refuse up front, with the numbers, an episode whose spools would fill the disk."""
    folder = Path(request.work_dir or tempfile.gettempdir())
    need, free = spool_bytes(request), shutil.disk_usage(folder).free
    if need + DISK_MARGIN_BYTES > free:
        raise BadInput(
            f"Mastering this episode keeps about {need / 1e9:.1f} GB of temporary audio in "
            f"{folder} while it works, and only {free / 1e9:.1f} GB is free there. Free some "
            "space, or point TMPDIR at a larger disk, and try again."
        )


def _prepare(clip: AudioClip, rate: int, channels: int) -> AudioClip:
    return clip.resampled(rate).with_channels(channels)


def _converted(stream: AudioStream, rate: int, channels: int) -> AudioStream:
    return stream.with_channels(channels).resampled(rate)


def _prepared(
    audio: Audio, rate: int, channels: int, folder: Path, sink: ProgressCallback, token: CancelToken
) -> tuple[AudioStream, Path | None]:
    """``audio`` at the episode's rate and channel count as a stream that is cheap to
    replay, and the spooled file behind it (None when nothing was spooled): a clip is
    converted in memory as before; a stream at another rate is resampled once, to disk."""
    if isinstance(audio, AudioClip):
        return AudioStream.from_clip(_prepare(audio, rate, channels)), None
    if audio.sample_rate == rate and audio.channels == channels:
        return audio, None
    path = spool(_converted(audio, rate, channels), folder, "reading", sink, token)
    return file_stream(path), path


def _bed_source(
    audio: Audio, rate: int, channels: int, folder: Path, sink: ProgressCallback, token: CancelToken
) -> Source:
    """The music bed where looping can seek in it: in memory, or spooled once."""
    if isinstance(audio, AudioClip):
        return ClipSource(_prepare(audio, rate, channels))
    return FileSource(spool(_converted(audio, rate, channels), folder, "reading music", sink, token))


def _ducked(voice: AudioStream, bed: AudioStream, scale: float, envelope: DuckEnvelope) -> AudioStream:
    """The voice with the levelled bed under it, the bed's gain interpolated per block."""
    gain = np.float32(scale)

    def blocks() -> Iterator[Block]:
        music, pos = Reader(bed), 0
        for block in voice.blocks():
            n = block.shape[1]
            under = music.read(pos, n) * gain
            under *= envelope.gain(pos, n)
            yield block + under
            pos += n

    return AudioStream(blocks, voice.sample_rate, voice.channels, voice.frames)


def master(
    request: MasterRequest,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> MasterResult:
    """Render the episode (see the module docstring); checks ``cancel`` between blocks.

    Refused up front, before any audio is read: no voice, a voice under ``MIN_VOICE_S``,
    a track over ``MAX_MINUTES``, or not enough temporary disk for the spools."""
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
    for name, extra in (("The music bed", request.music), ("The intro", request.intro),
                        ("The outro", request.outro)):
        if extra is not None:
            check_length(extra.duration, name)
    check_disk(request)
    folder = Path(tempfile.mkdtemp(prefix="timbre-master-", dir=request.work_dir))
    try:
        return _master(request, folder, progress, cancel or CancelToken())
    except BaseException:
        _remove(folder)
        raise


def _master(
    request: MasterRequest, folder: Path, progress: ProgressCallback, token: CancelToken
) -> MasterResult:
    rate, channels = request.sample_rate, request.preset.channels
    total = len(request.voices) * 2 + 4
    step = 0

    def advance(stage: str) -> None:
        nonlocal step
        token.check()
        step += 1
        progress(Progress(step, total, stage))

    def within(stage: str) -> ProgressCallback:
        """Progress inside the current stage, as a fraction of one step."""

        def sink(p: Progress | float) -> None:
            token.check()
            fraction = p.fraction if isinstance(p, Progress) else p
            progress(Progress(step + min(fraction, 0.999), total, stage))

        return sink

    progress(Progress(0, total, "starting"))
    voices, spools = [], []
    for i, audio in enumerate(request.voices, start=1):
        voice, path = _prepared(audio, rate, 1, folder, within(f"reading track {i}"), token)
        voices.append(voice)
        spools.append(path)
    length = max(v.frames for v in voices)
    voices = [padded(v, length) for v in voices]

    regions: list[list[tuple[float, float]]] = []
    for i, voice in enumerate(voices, start=1):
        regions.append(speech_regions(voice, on_block=within(f"finding speech on track {i}")))
        advance(f"finding speech on track {i}")
    cleaned = []
    for i, (voice, speech, path) in enumerate(zip(voices, regions, spools, strict=True), start=1):
        stage = f"cleaning track {i}"
        done = clean_to_file(voice, speech, folder, request.cleanup, within(stage), token)
        cleaned.append(file_stream(done))
        if path is not None:
            path.unlink()  # the cleaned track is all that is needed from here on
        advance(stage)
    speech = merge_regions([r for rs in regions for r in rs])
    voice_mix = summed(cleaned)

    cuts = []
    if request.max_pause_s is not None:
        cuts = plan_cuts(speech, voice_mix.duration, request.max_pause_s)
        voice_mix = cut_stream(voice_mix, cuts)
        speech = [(map_time(a, cuts), map_time(b, cuts)) for a, b in speech]
    advance("shortening pauses")
    voice_mix = voice_mix.with_channels(channels)

    body, envelope = voice_mix, None
    if request.music is not None and request.music.duration > 0:  # an empty bed plays nothing
        stage = "ducking music"
        source = _bed_source(request.music, rate, channels, folder, within(stage), token)
        bed = fitted_bed(source, voice_mix.frames)
        speech_lufs = lufs_of(watched(voice_mix, stage, within(stage), token))
        bed_lufs = lufs_of(watched(bed, stage, within(stage), token))
        scale = 1.0
        if bed_lufs > -70 and speech_lufs > -70:
            scale = 10 ** ((speech_lufs + request.music_level_lu - bed_lufs) / 20)
        envelope = duck_envelope(bed.frames, rate, speech, request.duck_db)
        body = _ducked(voice_mix, bed, scale, envelope)
    advance("ducking music")

    parts, offset, stage = [body], 0.0, "joining intro and outro"
    if request.intro is not None:
        intro, _ = _prepared(request.intro, rate, channels, folder, within(stage), token)
        parts.insert(0, intro)
        offset = intro.duration
    if request.outro is not None:
        parts.append(_prepared(request.outro, rate, channels, folder, within(stage), token)[0])
    episode = joined(parts)
    advance("joining intro and outro")

    preset = request.preset
    episode, levels = normalized(
        episode, preset.lufs, preset.true_peak_db, progress=within("loudness"), cancel=token
    )
    advance("loudness")
    chapters = [Chapter(offset + map_time(c.start, cuts), c.title) for c in request.chapters]
    return MasterResult(
        stream=episode,
        chapters=sorted(chapters, key=lambda c: c.start),
        speech=[(offset + a, offset + b) for a, b in speech],
        music_gain=envelope,
        voice_offset=offset,
        lufs=levels.lufs,
        true_peak_db=levels.true_peak_db,
        preset=preset.name,
        work_dir=folder,
    )


def export_episode(
    result: MasterResult,
    path: str | Path,
    title: str = "",
    tags: Mapping[str, str] | None = None,
    fmt: str | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> Path:
    """Write the episode with the studio's provenance fields and its chapters
    (engines.tags, the same path as every export), then the episode tags; every format
    this app writes carries both. The episode is rendered block by block straight into
    the encoder (the last pass), which also muxes M4A's chapters."""
    from engines.tags import provenance_document, write_tags

    path = Path(path)
    fmt = format_for(path, fmt)
    mastering = {
        "preset": result.preset,
        "lufs": round(result.lufs, 2),
        "true_peak_db": round(result.true_peak_db, 2),
    }
    with atomic_write(path) as tmp:  # the final name never holds an untagged episode
        encode_audio(tmp, watched(result.stream, "writing", progress, cancel), fmt,
                     chapters=result.chapters)
        write_tags(tmp, provenance_document([], mastering=mastering), title or path.stem,
                   result.chapters, result.duration)
        if tags:
            write_chapters(tmp, (), result.duration, dict(tags), fmt)
    return path
