"""Content-addressed files and SQLite connections, shared by every Timbre store.

The project store, the voice library and voice banks all keep audio as files named by the
sha256 of their bytes next to a SQLite database. The write order is what makes them crash
safe: the file is written to a temporary name, fsynced and renamed to its hash *before* any
row points at it, so a crash leaves at worst an unreferenced file and never a row without
its file.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engines.audio import AudioClip
from engines.cancel import CancelToken
from engines.files import fsync_file, fsync_folder, reporting, user_mode

PathFor = Callable[[str], Path]  # sha256 → where that content lives
_SFC_SET_ADD_PEAK_CHUNK = 0x1050  # libsndfile's sndfile.h


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def adopt(tmp: Path, path_for: PathFor) -> str:
    """Move a finished temporary file to its content address; returns the hash.

    If that content is already stored the temporary file is dropped (deduplication).
    """
    try:
        fsync_file(tmp)
        sha = file_sha256(tmp)
        final = path_for(sha)
        if final.exists():
            tmp.unlink()
        else:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(tmp, user_mode())  # a user's audio, readable as their other files are
            os.replace(tmp, final)
            fsync_folder(final.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return sha


def staging_file(folder: Path, suffix: str) -> Path:
    """A temporary file in ``folder`` (same filesystem as the final place, so rename is atomic).
    Its ``.incoming-`` name marks it as never referenced, for clean-up after a crash."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".incoming-", suffix=suffix)
    os.close(fd)
    return Path(tmp)


def put_bytes(data: bytes, folder: Path, path_for: PathFor) -> str:
    tmp = staging_file(folder, ".part")
    tmp.write_bytes(data)
    return adopt(tmp, path_for)


def put_audio(
    clip: AudioClip, folder: Path, path_for: PathFor, fmt: str = "flac", subtype: str | None = None
) -> str:
    """Encode ``clip`` (soundfile) and store it under the hash of the encoded bytes."""
    import soundfile as sf

    from engines.audio_io import FORMATS

    sf_format, default_subtype = FORMATS[fmt]
    tmp = staging_file(folder, f".{fmt}.part")
    try:
        with (
            reporting(folder),
            sf.SoundFile(tmp, "w", clip.sample_rate, clip.channels, subtype or default_subtype,
                         format=sf_format) as handle,
        ):
            if sf_format == "WAV":
                # libsndfile stamps float WAVs with a PEAK chunk holding the write time; the
                # same audio must give the same bytes, or content addressing cannot dedupe.
                sf._snd.sf_command(handle._file, _SFC_SET_ADD_PEAK_CHUNK, sf._ffi.NULL, 0)
            handle.write(clip.samples.T)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    with reporting(folder):  # fsync can meet a full disk too
        return adopt(tmp, path_for)


@dataclass(frozen=True)
class StoredAudio:
    """What a streamed import stored: its hash and the format, counted while writing."""

    sha256: str
    sample_rate: int
    channels: int
    frames: int

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate


def put_audio_file(
    source: str | os.PathLike[str],
    folder: Path,
    path_for: PathFor,
    cancel: CancelToken | None = None,
) -> StoredAudio:
    """Store an audio file as float32 WAV, read and written in blocks, so a file of any
    length imports in bounded memory. The bytes are what :func:`put_audio` writes for the
    same samples (same subtype, no PEAK chunk), so content addressing dedupes across both;
    past 4 GiB the file is RF64, which libsndfile and soundfile read as WAV.

    Bad input gets the same one-line reasons as ``read_audio`` (checked as blocks arrive).
    """
    from engines.audio_io import check_block, no_frames, open_audio
    from engines.stream import block_frames, open_float_wav

    name = Path(source).name
    tmp = staging_file(folder, ".wav.part")
    try:
        with open_audio(source) as reader, reporting(folder):  # a full disk: one line
            rate, channels = reader.samplerate, reader.channels
            frames = 0
            writer = open_float_wav(tmp, rate, channels, reader.frames)
            with writer:  # type: ignore[attr-defined]
                blocks = reader.blocks(block_frames(rate), dtype="float32", always_2d=True)
                while (block := _next_block(blocks, Path(source))) is not None:
                    if cancel is not None:
                        cancel.check()
                    check_block(block, name)
                    writer.write(block)  # type: ignore[attr-defined]
                    frames += len(block)
        if frames == 0:
            raise no_frames(name)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    with reporting(folder):
        return StoredAudio(adopt(tmp, path_for), int(rate), int(channels), frames)


def _next_block(blocks: Iterator[np.ndarray], source: Path) -> np.ndarray | None:
    """The next decoded block; a decoding error mid-file is reported as read_audio does."""
    import soundfile as sf

    from engines.audio_io import unreadable

    try:
        return next(blocks)
    except StopIteration:
        return None
    except (sf.LibsndfileError, RuntimeError, TypeError, OSError) as exc:
        raise unreadable(source, exc) from exc


def connect(path: Path, timeout: float = 10.0, check_same_thread: bool = True) -> sqlite3.Connection:
    """A SQLite connection as every store wants it: rows by name, foreign keys, WAL."""
    db = sqlite3.connect(path, timeout=timeout, check_same_thread=check_same_thread)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA journal_mode = WAL")
    return db


class SchemaTooNewError(Exception):
    """Raised by :func:`migrate` for a file from a newer version; callers turn it into their
    own error (a ``ProjectError`` or ``EngineError``) with a message for the user."""


def migrate(db: sqlite3.Connection, migrations: list[str], backup: Path | None = None) -> int:
    """Bring a store's database to ``len(migrations)`` (``PRAGMA user_version``).

    The one way every store (project, voice library, voice bank) opens its schema:
    ``migrations[i]`` takes version ``i`` to ``i + 1``, each step commits with its version
    bump or not at all, and an existing database is copied to ``backup`` first (its version
    appended) so a failed step never costs data. A newer file raises
    :class:`SchemaTooNewError`. Returns the version found.
    """
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    latest = len(migrations)
    if version > latest:
        raise SchemaTooNewError(f"format {version}; this version reads up to {latest}")
    if version == latest:
        return version
    if version > 0 and backup is not None:
        dest = sqlite3.connect(f"{backup}.v{version}.bak")
        with dest:
            db.backup(dest)
        dest.close()
    was = db.isolation_level
    db.isolation_level = None  # the script manages its own transaction
    try:
        for target in range(version, latest):
            script = (f"BEGIN IMMEDIATE;\n{migrations[target]}\n"
                      f"PRAGMA user_version={target + 1};\nCOMMIT;")
            try:
                db.executescript(script)
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
    finally:
        db.isolation_level = was
    return version
