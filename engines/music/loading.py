"""Loading audiocraft models from the model store, offline, with no pickle code execution.

audiocraft's ``get_pretrained`` finds the LM and compression checkpoints with
``hf_hub_download`` and the T5 text encoder and EnCodec with transformers'
``from_pretrained``; both read ``huggingface_hub.constants.HF_HUB_CACHE`` at call time, so
pointing that (and the offline flag) at the store for the duration of a load is enough.

Checkpoints are read by ``torch.load`` with ``weights_only=True`` (torch's default since
2.6, which audiocraft relies on). Released checkpoints store their config as YAML text;
some re-exported ones pickle OmegaConf containers, so exactly those OmegaConf classes are
allowed through torch's safe-globals list. Nothing else is unpickled.

Melody checkpoints also build demucs' ``htdemucs`` while they load (see
:mod:`engines.music.melody`): their load runs inside ``melody.demucs_loading``, which points
torch hub at the installed weights and keeps that load weights-only too.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from engines.errors import ModelMissing
from engines.music.safety import safe_checkpoint_loading
from engines.safe_load import is_unsafe_pickle_error, prepare_imports

_hub_lock = threading.RLock()


def quiet_libraries() -> None:
    """Keep library progress bars (tqdm, transformers, huggingface_hub) and FutureWarnings
    off the user's terminal: they speak to developers, and the studio and the CLI show
    their own progress. Process-wide and idempotent; called before a model is built or
    loaded."""
    import warnings

    os.environ["TQDM_DISABLE"] = "1"  # tqdm ≥ 4.66 reads its defaults from TQDM_* variables
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    os.environ["TRANSFORMERS_NO_ADVISORY_WARNINGS"] = "1"
    warnings.filterwarnings("ignore", category=FutureWarning)
    from huggingface_hub.utils import disable_progress_bars
    from transformers.utils import logging as hf_logging

    disable_progress_bars()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


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


def load_pretrained(family: str, source: str, cache: Path, device: str) -> Any:
    """``MusicGen``/``AudioGen.get_pretrained(source)`` with the store as hub cache.

    ``source`` is a hub id installed in ``cache`` or a model folder holding
    ``state_dict.bin`` and ``compression_state_dict.bin``.
    """
    prepare_imports()
    import warnings

    from audiocraft.models import AudioGen, MusicGen
    from transformers.utils import logging as hf_logging

    from engines import htdemucs
    from engines.music import melody

    hf_logging.disable_progress_bar()  # a terminal bar per T5/EnCodec load is noise here
    cls = {"musicgen": MusicGen, "audiogen": AudioGen}[family]
    with (
        hub_cache(cache),
        safe_checkpoint_loading(),
        _demucs_if_needed(family, source, cache),
        warnings.catch_warnings(),
    ):
        warnings.filterwarnings("ignore", message=".*weight_norm.*", category=FutureWarning)
        try:
            return cls.get_pretrained(source, device=device)
        except Exception as exc:
            if is_unsafe_pickle_error(exc) and melody.raised_by_demucs(exc):
                raise ModelMissing(
                    f"{source}: demucs' htdemucs weights ({htdemucs.find_hub_dir()}) would run "
                    "pickled code when loaded, so they were not loaded. Replace them with the "
                    f"official file: {htdemucs.import_hint()}."
                ) from exc
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


def _lm_checkpoint(source: str, cache: Path) -> Path | None:
    """The LM file ``get_pretrained`` will read for ``source`` (a folder or an id in ``cache``)."""
    folder = Path(source)
    if folder.is_absolute():
        path = folder / "state_dict.bin"
        return path if path.is_file() else None
    repo = cache / ("models--" + source.replace("/", "--"))
    ref = repo / "refs" / "main"
    if not ref.is_file():
        return None
    path = repo / "snapshots" / ref.read_text().strip() / "state_dict.bin"
    return path if path.is_file() else None


@contextlib.contextmanager
def _demucs_if_needed(family: str, source: str, cache: Path) -> Iterator[None]:
    """For a model with a chroma-stem (melody) conditioner: demucs' htdemucs, loaded safely,
    or one clear line saying how to install it. Other models: nothing."""
    from engines.music import melody

    lm = _lm_checkpoint(source, cache) if family == "musicgen" else None
    if lm is None or not melody.lm_needs_demucs(lm):
        yield
        return
    hub = melody.require(source)
    with melody.demucs_loading(hub):
        yield


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]
