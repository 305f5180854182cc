"""Writing a file for the user: one ``atomic_write`` for every output the studio makes.

Exports, speech, music and effects, mastered episodes, settings and model-store markers
all go through :func:`atomic_write`, so they all behave the same way:

* the bytes go to a temporary name beside the target (same filesystem, so the rename is
  atomic), are fsynced, get the user's normal file mode (umask) and are renamed over the
  target: a crash or a full disk never leaves a half-written file under the final name;
* the temporary name, ``.NAME.<pid>-<n>.timbre-part``, says which process owns it, so the
  next write to that folder removes the ones whose process is gone (a killed export of an
  hour-long episode otherwise leaves a hidden file of a gigabyte and more behind);
* a folder, a device, a FIFO or a socket (or a symlink to one) is refused as a target with
  one sentence: renaming over ``/dev/null`` would replace the device with a regular file;
* a missing parent folder is created (as audiocraft's ``audio_write`` and whisper do);
* an operating-system error (full disk, read-only disk, no permission) becomes a
  :class:`CannotWrite` that names the file and says what to do, and clean-up never hides
  the original error.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import re
import shutil
import stat
import time
from collections.abc import Iterator
from pathlib import Path

from engines.errors import BadInput, EngineError

PART_SUFFIX = ".timbre-part"
_PART = re.compile(r"^\..+\.(\d+)-\d+" + re.escape(PART_SUFFIX) + "$")
# Temp names of earlier versions (tempfile.mkstemp: ".STEM-XXXXXXXX.FMT.part"), which carry
# no pid: removed only once they are old enough that no write can still be using them.
_LEGACY_PART = re.compile(r"^\..+-[a-z0-9_]{8}\.(wav|flac|ogg|mp3)\.part$")
_LEGACY_AGE_S = 24 * 3600
_counter = itertools.count()
_SFE_SYSTEM = 2  # libsndfile's "System error"
_EDQUOT = getattr(errno, "EDQUOT", errno.ENOSPC)


class CannotWrite(EngineError):
    """A file could not be written (read-only disk or folder, no permission, no such place).
    The message names the file and what to do; the target is as it was before."""


class DiskFull(CannotWrite):
    """The disk (or the file-size limit) has no room for the file."""


def _umask() -> int:
    """The process umask. Linux shows it in /proc; elsewhere it is read by setting it,
    which for an instant would give files other threads create a wide-open mode, so
    that is done once and remembered."""
    global _known_umask
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    if _known_umask is None:
        _known_umask = os.umask(0o077)
        os.umask(_known_umask)
    return _known_umask


_known_umask: int | None = None


def user_mode() -> int:
    """The mode a new file of the user's gets (``0o666 & ~umask``), not mkstemp's 0600."""
    return 0o666 & ~_umask()


def _kind_of(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_output(path: Path) -> Path:
    """Refuse a target that is not (and would not become) a regular file; returns the path
    to write, which is a symlink's target when ``path`` links to a regular file (so the link
    survives the rename)."""
    try:
        info = path.stat()  # follows symlinks: a link to /dev/null is refused too
    except FileNotFoundError:
        return path
    except OSError as exc:
        raise cannot_write(exc, path) from exc
    kind = _kind_of(info.st_mode)
    if kind == "a folder":
        raise BadInput(
            f"{path} is a folder, not a file name. Give a file name, e.g. {path / 'out.wav'}."
        )
    if kind is not None:
        raise BadInput(f"{path} is {kind}, not a regular file; Timbre writes only regular files. "
                       "Choose a normal file name.")
    return path.resolve() if path.is_symlink() else path


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (on Windows, where signal 0 is CTRL_C_EVENT and
    cannot probe, every owner counts as alive and nothing is removed)."""
    if pid == os.getpid() or os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. EPERM: it exists, owned by someone else
        return True
    return True


def remove_stale_parts(folder: Path) -> list[Path]:
    """Delete temporary files (or folders) in ``folder`` left by writes whose process has
    died; returns what was removed. Best effort: a file that cannot be removed stays."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        match = _PART.match(entry.name)
        if match:
            stale = not _alive(int(match.group(1)))
        elif _LEGACY_PART.match(entry.name):
            try:
                stale = now - entry.stat(follow_symlinks=False).st_mtime > _LEGACY_AGE_S
            except OSError:
                stale = False
        else:
            continue
        if not stale:
            continue
        path = Path(entry.path)
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
        except OSError:
            pass
    return removed


def part_path(path: Path) -> Path:
    """The temporary name beside ``path`` for this process (unique per call)."""
    return path.with_name(f".{path.name}.{os.getpid()}-{next(_counter)}{PART_SUFFIX}")


def ensure_folder(folder: Path) -> None:
    """Create ``folder`` (and its parents) for an output, or raise a one-line error."""
    if folder.is_dir():
        return
    if folder.exists():
        raise BadInput(f"{folder} is a file, not a folder. Choose another place for the output.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise cannot_write(exc, folder, creating=True) from exc


def _os_error_of(exc: BaseException) -> OSError | None:
    """The operating-system error behind ``exc``: itself, a libsndfile "System error"
    (whose errno libsndfile keeps), or the error a library wrapped (mutagen, sqlite)."""
    if isinstance(exc, OSError):
        return exc
    if type(exc).__name__ == "LibsndfileError" and getattr(exc, "code", None) == _SFE_SYSTEM:
        import soundfile

        code = soundfile._ffi.errno  # libsndfile reports SFE_SYSTEM; the C errno says which
        return OSError(code, os.strerror(code)) if code else None
    cause = exc.__cause__ or exc.__context__
    return cause if isinstance(cause, OSError) else None


def cannot_write(exc: BaseException, path: Path, creating: bool = False) -> EngineError | None:
    """One sentence for an error met while writing ``path`` (None: not a known cause).

    ``creating``: ``path`` is a folder being created rather than a file being written."""
    error = _os_error_of(exc)
    if error is None:
        return None
    what = f"the folder {path}" if creating else str(path)
    where = path if creating else path.parent
    code = error.errno
    if code in (errno.ENOSPC, _EDQUOT):
        return DiskFull(f"The disk is full: {what} could not be written. Free some space (or "
                        "choose another disk) and try again; nothing was changed.")
    if code == errno.EFBIG:
        return DiskFull(f"No room for {what}: it is larger than this disk or the file-size "
                        "limit allows. Free some space or choose another disk; nothing was changed.")
    if code == errno.EROFS:
        return CannotWrite(f"{what} cannot be written: the disk holding {where} is read-only "
                           "(mounted read-only). Choose a folder on another disk.")
    if code in (errno.EACCES, errno.EPERM):
        return CannotWrite(f"{what} cannot be written: {where} is read-only for you "
                           "(permission denied). Choose a folder you can write to.")
    if code == errno.EISDIR:
        return BadInput(f"{what} is a folder, not a file name. Give a file name inside it.")
    if code == errno.EIO:
        return CannotWrite(f"{what} could not be written: the disk reported an input/output "
                           "error (was it removed?). Check the disk and try again.")
    return None


@contextlib.contextmanager
def reporting(path: Path, creating: bool = False) -> Iterator[None]:
    """Turn the known operating-system errors raised inside into one-line errors."""
    try:
        yield
    except EngineError:
        raise
    except Exception as exc:
        mapped = cannot_write(exc, path, creating)
        if mapped is None:
            raise
        raise mapped from exc


def _discard(path: Path) -> None:
    """Remove a temporary file or folder; never raises (the first error is the one to show)."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass


def fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (not possible on every platform or filesystem)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; write the whole file there. On success it is
    fsynced, given mode ``0o666 & ~umask`` and renamed over ``path``; on any failure it is
    removed and the error (made one line where the cause is known) propagates.

    A folder, device, FIFO or socket as ``path`` is refused before anything is written;
    a missing parent folder is created; stale temporary files of dead processes in the
    folder are removed first.
    """
    path = check_output(Path(path))
    folder = path.parent
    ensure_folder(folder)
    remove_stale_parts(folder)
    tmp = part_path(path)
    try:
        with reporting(path):
            yield tmp
            if not tmp.exists():
                raise RuntimeError(f"nothing was written to {tmp}")  # a bug in the caller
            fsync_file(tmp)
            os.chmod(tmp, user_mode())
            check_output(path)  # it may have become a folder or a device meanwhile
            os.replace(tmp, path)
    except BaseException:
        _discard(tmp)
        raise
    fsync_folder(folder)


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`)."""
    with atomic_write(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically (see :func:`atomic_write`)."""
    return write_bytes(path, text.encode("utf-8"))
