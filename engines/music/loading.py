"""Loading audiocraft models from the model store, offline, with no pickle code execution.

audiocraft's ``get_pretrained`` finds the LM and compression checkpoints with
``hf_hub_download`` and the T5 text encoder and EnCodec with transformers'
``from_pretrained``; both read ``huggingface_hub.constants.HF_HUB_CACHE`` at call time, so
pointing that (and the offline flag) at the store for the duration of a load is enough.

Checkpoints are read by ``torch.load`` with ``weights_only=True`` (torch's default since
2.6, which audiocraft relies on). Released checkpoints store their config as YAML text;
some re-exported ones pickle OmegaConf containers, so exactly those OmegaConf classes are
allowed through torch's safe-globals list. Nothing else is unpickled.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from engines.errors import ModelMissing

_hub_lock = threading.RLock()


def prepare_imports() -> None:
    """Import stand-ins first on the path, then make sure audiocraft uses torch attention."""
    from engines import _standins

    _standins.install()


@contextlib.contextmanager
def hub_cache(path: Path, offline: bool = True) -> Iterator[None]:
    """Point huggingface_hub (and so transformers and audiocraft) at ``path`` meanwhile."""
    import huggingface_hub.constants as constants

    names = ("HF_HUB_CACHE", "HF_HUB_OFFLINE")
    env_names = ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    with _hub_lock:
        saved = {n: getattr(constants, n) for n in names}
        saved_env = {n: os.environ.get(n) for n in env_names}
        constants.HF_HUB_CACHE = str(path)
        constants.HF_HUB_OFFLINE = offline
        os.environ["HF_HUB_CACHE"] = os.environ["HUGGINGFACE_HUB_CACHE"] = str(path)
        for n in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
            os.environ[n] = "1" if offline else "0"
        try:
            yield
        finally:
            for n, v in saved.items():
                setattr(constants, n, v)
            for n, v in saved_env.items():
                if v is None:
                    os.environ.pop(n, None)
                else:
                    os.environ[n] = v


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
    import torch

    forced = os.environ.pop("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", None)
    try:
        with torch.serialization.safe_globals(_omegaconf_safe_globals()):
            yield
    finally:
        if forced is not None:
            os.environ["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = forced


def is_unsafe_pickle_error(exc: BaseException) -> bool:
    import pickle

    return isinstance(exc, pickle.UnpicklingError) or "weights_only" in str(exc)


def load_pretrained(family: str, source: str, cache: Path, device: str) -> Any:
    """``MusicGen``/``AudioGen.get_pretrained(source)`` with the store as hub cache.

    ``source`` is a hub id installed in ``cache`` or a model folder holding
    ``state_dict.bin`` and ``compression_state_dict.bin``.
    """
    prepare_imports()
    import warnings

    from audiocraft.models import AudioGen, MusicGen
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a terminal bar per T5/EnCodec load is noise here
    cls = {"musicgen": MusicGen, "audiogen": AudioGen}[family]
    with hub_cache(cache), safe_checkpoint_loading(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*weight_norm.*", category=FutureWarning)
        try:
            return cls.get_pretrained(source, device=device)
        except Exception as exc:
            if is_unsafe_pickle_error(exc):
                raise ModelMissing(
                    f"{source}: the checkpoint contains pickled code objects, which Timbre does "
                    "not load (they could run code on your computer). Use the official "
                    "checkpoint or re-export it with audiocraft's export functions."
                ) from exc
            if isinstance(exc, (OSError, FileNotFoundError)) or type(exc).__name__ in (
                "LocalEntryNotFoundError",
                "EntryNotFoundError",
                "OfflineModeIsEnabled",
            ):
                needs = "t5-base and facebook/encodec_32khz" if family == "musicgen" else "t5-large"
                raise ModelMissing(
                    f"{source}: a file it needs is not installed ({_short(exc)}). "
                    f"{family} checkpoints also need {needs}: install them with "
                    "'timbre models download NAME' (or import their folders)."
                ) from exc
            raise


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]
