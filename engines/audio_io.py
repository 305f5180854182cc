"""Reading and writing audio files, with one clear sentence for every bad input.

soundfile (libsndfile) reads and writes WAV, FLAC, OGG/Vorbis and MP3; what it cannot
open (M4A/AAC, Opus, WebM, MP4/MOV/MKV sound tracks, WMA: phone and video-call recordings)
is decoded through PyAV (:mod:`engines.av_reader`), which bundles its own ffmpeg. Writes go through :func:`engines.files.atomic_write` (temporary file, fsync,
rename), so a crash or a full disk never leaves a half-written file under the final name.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from engines.audio import AudioClip
from engines.errors import BadInput
from engines.stream import AudioStream

if TYPE_CHECKING:
    from engines.chapters import Chapter

MIN_RATE = 8_000
MAX_RATE = 192_000
MAX_CHANNELS = 8

FORMATS: dict[str, tuple[str, str]] = {
    # extension: (soundfile format, subtype)
    "wav": ("WAV", "PCM_24"),
    "flac": ("FLAC", "PCM_24"),
    "ogg": ("OGG", "VORBIS"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
}

# Written through PyAV, block by block: extension -> (ffmpeg muxer, encoder, bit rate).
AV_FORMATS: dict[str, tuple[str, str, int]] = {
    "opus": ("opus", "libopus", 128_000),
    "m4a": ("ipod", "aac", 192_000),
}
_OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
_LAYOUTS = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}

_HINT = "Re-export it from your audio editor as WAV or FLAC and try again."

# What import accepts (file dialogs, drop targets): libsndfile's formats and PyAV's.
IMPORT_EXTENSIONS: tuple[str, ...] = (
    "wav", "flac", "ogg", "mp3", "aif", "aiff", "m4a", "aac", "opus", "webm", "mp4", "mov",
    "mkv", "wma", "oga", "caf",
)


def import_filter(label: str = "Audio files") -> str:
    """A Qt file-dialog filter for every importable extension (kept here, beside the readers,
    so the dialogs never offer less than import accepts)."""
    return f"{label} ({' '.join('*.' + e for e in IMPORT_EXTENSIONS)})"


def _check_wav_complete(path: Path) -> None:
    """libsndfile quietly reads what is there; a cut-off WAV should be reported instead."""
    with path.open("rb") as handle:
        head = handle.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
            return
        if head[:4] == b"RF64":
            return
        size = path.stat().st_size
        while True:
            chunk = handle.read(8)
            if len(chunk) < 8:
                return
            cid, length = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if cid == b"data":
                have = size - handle.tell()
                if length != 0xFFFFFFFF and have < length:
                    pct = 100 * have / max(length, 1)
                    raise BadInput(
                        f"{path.name} is truncated: it holds only {pct:.0f}% of the audio its "
                        f"header announces (the file was cut off while being written or copied). "
                        f"{_HINT}"
                    )
                return
            handle.seek(length + (length & 1), os.SEEK_CUR)


def _check_path(path: Path) -> None:
    """What can be said about a file before decoding it: missing, folder, empty, cut off."""
    if not path.exists():
        raise BadInput(f"{path} does not exist. Check the path and try again.")
    if path.is_dir():
        raise BadInput(f"{path} is a folder, not an audio file.")
    if path.stat().st_size == 0:
        raise BadInput(f"{path.name} is empty (0 bytes). {_HINT}")
    _check_wav_complete(path)


def unreadable(path: Path, exc: Exception) -> BadInput:
    import soundfile as sf

    if isinstance(exc, (sf.LibsndfileError, RuntimeError, TypeError)):
        return BadInput(
            f"{path.name} is not an audio file this app can read: "
            f"{str(exc).split(':')[-1].strip() or 'unknown format'}. {_HINT}"
        )
    strerror = getattr(exc, "strerror", None)
    return BadInput(f"{path.name} cannot be read: {strerror or exc}.")


def read_audio(path: str | os.PathLike[str]) -> AudioClip:
    """Read a file as float32 ``(channels, frames)``, or raise :class:`BadInput`."""
    import soundfile as sf

    path = Path(path)
    _check_path(path)
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except sf.LibsndfileError:
        with _open_av(path) as reader:
            data, rate = reader.read_all(), reader.samplerate
    except (RuntimeError, TypeError, OSError) as exc:
        raise unreadable(path, exc) from exc
    clip = AudioClip(np.ascontiguousarray(data.T), rate)
    validate(clip, path.name)
    return clip


def _open_av(path: Path) -> Any:
    """PyAV's reader, for a file libsndfile refused; its refusal is one line too."""
    from engines.av_reader import AvReader

    return _checked(AvReader(path), path)


def _checked(reader: Any, path: Path) -> Any:
    """``reader`` once its rate and channel count pass; closed (and the reason raised) if not."""
    try:
        _check_format(reader.samplerate, reader.channels, path.name)
    except BaseException:
        reader.close()
        raise
    return reader


def open_audio(path: str | os.PathLike[str]) -> Any:
    """A ``soundfile.SoundFile`` open for reading after the checks :func:`read_audio` makes
    before and around decoding (the caller closes it), for reading long files in blocks.
    The header's rate and channel count are validated here; :func:`check_block` checks the
    samples as they are read, and the caller says when a file held no frames.

    A file libsndfile cannot open gets an :class:`engines.av_reader.AvReader` instead: the
    same ``samplerate``/``channels``/``frames``/``blocks`` surface, where ``frames`` is an
    estimate from the container's duration (the caller counts what it writes)."""
    import soundfile as sf

    path = Path(path)
    _check_path(path)
    try:
        handle = sf.SoundFile(str(path))
    except sf.LibsndfileError:
        return _open_av(path)
    except (RuntimeError, TypeError, OSError) as exc:
        raise unreadable(path, exc) from exc
    return _checked(handle, path)


def check_block(block: np.ndarray, name: str = "The audio") -> None:
    """The per-sample part of :func:`validate`, for audio read in blocks."""
    if not np.all(np.isfinite(block)):
        raise BadInput(
            f"{name} contains invalid samples (NaN or infinity), so it cannot be mixed safely. "
            f"{_HINT}"
        )


def no_frames(name: str = "The audio") -> BadInput:
    return BadInput(f"{name} contains no audio (0 samples). {_HINT}")


def validate(clip: AudioClip, name: str = "The audio") -> None:
    if clip.frames == 0:
        raise no_frames(name)
    check_block(clip.samples, name)
    _check_format(clip.sample_rate, clip.channels, name)


def _check_format(sample_rate: int, channels: int, name: str) -> None:
    if not MIN_RATE <= sample_rate <= MAX_RATE:
        raise BadInput(
            f"{name} has a sample rate of {sample_rate} Hz; this app handles "
            f"{MIN_RATE}–{MAX_RATE} Hz. Resample it and try again."
        )
    if channels > MAX_CHANNELS:
        raise BadInput(
            f"{name} has {channels} channels; this app handles up to {MAX_CHANNELS}. "
            "Mix it down to stereo and try again."
        )


# ---- lossy encoder settings ---------------------------------------------------------------
# LAME's VBR presets (-V0 … -V9) and the average bit rate each gives on music (LAME's docs),
# so "192 kbps VBR" means the preset that lands nearest 192 kbps (-V2), as in Audacity.
LAME_VBR_KBPS = (245, 225, 190, 175, 165, 130, 115, 100, 85, 65)
BITRATE_RANGES = {"mp3": (32_000, 320_000), "opus": (6_000, 510_000), "m4a": (32_000, 512_000)}
DEFAULT_MP3 = 192_000  # VBR -V2 unless asked otherwise: transparent for speech and most music


@dataclass(frozen=True)
class Encoding:
    """How a lossy format is encoded: a bit rate (bits per second; None: the format's
    default) and constant or variable rate (None: the format's usual choice, see
    :meth:`variable`; AAC in M4A is always encoded at a mean rate)."""

    bitrate: int | None = None
    vbr: bool | None = None

    def variable(self, fmt: str) -> bool:
        """Whether the rate varies. Unsaid: Opus always, MP3 unless a bit rate was given
        (a bare bit rate is LAME's ``-b``, constant, as Audacity's "Constant" mode)."""
        if self.vbr is not None:
            return self.vbr
        return fmt == "opus" or (fmt == "mp3" and self.bitrate is None)

    def check(self, fmt: str) -> None:
        """One line when the settings make no sense for ``fmt``."""
        if self.bitrate is None:
            return
        if fmt not in BITRATE_RANGES:
            raise BadInput(f"{fmt.upper()} is lossless or has no bit rate setting; "
                           "--bitrate applies to mp3, opus and m4a.")
        lo, hi = BITRATE_RANGES[fmt]
        if not lo <= self.bitrate <= hi:
            raise BadInput(f"{self.bitrate // 1000} kbps is outside what {fmt.upper()} encodes "
                           f"({lo // 1000}–{hi // 1000} kbps). Choose a bit rate in that range.")

    def describe(self, fmt: str) -> str:
        if fmt not in BITRATE_RANGES:
            return ""
        rate = self.bitrate or (DEFAULT_MP3 if fmt == "mp3" else AV_FORMATS[fmt][2])
        mode = "" if fmt == "m4a" else (" VBR" if self.variable(fmt) else " CBR")
        return f"{rate // 1000} kbps{mode}"


def parse_bitrate(text: str) -> int:
    """``192k``, ``192`` (kbps) or ``192000`` → bits per second, or one clear line."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(k|kbps|kb/s)?\s*", str(text).lower())
    if not m:
        raise BadInput(f"'{text}' is not a bit rate; write it like 192k.")
    value = float(m.group(1))
    return int(value * 1000) if m.group(2) or value < 1000 else int(value)


def _mp3_settings(encoding: Encoding) -> dict[str, Any]:
    """libsndfile's MP3 encoder settings (its LAME wrapper): ``compression_level`` 0–1 is
    the VBR preset / 10 in variable mode and ``320 − level × 288`` kbps in constant mode."""
    rate = encoding.bitrate or DEFAULT_MP3
    if not encoding.variable("mp3"):
        return {"bitrate_mode": "CONSTANT", "compression_level": min(1.0, max(0.0, (320_000 - rate) / 288_000))}
    preset = min(range(len(LAME_VBR_KBPS)), key=lambda v: abs(LAME_VBR_KBPS[v] * 1000 - rate))
    return {"bitrate_mode": "VARIABLE", "compression_level": preset / 10}


def format_for(path: Path, fmt: str | None = None) -> str:
    fmt = (fmt or path.suffix.lstrip(".") or "wav").lower()
    if fmt not in FORMATS and fmt not in AV_FORMATS:
        raise BadInput(
            f"'{fmt}' is not a format this app writes; use wav, flac, ogg, mp3, opus or m4a."
        )
    return fmt


def _encode_av(
    target: str | os.PathLike[str], clip: AudioClip | AudioStream, fmt: str,
    chapters: Sequence[Chapter] = (), encoding: Encoding = Encoding(),
) -> None:
    """Opus or AAC through PyAV, block by block (a stream is never held whole). Opus only
    runs at 8–48 kHz steps, so other rates are resampled to 48 kHz. M4A chapters are muxed
    here because no tag writer can add them afterwards (Opus's go in Vorbis comments)."""
    import av

    from engines.chapters import av_chapters

    muxer, codec, bit_rate = AV_FORMATS[fmt]
    if fmt == "opus" and clip.sample_rate not in _OPUS_RATES:
        clip = clip.resampled(48000)
    stream = clip if isinstance(clip, AudioStream) else AudioStream.from_clip(clip)
    layout = av.AudioLayout(_LAYOUTS[stream.channels])
    with av.open(str(target), "w", format=muxer) as out:
        options = {"vbr": "on" if encoding.variable(fmt) else "off"} if fmt == "opus" else {}
        audio = out.add_stream(codec, rate=stream.sample_rate, layout=layout.name, options=options)
        audio.bit_rate = encoding.bitrate or bit_rate
        if chapters and fmt == "m4a":
            out.set_chapters(av_chapters(chapters, stream.duration))
        pts = 0
        for block in stream.blocks():
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(block, dtype=np.float32), format="fltp", layout=layout.name
            )
            frame.sample_rate, frame.pts = stream.sample_rate, pts
            pts += block.shape[1]
            out.mux(audio.encode(frame))
        out.mux(audio.encode(None))


def encode_audio(
    target: str | os.PathLike[str], clip: AudioClip | AudioStream, fmt: str,
    subtype: str | None = None, chapters: Sequence[Chapter] = (),
    encoding: Encoding | None = None,
) -> None:
    """Encode ``clip`` (whole, or a stream block by block) into ``target`` as it is (no temp
    file, no rename): the part of a write that :func:`engines.files.atomic_write` wraps.
    ``fmt`` is one of :data:`FORMATS`. ``chapters`` matter only to M4A here; every other
    format gets them from ``engines.tags.write_tags``. ``encoding`` sets the bit rate and
    VBR/CBR of MP3, Opus and M4A (see :class:`Encoding`)."""
    import soundfile as sf

    encoding = encoding or Encoding()
    encoding.check(fmt)
    if fmt in AV_FORMATS:
        _encode_av(target, clip, fmt, chapters, encoding)
        return
    sf_format, default_subtype = FORMATS[fmt]
    lame = _mp3_settings(encoding) if fmt == "mp3" else {}
    if fmt == "mp3" and clip.sample_rate not in (32000, 44100, 48000, 22050, 24000, 16000):
        clip = clip.resampled(44100)
    if isinstance(clip, AudioStream):
        with sf.SoundFile(str(target), "w", clip.sample_rate, clip.channels,
                          subtype or default_subtype, format=sf_format, **lame) as handle:
            for block in clip.blocks():
                handle.write(block.T)
        return
    sf.write(str(target), clip.samples.T, clip.sample_rate, format=sf_format,
             subtype=subtype or default_subtype, **lame)


def write_audio(
    path: str | os.PathLike[str],
    clip: AudioClip | AudioStream,
    fmt: str | None = None,
    subtype: str | None = None,
    encoding: Encoding | None = None,
) -> Path:
    """Write atomically (see :func:`engines.files.atomic_write`). Returns the final path.

    An :class:`~engines.stream.AudioStream` is encoded block by block, so a long export
    never holds the whole programme in memory."""
    from engines.files import atomic_write

    path = Path(path)
    fmt = format_for(path, fmt)
    with atomic_write(path) as tmp:
        encode_audio(tmp, clip, fmt, subtype, encoding=encoding)
    return path
