"""Demucs' ``htdemucs``: where its weights are, fetching and importing them, and loading
them without ever running pickled code.

Two families use it, which is why it belongs to neither: stem separation
(:mod:`engines.stems`) runs it, and the melody checkpoints' ``ChromaStemConditioner``
(:mod:`engines.music.melody`) builds it while loading. demucs resolves ``htdemucs`` to one
file, ``955717e8-8726e21a.th``, read from ``<torch hub dir>/checkpoints/``.

Where the weights come from (first found wins):

1. the model store, as ``demucs/htdemucs`` (``timbre models download htdemucs``, or
   ``timbre models import 955717e8-8726e21a.th``); its snapshot folder *is* a torch hub
   folder (``checkpoints/955717e8-8726e21a.th``);
2. torch's own hub cache (``$TORCH_HOME/hub``, by default ``~/.cache/torch/hub``), where
   demucs or audiocraft put it when they ran with a network.

Why loading is safe: a demucs ``.th`` file is a pickle of ``{'klass': HTDemucs, 'args',
'kwargs', 'state', ...}``, which ``torch.hub`` would load with ``weights_only=False`` —
arbitrary code for whoever wrote the file. Here every load is weights-only with exactly
two globals allowed besides the tensors (:func:`safe_globals`: the ``HTDemucs`` class, a
reference that demucs then calls with the file's arguments, and ``fractions.Fraction``),
so a crafted file can at worst build a wrong HTDemucs, never run code. The file's SHA-256
is compared with the official release's (:data:`HTDEMUCS_SHA256`) so the user is told
whether it is that file.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engines import modelstore
from engines.blobs import file_sha256
from engines.cancel import CancelToken, Progress, ProgressCallback, no_progress
from engines.errors import BadInput, ModelMissing
from engines.safe_load import allowing, is_unsafe_pickle_error, prepare_imports

HTDEMUCS_FILE = "955717e8-8726e21a.th"  # demucs/remote/files.txt, named by htdemucs.yaml
HTDEMUCS_URL = "https://dl.fbaipublicfiles.com/demucs/hybrid_transformer/" + HTDEMUCS_FILE
# SHA-256 of the official file (its first 8 hex digits are the ``8726e21a`` in its name,
# which is all demucs itself checks, and only when it downloads).
HTDEMUCS_SHA256 = "8726e21a993978c7ba086d3872e7608d7d5bfca646ca4aca459ffda844faa8b4"
HTDEMUCS_REPO = "demucs/htdemucs"  # its id in the model store
HTDEMUCS_MB = 80
# What ``import demucs.pretrained`` and ``demucs.apply`` import (torchaudio: the stand-in).
DEMUCS_MODULES = ("demucs", "openunmix", "lameenc", "dora")
# Stems a usable file must separate: the melody conditioner keeps vocals and "other";
# dialogue isolation is vocals and the rest.
NEEDED_SOURCES = ("vocals", "other")


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


def safe_globals() -> list[Any]:
    """The only globals a demucs ``.th`` may name: the model class and its segment type."""
    from fractions import Fraction

    from demucs.htdemucs import HTDemucs

    return [HTDemucs, Fraction]


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
    if not set(NEEDED_SOURCES) <= set(sources):
        raise BadInput(
            f"{path} separates {', '.join(sources)}; stem separation and melodies need "
            f"{' and '.join(NEEDED_SOURCES)} stems (use htdemucs, {HTDEMUCS_FILE})."
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
            f"{model.revision[:16]}…); separation quality depends on it"
        )
    return f"{which}; stem separation and the melody checkpoints (--melody) use it."


def download(
    say: Callable[[str], None] = print,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> None:
    """The weights, which are not on the hub: fetched from demucs' own URL, checked against the official SHA-256, then imported
    through the same weights-only check as a file the user imports."""
    if find_hub_dir() is not None:
        say(f"{HTDEMUCS_REPO} is already installed")
        return
    from engines.download import RemoteFile, fetch_url, hub_error, remote_size

    part = modelstore.repo_folder(HTDEMUCS_REPO) / "partial" / (HTDEMUCS_FILE + ".part")
    modelstore.configure_hub_env(allow_download=True)
    try:
        size = remote_size(HTDEMUCS_URL)
        say(f"downloading {HTDEMUCS_REPO} ({size / 1e6:.1f} MB)")

        def on_bytes(n: int) -> None:
            if cancel is not None:
                cancel.check()
            progress(Progress(n, size, HTDEMUCS_REPO))

        file = RemoteFile(HTDEMUCS_FILE, size, sha256=HTDEMUCS_SHA256)
        fetch_url(HTDEMUCS_URL, part, file, on_bytes)
    except Exception as exc:  # noqa: BLE001 - see hub_error
        raise hub_error(exc, HTDEMUCS_REPO, import_hint()) from exc
    finally:
        modelstore.configure_hub_env(allow_download=False)
    import_htdemucs(part)
    shutil.rmtree(part.parent, ignore_errors=True)


def save_tiny_htdemucs(path: Path, seed: int = 1234) -> Path:
    """A random-weight HTDemucs (demucs' class, tiny widths, htdemucs' 4 sources) written as
    demucs writes its releases: ``serialize_model`` (class, args, half-precision state).

    Its biases are zero: with random biases the stems are a constant hum whose chroma is
    the same whatever the input, so the melody would never reach the LM; without them the
    stems (and so the chroma) depend on the input, so tests can see that it does.
    """
    from fractions import Fraction

    prepare_imports()  # demucs imports torchaudio (through openunmix): the stand-in
    import torch
    from demucs.htdemucs import HTDemucs
    from demucs.states import serialize_model
    from omegaconf import OmegaConf

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = HTDemucs(
            sources=["drums", "bass", "other", "vocals"],
            channels=4,
            dconv_comp=2,
            t_layers=1,
            t_heads=2,
            segment=Fraction(5, 2),  # the release trains on 39/5 s; shorter is faster here
        )
        with torch.no_grad():
            for name, param in model.named_parameters():
                if name.endswith("bias"):
                    param.zero_()
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(serialize_model(model, OmegaConf.create({"tiny": True}), half=True), path)
    return path
