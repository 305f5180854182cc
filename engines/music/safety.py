"""What makes loading third-party checkpoints safe: our stand-ins first on the import path,
and ``torch.load`` kept weights-only with an exact allow-list (nothing else is unpickled).

Shared by the MusicGen/AudioGen loader (:mod:`engines.music.loading`) and demucs' htdemucs
(:mod:`engines.music.melody`), which is why it is a module of its own: each of those two
uses the other, and this part belongs to neither.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any


def prepare_imports() -> None:
    """Import stand-ins first on the path, then make sure audiocraft uses torch attention."""
    from engines import _standins

    _standins.install()


def _omegaconf_safe_globals() -> list[Any]:
    """The OmegaConf classes a pickled ``xp.cfg`` is made of (data holders, no code)."""
    import collections
    import typing

    from omegaconf import DictConfig, ListConfig, nodes
    from omegaconf.base import ContainerMetadata, Metadata

    return [
        DictConfig,
        ListConfig,
        ContainerMetadata,
        Metadata,
        nodes.AnyNode,
        nodes.StringNode,
        nodes.IntegerNode,
        nodes.FloatNode,
        nodes.BooleanNode,
        typing.Any,
        collections.defaultdict,
        dict,
        list,
        int,
    ]


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


@contextlib.contextmanager
def safe_checkpoint_loading() -> Iterator[None]:
    """``torch.load`` stays ``weights_only`` (even if the environment tries to turn that
    off) and accepts OmegaConf configs."""
    forced = os.environ.pop("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", None)
    try:
        with allowing(_omegaconf_safe_globals()):
            yield
    finally:
        if forced is not None:
            os.environ["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = forced


def is_unsafe_pickle_error(exc: BaseException) -> bool:
    """Whether a weights-only load failed because the file names code to run (a class or
    function outside the allowed ones) — not because it is no pickle at all ("Unsupported
    operand": a text file, a truncated download), which deserves a different message."""
    import pickle

    text = str(exc)
    if "Unsupported operand" in text:
        return False
    return isinstance(exc, pickle.UnpicklingError) or "weights_only" in text
