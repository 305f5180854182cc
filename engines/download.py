"""Resumable, verified downloads of model files from the hub into the model store.

huggingface_hub (2.x) retries a dropped connection within one call, but deletes the
partial file when a download fails or is stopped, so a 3 GB checkpoint interrupted at 90 %
(the laptop slept, the user quit or pressed Cancel) starts again from zero. Here each file
goes to ``<repo>/partial/<revision>/<name>.part``, which survives the process; the next
attempt asks the server only for the rest (HTTP ``Range``). A finished file is checked —
LFS files by the hub's SHA-256, small files by their git blob id — before it is moved into
``snapshots/<revision>/``, and the revision becomes the installed one only when every file
is in place (:func:`engines.modelstore.mark_installed`).

The hub's own pieces do the rest: URLs (``hf_hub_url``), headers and token
(``build_hf_headers``) and its HTTP session.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engines import modelstore
from engines.blobs import file_sha256
from engines.errors import BadInput, EngineError, ModelMissing

CHUNK_BYTES = 1 << 20  # progress and cancel granularity
TIMEOUT_S = 10.0


@dataclass(frozen=True)
class RemoteFile:
    """One file of a hub repo, as the hub's file metadata describes it."""

    name: str
    size: int
    sha256: str | None = None  # LFS files
    blob_id: str | None = None  # git blob id (sha1 of "blob <size>\0" + content)
    md5: str | None = None  # catalogs that publish only an MD5 (Piper's voices.json)

    def matches(self, path: Path) -> bool:
        if path.stat().st_size != self.size:
            return False
        if self.sha256:
            return file_sha256(path) == self.sha256
        if self.blob_id:
            return _digest(path, hashlib.sha1(f"blob {self.size}\0".encode())) == self.blob_id
        if self.md5:
            return _digest(path, hashlib.md5(usedforsecurity=False)) == self.md5
        return True


def hub_files(siblings, keep: Callable[[str], bool]) -> list[RemoteFile]:
    """The files of a hub listing (``model_info(..., files_metadata=True).siblings``) that
    ``keep`` wants, each with the checksum the hub publishes: SHA-256 for LFS files, the
    git blob id for small ones."""
    return sorted(
        (
            RemoteFile(
                s.rfilename,
                int(s.size or 0),
                sha256=s.lfs.sha256 if s.lfs is not None else None,
                blob_id=s.blob_id if s.lfs is None else None,
            )
            for s in siblings or []
            if keep(s.rfilename)
        ),
        key=lambda f: f.name,
    )


def hub_error(exc: BaseException, what: str, remedy: str = "") -> EngineError:
    """The one sentence any failed hub call becomes, for every download in the studio.

    httpx, OSError and the hub's own errors all mean one of two things to a user: the hub
    answered that ``what`` is not there (or needs a login) — a wrong name or a moved
    file, so retrying will not help — or it could not be reached, and running the
    command again later resumes. ``remedy`` adds what else the user can do offline
    (import a file, use a debug model).
    """
    if isinstance(exc, EngineError):
        return exc
    status = getattr(getattr(exc, "response", None), "status_code", 0)
    if status in (401, 403, 404) or " HTTP 404" in str(exc):
        detail = (str(exc).splitlines() or [type(exc).__name__])[0]
        return BadInput(
            f"{what} does not exist on the hub or needs a login ({detail}); check the name, "
            "or the hub or mirror may have moved it."
        )
    also = f", or {remedy}" if remedy else ""
    return ModelMissing(
        f"Cannot reach the Hugging Face hub for {what} ({type(exc).__name__}). Connect to the "
        f"internet and run it again (downloads resume){also}."
    )


def _digest(path: Path, digest: hashlib._Hash) -> str:
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def endpoint() -> str | None:
    """The hub to talk to: ``HF_ENDPOINT`` when set (a mirror), read at call time."""
    return os.environ.get("HF_ENDPOINT") or None


def _get(url: str, start: int) -> object:
    from huggingface_hub.utils import build_hf_headers, get_session

    headers = build_hf_headers()
    headers["Accept-Encoding"] = "identity"  # byte offsets must be those of the file
    if start:
        headers["Range"] = f"bytes={start}-"
    return get_session().stream("GET", url, headers=headers, follow_redirects=True, timeout=TIMEOUT_S)


def _fetch_file(url: str, part: Path, file: RemoteFile, on_bytes: Callable[[int], None]) -> None:
    """Append the missing bytes of ``file`` to ``part``; ``on_bytes`` gets its size on disk."""
    start = part.stat().st_size if part.exists() else 0
    if start > file.size:
        part.unlink()
        start = 0
    on_bytes(start)
    if start == file.size:
        return
    with _get(url, start) as response:  # type: ignore[attr-defined]
        if response.status_code in (401, 403, 404):
            raise BadInput(f"{url} does not exist on the hub or needs a login.")
        if response.status_code >= 400:
            raise OSError(f"the hub answered HTTP {response.status_code} for {url}")
        mode = "ab" if response.status_code == 206 else "wb"  # 200: the server sent it all
        done = start if mode == "ab" else 0
        with part.open(mode) as handle:
            for chunk in response.iter_bytes(CHUNK_BYTES):
                handle.write(chunk)
                done += len(chunk)
                on_bytes(done)  # may raise Cancelled: what was written stays for next time


def _complete(final: Path, size: int) -> bool:
    return final.is_file() and final.stat().st_size == size


def _on_disk(final: Path, part: Path, size: int) -> int:
    """Bytes of one file already here: all of it, or what its partial file holds."""
    if _complete(final, size):
        return size
    return min(part.stat().st_size, size) if part.is_file() else 0


def fetch_repo(
    repo_id: str, revision: str, files: list[RemoteFile], on_bytes: Callable[[int], None]
) -> Path:
    """Download ``files`` of ``repo_id`` at ``revision`` into the store and install it.

    ``on_bytes`` gets the repo's bytes on disk so far (resumed and already present bytes
    included), so a progress bar starts where the last attempt stopped.
    """
    from huggingface_hub import hf_hub_url

    urls = [hf_hub_url(repo_id, f.name, revision=revision, endpoint=endpoint()) for f in files]
    return fetch_files(repo_id, revision, list(zip(urls, files, strict=True)), on_bytes)


def fetch_files(
    store_id: str, revision: str, files: list[tuple[str, RemoteFile]], on_bytes: Callable[[int], None]
) -> Path:
    """Download (url, file) pairs into the store as ``store_id`` at ``revision`` and install
    it: resumed from ``partial/``, each file checked before it is moved into the snapshot
    under ``file.name``. :func:`fetch_repo` is this for one hub repo; a catalog whose files
    live in one big repo (Piper's voices) stores each entry under its own id."""
    folder = modelstore.repo_folder(store_id)
    snap = folder / "snapshots" / revision
    partial = folder / "partial" / revision
    snap.mkdir(parents=True, exist_ok=True)
    partial.mkdir(parents=True, exist_ok=True)
    on_bytes(sum(_on_disk(snap / f.name, partial / (f.name + ".part"), f.size) for _u, f in files))
    before = 0
    for url, file in files:
        final = snap / file.name
        if not _complete(final, file.size):
            part = partial / (file.name + ".part")
            part.parent.mkdir(parents=True, exist_ok=True)
            _fetch_file(url, part, file, lambda n, before=before: on_bytes(before + n))
            if not file.matches(part):
                part.unlink(missing_ok=True)
                raise EngineError(
                    f"{store_id}/{file.name} is corrupt (it does not match the published "
                    "checksum); it was deleted — run the download again."
                )
            final.parent.mkdir(parents=True, exist_ok=True)
            part.replace(final)
        before += file.size
        on_bytes(before)
    shutil.rmtree(folder / "partial", ignore_errors=True)
    modelstore.mark_installed(store_id, revision)
    return snap


def remote_size(url: str) -> int:
    """The size the server announces for ``url`` (HEAD, redirects followed)."""
    from huggingface_hub.utils import build_hf_headers, get_session

    headers = {**build_hf_headers(), "Accept-Encoding": "identity"}
    response = get_session().head(url, headers=headers, follow_redirects=True, timeout=TIMEOUT_S)
    if response.status_code >= 400:
        raise OSError(f"{url} answered HTTP {response.status_code}")
    return int(response.headers.get("Content-Length", 0))


def fetch_url(url: str, part: Path, file: RemoteFile, on_bytes: Callable[[int], None]) -> Path:
    """One file from a plain URL into ``part`` (resuming, checked); for the few weights
    that live outside the hub (demucs' htdemucs). The caller moves it into the store."""
    part.parent.mkdir(parents=True, exist_ok=True)
    _fetch_file(url, part, file, on_bytes)
    if not file.matches(part):
        part.unlink(missing_ok=True)
        raise EngineError(
            f"{url} arrived corrupt (it does not match its published checksum); it was "
            "deleted — run the download again."
        )
    return part
