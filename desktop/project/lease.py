"""Who else has this project open: a lock file every open project holds.

Why: the clean-up that runs on open (unreferenced audio, staging files, jobs left
"running") is only safe when no other process can still commit what it would remove. A
take's audio is renamed into ``audio/`` a moment *before* its rows commit, and a staging
file is being written for seconds; another process cannot tell either from a crash's
leftovers. So every open ``Project`` holds a shared ``flock`` on ``project.lock`` for its
whole life, and the clean-up runs only when an exclusive lock can be had at once — that is,
when nobody else (another process, or another ``Project`` on the same folder in this one)
has the project open. ``flock`` locks belong to the open file, so two opens in one process
exclude each other just as two processes do, and the kernel drops them when a process dies,
so a crash never leaves a stale lock.

Where ``fcntl`` does not exist (Windows) the lease never becomes exclusive: the clean-up is
skipped rather than risk deleting another writer's take.
"""

from __future__ import annotations

import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = "project.lock"


class Lease:
    """A shared (or briefly exclusive) lock on one project folder."""

    def __init__(self, folder: Path) -> None:
        self._fd: int | None = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o666)
        self.exclusive = False

    def try_exclusive(self) -> bool:
        """True when no other open project holds the lease (non-blocking)."""
        if fcntl is None or self._fd is None:
            return False
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        self.exclusive = True
        return True

    def share(self) -> None:
        """Hold the lease shared (waits only while another opener runs its clean-up)."""
        if fcntl is not None and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_SH)
        self.exclusive = False

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the file drops the flock
            self._fd = None
