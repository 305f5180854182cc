"""The model manager behind ``timbre models``: status, download, import, remove.

Downloads go through huggingface_hub into the store (hub-cache layout): interrupted files
are resumed, LFS files are checked against the hub's SHA-256, and with no network the
command stops at once with one sentence. Imports are checked by loading the checkpoint the
way the engine will (``weights_only``), so a folder that would need pickle code execution
is refused before it is copied.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from engines import modelstore
from engines.errors import BadInput, EngineError, ModelMissing
from engines.music.checkpoints import CHECKPOINT_FILES, DEPENDENCY_FILES, Checkpoint, by_name

NETWORK_TIMEOUT_S = "10"


def checkpoint_status(ckpt: Checkpoint) -> str:
    if not modelstore.is_installed(ckpt.repo_id, CHECKPOINT_FILES):
        return "not installed"
    missing = [d for d in ckpt.dependencies if not modelstore.is_installed(d)]
    return f"installed, needs {', '.join(missing)}" if missing else "installed"


def _files_for(repo_id: str) -> tuple[str, ...]:
    return DEPENDENCY_FILES.get(repo_id, CHECKPOINT_FILES)


def _offline_error(repo_id: str, exc: BaseException) -> EngineError:
    return ModelMissing(
        f"Cannot download {repo_id}: the Hugging Face hub is not reachable ({type(exc).__name__}). "
        "Connect to the internet and run the command again (it resumes), or import a model "
        "folder with 'timbre models import PATH'."
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def download_repo(repo_id: str, say: Callable[[str], None] = print) -> Path:
    """Fetch the files the engines use from one repo (resuming), then verify LFS hashes."""
    modelstore.configure_hub_env(allow_download=True)
    os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", NETWORK_TIMEOUT_S)
    os.environ.setdefault("HF_HUB_DOWNLOAD_TIMEOUT", NETWORK_TIMEOUT_S)
    import huggingface_hub
    from huggingface_hub.errors import HfHubHTTPError

    cache = str(modelstore.hub_cache())
    try:
        api = huggingface_hub.HfApi()
        info = api.model_info(repo_id, files_metadata=True)
        wanted = set(_files_for(repo_id))
        present = {s.rfilename: s for s in info.siblings or [] if s.rfilename in wanted}
        if not present:
            raise BadInput(
                f"{repo_id} on the hub has none of the files {', '.join(sorted(wanted))}."
            )
        say(f"downloading {repo_id} ({len(present)} files)")
        folder = Path(
            huggingface_hub.snapshot_download(
                repo_id, revision=info.sha, allow_patterns=sorted(present), cache_dir=cache
            )
        )
    except EngineError:
        raise
    except Exception as exc:  # noqa: BLE001 - httpx, OSError, hub errors: all mean "no download"
        status = getattr(getattr(exc, "response", None), "status_code", 0)
        if isinstance(exc, HfHubHTTPError) and status in (401, 404):
            raise BadInput(f"{repo_id} does not exist on the hub or needs a login.") from exc
        raise _offline_error(repo_id, exc) from exc
    finally:
        modelstore.configure_hub_env(allow_download=False)
    for name, sibling in present.items():
        lfs = getattr(sibling, "lfs", None)
        if lfs is not None and _sha256(folder / name) != lfs.sha256:
            (folder / name).unlink(missing_ok=True)
            raise EngineError(
                f"{repo_id}/{name} is corrupt (its SHA-256 does not match the hub's); it was "
                "deleted — run the download again."
            )
    return folder


def download(name: str, say: Callable[[str], None] = print) -> list[str]:
    """Download a checkpoint by name (and its T5 / EnCodec), or any single hub repo id."""
    ckpt = by_name(name)
    if ckpt is None and "/" not in name and name not in DEPENDENCY_FILES:
        raise BadInput(f"'{name}' is not a known checkpoint; see 'timbre models list'.")
    repos = [*ckpt.dependencies, ckpt.repo_id] if ckpt else [name]
    done = []
    for repo_id in repos:
        if modelstore.is_installed(repo_id, _files_for(repo_id)):
            say(f"{repo_id} is already installed")
        else:
            download_repo(repo_id, say)
        done.append(repo_id)
    return done


def check_checkpoint_folder(path: Path) -> None:
    """Refuse a folder that is not a checkpoint, or whose files need pickle code to load."""
    import torch

    from engines.music.loading import (
        is_unsafe_pickle_error,
        prepare_imports,
        safe_checkpoint_loading,
    )

    prepare_imports()
    missing = [f for f in CHECKPOINT_FILES if not (path / f).is_file()]
    if missing:
        raise BadInput(
            f"{path} is not a MusicGen/AudioGen model folder: it lacks {', '.join(missing)}."
        )
    for name in CHECKPOINT_FILES:
        with safe_checkpoint_loading():
            try:
                pkg = torch.load(path / name, map_location="cpu", mmap=True, weights_only=True)
            except Exception as exc:
                if is_unsafe_pickle_error(exc):
                    raise BadInput(
                        f"{path / name} would run pickled code when loaded, so it was not "
                        "imported. Re-export it with audiocraft's export functions."
                    ) from exc
                raise BadInput(f"{path / name} cannot be read as a checkpoint: {exc}") from exc
        if not isinstance(pkg, dict) or not ({"best_state", "pretrained"} & set(pkg)):
            raise BadInput(f"{path / name} is not an audiocraft checkpoint (no 'best_state').")


def import_model(path: Path, repo_id: str | None = None) -> modelstore.InstalledModel:
    path = Path(path).expanduser()
    if not path.is_dir():
        raise BadInput(f"{path} is not a folder. Choose the folder that holds the model files.")
    check_checkpoint_folder(path)
    repo_id = repo_id or f"local/{path.resolve().name}"
    return modelstore.import_folder(path, repo_id)


def remove_model(name: str) -> str:
    ckpt = by_name(name)
    repo_id = ckpt.repo_id if ckpt else name
    if not modelstore.remove(repo_id):
        raise BadInput(f"{repo_id} is not installed; 'timbre models list' shows what is.")
    return repo_id
