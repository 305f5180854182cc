"""Loading third-party weights without running their code: our stand-ins first on the
import path, and ``torch.load`` weights-only with an exact allow-list of globals.

Shared by every family that loads pickled weights (MusicGen/AudioGen checkpoints in
:mod:`engines.music.safety`, demucs' htdemucs in :mod:`engines.htdemucs`), so it belongs
to none of them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


def prepare_imports() -> None:
    """Import stand-ins first on the path, then make sure audiocraft uses torch attention."""
    from engines import _standins

    _standins.install()


@contextlib.contextmanager
def allowing(safe: list[Any]) -> Iterator[None]:
    """Add ``safe`` to torch's weights-only allowlist meanwhile; nests safely.

    ``torch.serialization.safe_globals`` removes its globals on exit even when an outer
    block had added them too, which would silently shrink the outer block's list; here
    only the globals this block actually added are removed.
    """
    import torch

    present = set(map(id, torch.serialization.get_safe_globals()))
    added = [g for g in safe if id(g) not in present]
    torch.serialization.add_safe_globals(added)
    try:
        yield
    finally:
        if added:
            ours = set(map(id, added))
            keep = [g for g in torch.serialization.get_safe_globals() if id(g) not in ours]
            torch.serialization.clear_safe_globals()
            torch.serialization.add_safe_globals(keep)


def is_unsafe_pickle_error(exc: BaseException) -> bool:
    """Whether a weights-only load failed because the file names code to run (a class or
    function outside the allowed ones) — not because it is no pickle at all ("Unsupported
    operand": a text file, a truncated download), which deserves a different message."""
    import pickle

    text = str(exc)
    if "Unsupported operand" in text:
        return False
    return isinstance(exc, pickle.UnpicklingError) or "weights_only" in text
