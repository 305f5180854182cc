"""Shared CLI plumbing: one-line errors, a terminal progress bar."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from engines.cancel import Progress
from engines.errors import TimbreError


def fail(message: str, code: int = 1) -> int:
    print(f"timbre: {message}", file=sys.stderr)
    return code


def run_guarded(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a command; turn the errors a user can act on into one line and exit status 1.

    Engine and project errors carry their own sentence. Disk and database errors that
    reach here untyped (from a library) get one from :func:`disk_error_line`."""

    try:
        return int(func(args) or 0)
    except TimbreError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        return fail("cancelled.", 130)
    except BrokenPipeError:  # `timbre ... | head`: the reader left; that is not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        line = disk_error_line(exc)
        if line is None:
            raise
        return fail(line)


def disk_error_line(exc: BaseException) -> str | None:
    """One sentence for a full, read-only or busy disk or database; None for other errors."""
    import sqlite3
    from pathlib import Path

    from engines.files import cannot_write

    if isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError):
        text = str(exc).lower()
        if "disk is full" in text or "database or disk is full" in text:
            return ("the disk is full: the project could not be saved. Free some space and try "
                    "again; the project keeps its last saved state.")
        if "locked" in text or "busy" in text:
            return ("the project is busy: another Timbre (the studio or a command) is writing "
                    "to it. Wait for it to finish or close it, then try again.")
        if "readonly" in text or "read-only" in text:
            return ("the project is read-only (its folder or disk cannot be written). Copy it "
                    "to a folder you can write to, or check the disk.")
        if "malformed" in text or "not a database" in text:
            return ("a database is damaged (" + str(exc) + "). For a project run: timbre "
                    "project check PATH, then timbre project repair PATH (the damaged file is "
                    "kept).")
        return None
    filename = getattr(exc, "filename", None) or getattr(exc.__cause__, "filename", None)
    mapped = cannot_write(exc, Path(str(filename or "a file")))
    return None if mapped is None else str(mapped)


class ProgressBar:
    """A one-line progress bar on a terminal; silent when stderr is not a terminal."""

    def __init__(self, label: str, stream=None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self._last = -1

    def __call__(self, p: Progress) -> None:
        if not self.enabled:
            return
        pct = int(p.fraction * 100)
        if pct == self._last:
            return
        self._last = pct
        width = 30
        filled = int(width * p.fraction)
        stage = f" {p.stage}" if p.stage else ""
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {pct:3d}%{stage}  ")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self._last >= 0:
            self.stream.write("\n")
            self.stream.flush()
