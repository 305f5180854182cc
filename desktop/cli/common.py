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
    """Run a command; turn the errors a user can act on into one line and exit status 1."""
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
    except PermissionError as exc:
        return fail(f"permission denied: {exc.filename}. Choose a folder you can write to.")
    except OSError as exc:
        if exc.errno == 28:
            return fail("the disk is full. Free some space and try again; nothing was lost.")
        raise


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
