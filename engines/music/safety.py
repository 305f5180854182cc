"""What makes loading third-party checkpoints safe: our stand-ins first on the import path,
and ``torch.load`` kept weights-only with an exact allow-list (nothing else is unpickled).

The checkpoints' part (OmegaConf configs in ``xp.cfg``); the allow-list mechanism itself is
:mod:`engines.safe_load`, shared with demucs' htdemucs (:mod:`engines.htdemucs`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from engines.safe_load import allowing


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
