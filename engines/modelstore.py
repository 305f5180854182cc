"""The model store: one folder in Hugging Face hub-cache layout.

``models--{org}--{name}/refs/main`` names a revision and ``snapshots/{revision}/`` holds the
files, exactly as ``huggingface_hub`` writes them, so transformers' ``from_pretrained`` and
audiocraft's ``get_pretrained`` find weights here with ``HF_HUB_CACHE`` pointing at it. A
model folder the user imports is copied into the same layout. Nothing here downloads unless
the user asks (``HF_HUB_OFFLINE=1`` otherwise).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from engines.errors import BadInput, ModelMissing
from engines.files import (
    DiskFull,
    ensure_folder,
    part_path,
    remove_stale_parts,
    reporting,
    write_text,
)
from engines.paths import models_dir

_HEADROOM = 64 << 20  # bytes kept free beyond the files themselves


@dataclass(frozen=True)
class InstalledModel:
    repo_id: str
    revision: str
    path: Path
    size_bytes: int


def hub_cache() -> Path:
    path = models_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path


def configure_hub_env(allow_download: bool = False) -> None:
    """Point huggingface_hub and transformers at the store; offline unless allowed.

    Must run before huggingface_hub is imported for the offline flag to be honoured
    everywhere, and again (harmlessly) before each load.
    """
    cache = str(hub_cache())
    os.environ["HF_HUB_CACHE"] = cache
    os.environ["HUGGINGFACE_HUB_CACHE"] = cache
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    if allow_download:
        os.environ.pop("HF_HUB_OFFLINE", None)
        os.environ.pop("TRANSFORMERS_OFFLINE", None)
    else:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:  # huggingface_hub reads its constants at import time
        import sys

        constants = sys.modules.get("huggingface_hub.constants")
        if constants is not None:
            constants.HF_HUB_OFFLINE = not allow_download
            constants.HF_HUB_CACHE = cache
    except Exception:  # pragma: no cover - best effort only
        pass


def repo_folder(repo_id: str) -> Path:
    if repo_id.count("/") > 1 or ".." in repo_id or repo_id.startswith("/"):
        raise BadInput(f"'{repo_id}' is not a model id like 'facebook/musicgen-small'.")
    return hub_cache() / ("models--" + repo_id.replace("/", "--"))


def snapshot_path(repo_id: str) -> Path | None:
    """The folder of the installed revision, or None when the model is not installed."""
    folder = repo_folder(repo_id)
    ref = folder / "refs" / "main"
    if not ref.is_file():
        return None
    snap = folder / "snapshots" / ref.read_text().strip()
    return snap if snap.is_dir() else None


def is_installed(repo_id: str, required: tuple[str, ...] = ()) -> bool:
    snap = snapshot_path(repo_id)
    return snap is not None and all((snap / name).exists() for name in required)


def installed_size(repo_id: str) -> int:
    """Bytes of the installed snapshot's files (0 when not installed)."""
    snap = snapshot_path(repo_id)
    return 0 if snap is None else _tree_size(snap)


def require(repo_id: str, label: str, required: tuple[str, ...] = ()) -> Path:
    snap = snapshot_path(repo_id)
    if snap is None or not all((snap / name).exists() for name in required):
        raise ModelMissing(
            f"{label}: weights not installed — import a model folder "
            f"(timbre models import PATH) or download it (timbre models download {repo_id})."
        )
    return snap


def _tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def list_installed() -> list[InstalledModel]:
    found = []
    root = hub_cache()
    for folder in sorted(root.glob("models--*")):
        repo_id = folder.name[len("models--") :].replace("--", "/", 1)
        snap = snapshot_path(repo_id)
        if snap is not None:
            found.append(InstalledModel(repo_id, snap.name, snap, _tree_size(folder)))
    return found


def model_files(src: Path) -> list[tuple[Path, int]]:
    """Every file of a model folder as (path relative to ``src``, size), checked before a
    byte is copied: a device, FIFO or socket (or a symlink to one, e.g. to ``/dev/zero``,
    which would fill the disk), a link to a folder (which can loop) and a broken link are
    refused with one line. Symlinks to regular files are followed wherever they point: a
    hub-cache snapshot links into ``../../blobs``."""
    files: list[tuple[Path, int]] = []
    for root, dirs, names in os.walk(src):  # does not follow links to folders
        here = Path(root)
        for name in dirs:
            if (here / name).is_symlink():
                raise BadInput(
                    f"{(here / name).relative_to(src)} in {src} is a link to a folder; copy "
                    "the files into the model folder instead and import it again."
                )
        for name in names:
            entry = here / name
            rel = entry.relative_to(src)
            try:
                info = entry.stat()  # follows a symlink to what it points at
            except OSError:
                raise BadInput(f"{rel} in {src} is a broken link; remove it or put the file "
                               "it points to back, and import again.") from None
            if not stat.S_ISREG(info.st_mode):
                raise BadInput(f"{rel} in {src} is not a regular file (a device, pipe or socket, "
                               "or a link to one); a model folder holds only files. Remove it "
                               "and import again.")
            files.append((rel, info.st_size))
    return sorted(files)


def folder_revision(src: Path) -> str:
    """A content hash of a folder, used as the snapshot revision of an imported model."""
    digest = hashlib.sha1()
    for rel, _size in model_files(src):
        digest.update(str(rel).encode())
        with (src / rel).open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _check_room(need: int, where: Path, what: str) -> None:
    """Refuse an import that cannot fit before copying (a full disk halfway helps nobody)."""
    free = shutil.disk_usage(where).free
    if need + _HEADROOM > free:
        raise DiskFull(f"{what} needs {need / 1e9:.2f} GB but the disk holding {where} has "
                       f"{free / 1e9:.2f} GB free. Free some space and try again.")


def import_folder(src: Path, repo_id: str, revision: str | None = None) -> InstalledModel:
    """Copy a model folder into the store as ``repo_id`` (replacing an older import).

    The snapshot is named ``revision`` (default: a hash of the folder's files); symlinks in
    ``src`` are copied as the files they point to (see :func:`model_files` for what is
    refused). The copy goes to a ``.timbre-part`` folder first, removed on failure and, if
    the process is killed, by the next import into the same model.
    """
    src = Path(src)
    if not src.is_dir():
        raise BadInput(f"{src} is not a folder. Choose the folder that holds the model files.")
    files = model_files(src)
    folder = repo_folder(repo_id)
    snapshots = folder / "snapshots"
    ensure_folder(snapshots)
    _check_room(sum(size for _rel, size in files), snapshots, f"Importing {src.name}")
    revision = revision or folder_revision(src)
    snap = snapshots / revision
    remove_stale_parts(snapshots)
    tmp = part_path(snap)
    try:
        with reporting(snap):
            for rel, _size in files:
                (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src / rel, tmp / rel)
            if snap.exists():
                shutil.rmtree(snap)
            tmp.rename(snap)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    mark_installed(repo_id, revision)
    return InstalledModel(repo_id, revision, snap, _tree_size(folder))


def mark_installed(repo_id: str, revision: str) -> None:
    """Point ``refs/main`` at a complete snapshot (atomically): from now on it is installed.

    Written last, after every file is in place and verified, so an interrupted import or
    download never looks installed.
    """
    write_text(repo_folder(repo_id) / "refs" / "main", revision)


def remove(repo_id: str) -> bool:
    folder = repo_folder(repo_id)
    if not folder.exists():
        return False
    shutil.rmtree(folder)
    return True
