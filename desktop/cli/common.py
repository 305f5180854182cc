"""Shared CLI plumbing: one-line errors, a terminal progress bar, the log file."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from engines.cancel import Progress
from engines.errors import TimbreError


def fail(message: str, code: int = 1) -> int:
    import logging

    logging.getLogger("timbre").warning("failed: %s", message)
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
            import logging

            logging.getLogger("timbre").exception("command failed")
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
    """Every command's terminal progress: one tqdm line with percentage, bar, time spent,
    time left and rate; silent when stderr is not a terminal (pipes, logs, tests).

    Called with :class:`engines.cancel.Progress`. Engines count in their own units (frames,
    steps, bytes, seconds), so the rate is in those units, scaled (``1.2k/s``); the stage
    is shown after the label. A new total, or a count that goes back, starts the timing
    again on the same line, so time left is never estimated from another stage's pace.
    """

    BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar:24}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}]"

    def __init__(self, label: str, stream=None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = bool(isatty and isatty())
        self._bar = None  # tqdm, made at the first report
        self._stage = ""

    def _open(self, total: float):
        from tqdm import tqdm

        # frames and bytes read as "192k/480k", steps as "3/12";
        # disable=False outright: engines set TQDM_DISABLE to silence library bars, not ours
        return tqdm(total=total, desc=self.label, file=self.stream, disable=False, leave=True,
                    unit="", unit_scale=total >= 10_000, dynamic_ncols=True, mininterval=0.2,
                    bar_format=self.BAR_FORMAT)

    def __call__(self, p: Progress) -> None:
        if not self.enabled:
            return
        total = p.total if p.total > 0 else 1.0
        done = min(max(p.done, 0.0), total) if p.total > 0 else 0.0
        if float(total).is_integer():  # whole units read as "3/12", not "3.00/12.0"
            total, done = int(total), int(done)
        bar = self._bar
        if bar is None:
            bar = self._bar = self._open(total)
        elif total != bar.total or done < bar.n:
            bar.unit_scale = total >= 10_000
            bar.reset(total=total)
        if p.stage != self._stage:
            self._stage = p.stage
            named = p.stage and p.stage != self.label
            bar.set_description_str(f"{self.label} ({p.stage})" if named else self.label, refresh=False)
        bar.update(done - bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def start_log(argv: list[str]) -> None:
    """Each command goes to the rotating CLI log (see :mod:`engines.logs`) with its arguments."""
    from engines.logs import log, setup_logging

    setup_logging("cli")
    log.info("timbre %s", " ".join(argv))
