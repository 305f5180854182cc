"""Demucs' ``htdemucs`` for the melody checkpoints: where its weights are, importing them,
and loading them without ever running pickled code.

Why this module exists: audiocraft's ``ChromaStemConditioner`` (the ``self_wav``
conditioner of musicgen-melody, -melody-large and their stereo versions) strips drums and
bass from the melody with demucs before taking its chroma, and it builds that separator in
its constructor with ``demucs.pretrained.get_model('htdemucs')`` — so *loading* a melody
checkpoint needs demucs' weights, whether or not a melody is given. demucs resolves
``htdemucs`` to one file, ``955717e8-8726e21a.th``, through ``torch.hub``: the file is read
from ``<torch hub dir>/checkpoints/`` when present and downloaded otherwise.

Where the weights come from (first found wins):

1. the model store, as ``demucs/htdemucs`` (``timbre models import 955717e8-8726e21a.th``);
   its snapshot folder *is* a torch hub folder (``checkpoints/955717e8-8726e21a.th``);
2. torch's own hub cache (``$TORCH_HOME/hub``, by default ``~/.cache/torch/hub``), where
   demucs or audiocraft put it when they ran with a network.

Nothing is ever downloaded here: a load without the file stops before demucs is asked.

Why loading is safe (the route chosen): a demucs ``.th`` file is a pickle of
``{'klass': HTDemucs, 'args', 'kwargs', 'state', ...}``, and ``torch.hub`` loads it with
``weights_only=False`` — arbitrary code execution for whoever wrote the file. Checking the
file against the official release's SHA-256 would make the load safe only for that one
file (and no test could exercise the real path with anything else), so instead every load
is made a *weights-only* load: while a melody model loads, torch's
``TORCH_FORCE_WEIGHTS_ONLY_LOAD`` overrides the ``weights_only=False`` of ``torch.hub``,
and exactly two globals are allowed besides the tensors: the ``HTDemucs`` class (a
reference, not an instance: demucs then calls it with the file's arguments) and
``fractions.Fraction`` (its segment length). With only those callables reachable, a
crafted file can at worst build a wrong HTDemucs, never run code. Imports are checked the
same way before the file is copied, and the file's full SHA-256 is compared with the
official release's (:data:`HTDEMUCS_SHA256`) so the user is told whether it is that file.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engines import modelstore
from engines.blobs import file_sha256
from engines.errors import BadInput, ModelMissing

HTDEMUCS_FILE = "955717e8-8726e21a.th"  # demucs/remote/files.txt, named by htdemucs.yaml
HTDEMUCS_URL = "https://dl.fbaipublicfiles.com/demucs/hybrid_transformer/" + HTDEMUCS_FILE
# SHA-256 of the official file (its first 8 hex digits are the ``8726e21a`` in its name,
# which is all demucs itself checks, and only when it downloads).
HTDEMUCS_SHA256 = "8726e21a993978c7ba086d3872e7608d7d5bfca646ca4aca459ffda844faa8b4"
HTDEMUCS_REPO = "demucs/htdemucs"  # its id in the model store
HTDEMUCS_MB = 80
# What ``import demucs.pretrained`` and ``demucs.apply`` import (torchaudio: the stand-in).
DEMUCS_MODULES = ("demucs", "openunmix", "lameenc", "dora")
MELODY_STEMS = ("vocals", "other")  # what ChromaStemConditioner keeps


def import_hint() -> str:
    return (
        f"download {HTDEMUCS_URL} ({HTDEMUCS_MB} MB) and run 'timbre models import {HTDEMUCS_FILE}'"
    )


def torch_hub_dir() -> Path:
    """torch's default hub folder, computed as ``torch.hub.get_dir`` does (without torch)."""
    home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or "~/.cache", "torch"
    )
    return Path(home).expanduser() / "hub"


def _has_weights(hub_dir: Path) -> bool:
    return (hub_dir / "checkpoints" / HTDEMUCS_FILE).is_file()


def store_hub_dir() -> Path | None:
    """The store's imported copy (a torch hub folder), or None."""
    snap = modelstore.snapshot_path(HTDEMUCS_REPO)
    return snap if snap is not None and _has_weights(snap) else None


def find_hub_dir() -> Path | None:
    """The torch hub folder demucs should read ``htdemucs`` from, or None when none has it."""
    store = store_hub_dir()
    if store is not None:
        return store
    cache = torch_hub_dir()
    return cache if _has_weights(cache) else None


def missing_packages() -> list[str]:
    return [m for m in DEMUCS_MODULES if importlib.util.find_spec(m) is None]


def missing_reason() -> str | None:
    """Why a melody checkpoint cannot load here (one sentence), or None. No torch import."""
    packages = missing_packages()
    if packages:
        return (
            f"needs the demucs package (missing: {', '.join(packages)}); 'make setup' installs it"
        )
    if find_hub_dir() is None:
        return f"needs demucs' htdemucs weights (melody stem separation): {import_hint()}"
    return None


def require(label: str) -> Path:
    """The hub folder holding htdemucs, or :class:`ModelMissing` saying what to do."""
    reason = missing_reason()
    if reason is not None:
        raise ModelMissing(f"{label} follows melodies, so it {reason}.")
    hub = find_hub_dir()
    assert hub is not None
    return hub


# ---- checkpoints that need it ---------------------------------------------------------
def conditioner_models(cfg: Any) -> set[str]:
    """The conditioner types (``t5``, ``chroma_stem``, ...) an LM's ``xp.cfg`` declares."""
    from omegaconf import OmegaConf

    if isinstance(cfg, (str, bytes)):
        cfg = OmegaConf.create(cfg if isinstance(cfg, str) else cfg.decode())
    conditioners = OmegaConf.select(OmegaConf.create(cfg), "conditioners") or {}
    return {str(c.get("model")) for c in conditioners.values() if hasattr(c, "get")}


def lm_needs_demucs(state_dict: Path) -> bool:
    """Whether the LM checkpoint at ``state_dict`` has a chroma-stem (demucs) conditioner.

    Read with ``mmap`` and ``weights_only``: only the config is parsed, no weights are read.
    A file that cannot be read so answers False: the model's own load then reports it
    (a pickled-code checkpoint, say) in the words used for every checkpoint.
    """
    import torch

    from engines.music.safety import safe_checkpoint_loading

    try:
        with safe_checkpoint_loading():
            pkg = torch.load(state_dict, map_location="cpu", mmap=True, weights_only=True)
    except Exception:  # noqa: BLE001 - see above
        return False
    cfg = pkg.get("xp.cfg") if isinstance(pkg, dict) else None
    return cfg is not None and "chroma_stem" in conditioner_models(cfg)


# ---- safe loading ---------------------------------------------------------------------
def safe_globals() -> list[Any]:
    """The only globals a demucs ``.th`` may name: the model class and its segment type."""
    from fractions import Fraction

    from demucs.htdemucs import HTDemucs

    return [HTDemucs, Fraction]


@contextlib.contextmanager
def demucs_loading(hub_dir: Path) -> Iterator[None]:
    """While a melody model loads: demucs reads htdemucs from ``hub_dir``, weights-only.

    ``torch.hub.load_state_dict_from_url`` passes ``weights_only=False``;
    ``TORCH_FORCE_WEIGHTS_ONLY_LOAD`` is the switch torch gives to override that from
    outside, and it is restored afterwards. Callers hold the hub lock of
    :mod:`engines.music.loading` (the hub folder and that switch are process-wide).
    """
    from engines.music.safety import allowing, prepare_imports

    prepare_imports()  # demucs.audio and openunmix import torchaudio: the stand-in
    import torch

    saved_dir = getattr(torch.hub, "_hub_dir", None)
    saved_force = os.environ.get("TORCH_FORCE_WEIGHTS_ONLY_LOAD")
    saved_no = os.environ.pop("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", None)
    torch.hub.set_dir(str(hub_dir))
    os.environ["TORCH_FORCE_WEIGHTS_ONLY_LOAD"] = "1"
    try:
        with allowing(safe_globals()):
            yield
    finally:
        torch.hub._hub_dir = saved_dir
        if saved_force is None:
            os.environ.pop("TORCH_FORCE_WEIGHTS_ONLY_LOAD", None)
        else:
            os.environ["TORCH_FORCE_WEIGHTS_ONLY_LOAD"] = saved_force
        if saved_no is not None:
            os.environ["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = saved_no


# ---- importing ------------------------------------------------------------------------
@dataclass(frozen=True)
class HTDemucsInfo:
    sha256: str
    sources: tuple[str, ...]
    parameters: int

    @property
    def official(self) -> bool:
        return self.sha256 == HTDEMUCS_SHA256


def load_htdemucs(path: Path) -> Any:
    """An HTDemucs model built from a demucs ``.th`` file, never running pickled code: the
    file is loaded weights-only with :func:`safe_globals`, then built with demucs' own
    ``load_model`` exactly as demucs builds it. Refuses (one line) a file that would run
    code, is no HTDemucs, or does not build. Also the stem separator's loader
    (``engines.stems``), so both uses of htdemucs load it one way."""
    from engines.music.safety import allowing, is_unsafe_pickle_error, prepare_imports

    prepare_imports()
    if importlib.util.find_spec("demucs") is None:
        raise ModelMissing("The demucs package is not installed; 'make setup' installs it.")
    import torch
    from demucs.htdemucs import HTDemucs
    from demucs.states import load_model

    path = Path(path)
    try:
        with allowing(safe_globals()):
            pkg = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        if is_unsafe_pickle_error(exc):
            raise BadInput(
                f"{path} would run pickled code when loaded (or names classes other than "
                "demucs' HTDemucs), so it was not loaded."
            ) from exc
        raise BadInput(f"{path} cannot be read as a demucs model: {exc}") from exc
    if not isinstance(pkg, dict) or pkg.get("klass") is not HTDemucs:
        raise BadInput(f"{path} is not a demucs HTDemucs model (htdemucs, {HTDEMUCS_FILE}).")
    try:
        model = load_model(pkg)
    except Exception as exc:
        raise BadInput(f"{path} is not a usable HTDemucs model: {exc}") from exc
    return model.eval()


def check_htdemucs_file(path: Path) -> HTDemucsInfo:
    """Refuse a file that is not an HTDemucs in demucs' format, or that would run code
    (:func:`load_htdemucs`), so a file that passes here loads later."""
    path = Path(path)
    model = load_htdemucs(path)
    sources = tuple(model.sources)
    if not set(MELODY_STEMS) <= set(sources):
        raise BadInput(
            f"{path} separates {', '.join(sources)}; the melody conditioner needs "
            f"{' and '.join(MELODY_STEMS)} stems (use htdemucs, {HTDEMUCS_FILE})."
        )
    params = sum(p.numel() for p in model.parameters())
    return HTDemucsInfo(file_sha256(path), sources, params)


def import_htdemucs(path: Path) -> tuple[modelstore.InstalledModel, HTDemucsInfo]:
    """Check ``path`` and copy it into the store as ``demucs/htdemucs`` (a torch hub folder
    with ``checkpoints/955717e8-8726e21a.th``, whatever the file was called)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise BadInput(f"{path} is not a file. Choose demucs' {HTDEMUCS_FILE}.")
    info = check_htdemucs_file(path)
    with tempfile.TemporaryDirectory() as staging:  # the torch hub layout demucs reads
        (Path(staging) / "checkpoints").mkdir()
        (Path(staging) / "checkpoints" / HTDEMUCS_FILE).symlink_to(path.resolve())
        model = modelstore.import_folder(Path(staging), HTDEMUCS_REPO, revision=info.sha256)
    return model, info


def is_demucs_file(path: Path) -> bool:
    """A file (not a model folder) offered to ``timbre models import``: demucs' ``.th``."""
    return Path(path).suffix == ".th"


def describe_import(model: modelstore.InstalledModel) -> str:
    """One line for an imported htdemucs: whether it is the official file, and what uses it."""
    if model.revision == HTDEMUCS_SHA256:
        which = "the official htdemucs release (SHA-256 verified)"
    else:
        which = (
            f"an HTDemucs model, but not the official {HTDEMUCS_FILE} (SHA-256 "
            f"{model.revision[:16]}…); melody conditioning quality depends on it"
        )
    return f"{which}; the melody checkpoints (--melody) use it."


def raised_by_demucs(exc: BaseException) -> bool:
    """Whether ``exc`` came out of demucs' own code (its model loading)."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    return any(f"{os.sep}demucs{os.sep}" in frame.filename for frame in frames)
