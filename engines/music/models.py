"""The model manager behind ``timbre models``: status, download, import, remove.

Downloads (:mod:`engines.download`, on huggingface_hub's URLs and session) go into the
store in hub-cache layout with progress in bytes; a download that was interrupted,
cancelled or killed resumes where it stopped, every file is checked against the hub's
checksum, and with no network the command stops at once with one sentence. Imports are checked by loading the checkpoint the
way the engine will (``weights_only``), so a folder that would need pickle code execution
is refused before it is copied.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from engines import htdemucs, modelstore
from engines.cancel import CancelToken, Progress, ProgressCallback, no_progress
from engines.download import (
    RemoteFile,
    endpoint,
    fetch_repo,
    hub_error,
    hub_files,
)
from engines.errors import BadInput, EngineError
from engines.music.checkpoints import CHECKPOINT_FILES, DEPENDENCY_FILES, Checkpoint, by_name

NETWORK_TIMEOUT_S = 10.0


def checkpoint_status(ckpt: Checkpoint) -> str:
    if not modelstore.is_installed(ckpt.repo_id, CHECKPOINT_FILES):
        return "not installed"
    missing = [d for d in ckpt.dependencies if not modelstore.is_installed(d)]
    return f"installed, needs {', '.join(missing)}" if missing else "installed"


def _files_for(repo_id: str) -> tuple[str, ...]:
    """The files to fetch from a repo (those of them the hub has)."""
    return DEPENDENCY_FILES.get(repo_id, CHECKPOINT_FILES)


def _needed_for(repo_id: str) -> tuple[str, ...]:
    """The files without which a repo is not installed. A dependency repo lacks some
    optional tokenizer files on the hub, so only its config and weights are required."""
    return ("config.json", "model.safetensors") if repo_id in DEPENDENCY_FILES else CHECKPOINT_FILES


class _Plan:
    """What one repo's download needs: the hub revision and the wanted files."""

    def __init__(self, repo_id: str, revision: str, files: list[RemoteFile]) -> None:
        self.repo_id, self.revision, self.files = repo_id, revision, files

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


def _hub_errors(repo_id: str, exc: Exception) -> EngineError:
    return hub_error(exc, repo_id, "import a model folder with 'timbre models import PATH'")


def _plan(repo_id: str) -> _Plan:
    """Ask the hub (``HF_ENDPOINT`` when set) which of the wanted files the repo has."""
    import huggingface_hub

    try:
        api = huggingface_hub.HfApi(endpoint=endpoint())
        info = api.model_info(repo_id, files_metadata=True, timeout=NETWORK_TIMEOUT_S)
    except Exception as exc:  # noqa: BLE001 - httpx, OSError, hub errors: all mean "no download"
        raise _hub_errors(repo_id, exc) from exc
    wanted = set(_files_for(repo_id))
    files = hub_files(info.siblings, lambda name: name in wanted)
    if not files:
        raise BadInput(f"{repo_id} on the hub has none of the files {', '.join(sorted(wanted))}.")
    return _Plan(repo_id, str(info.sha), files)


def _download(
    repos: list[str],
    say: Callable[[str], None],
    progress: ProgressCallback,
    cancel: CancelToken | None = None,
    installed_bytes: int = 0,
) -> dict[str, Path]:
    """Plan every repo first, so progress is in bytes of the whole download.

    ``installed_bytes`` (the parts already installed) count as done, so the bar of a
    download resumed after its text encoder finished does not start lower than it stopped.
    """
    modelstore.configure_hub_env(allow_download=True)
    try:
        plans = [_plan(repo_id) for repo_id in repos]
        total = installed_bytes + sum(p.size for p in plans)
        size = sum(p.size for p in plans)
        amount = f"{size / 1e9:.2f} GB" if size >= 1e8 else f"{size / 1e6:.1f} MB"
        say(f"downloading {', '.join(repos)} ({amount})")
        folders: dict[str, Path] = {}
        before = installed_bytes
        for plan in plans:

            def on_bytes(n: int, before: int = before, plan: _Plan = plan) -> None:
                if cancel is not None:
                    cancel.check()  # the partial file stays: the next download resumes it
                progress(Progress(before + n, total, f"{plan.repo_id}"))

            try:
                folders[plan.repo_id] = fetch_repo(plan.repo_id, plan.revision, plan.files, on_bytes)
            except Exception as exc:  # noqa: BLE001 - see _hub_errors
                raise _hub_errors(plan.repo_id, exc) from exc
            before += plan.size
        return folders
    finally:
        modelstore.configure_hub_env(allow_download=False)


def download(
    name: str,
    say: Callable[[str], None] = print,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> list[str]:
    """Download a checkpoint by name (and its T5 / EnCodec), or any single hub repo id.

    ``progress`` is in bytes of the whole checkpoint (parts already installed or partly
    fetched count as done); ``cancel`` stops between chunks and leaves the partial file
    for the next attempt to resume.
    """
    if name in ("htdemucs", htdemucs.HTDEMUCS_REPO):  # stem separation's weights on their own
        htdemucs.download(say, progress, cancel)
        return [htdemucs.HTDEMUCS_REPO]
    ckpt = by_name(name)
    if ckpt is None and "/" not in name and name not in DEPENDENCY_FILES:
        raise BadInput(f"'{name}' is not a known checkpoint; see 'timbre models list'.")
    repos = [*ckpt.dependencies, ckpt.repo_id] if ckpt else [name]
    missing, installed_bytes = [], 0
    for repo_id in repos:
        if modelstore.is_installed(repo_id, _needed_for(repo_id)):
            say(f"{repo_id} is already installed")
            installed_bytes += modelstore.installed_size(repo_id)
        else:
            missing.append(repo_id)
    if missing:
        _download(missing, say, progress, cancel, installed_bytes)
    if ckpt is not None and ckpt.melody:
        htdemucs.download(say, progress, cancel)
        repos.append(htdemucs.HTDEMUCS_REPO)
    return repos


def check_checkpoint_folder(path: Path) -> None:
    """Refuse a folder that is not a checkpoint, or whose files need pickle code to load."""
    import torch

    from engines.music.safety import safe_checkpoint_loading
    from engines.safe_load import is_unsafe_pickle_error, prepare_imports

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
    """Import a checkpoint folder, or demucs' htdemucs file (``.th``) for the melody
    checkpoints (stored as ``demucs/htdemucs``; see :mod:`engines.music.melody`)."""
    path = Path(path).expanduser()
    if path.is_file() and htdemucs.is_demucs_file(path):
        if repo_id not in (None, htdemucs.HTDEMUCS_REPO):
            raise BadInput(f"demucs weights are always stored as {htdemucs.HTDEMUCS_REPO}.")
        return htdemucs.import_htdemucs(path)[0]
    if not path.is_dir():
        raise BadInput(f"{path} is not a folder. Choose the folder that holds the model files.")
    modelstore.model_files(path)  # refuse devices and odd links before torch opens anything
    check_checkpoint_folder(path)
    repo_id = repo_id or f"local/{path.resolve().name}"
    return modelstore.import_folder(path, repo_id)


def remove_model(name: str) -> str:
    ckpt = by_name(name)
    repo_id = ckpt.repo_id if ckpt else name
    if not modelstore.remove(repo_id):
        raise BadInput(f"{repo_id} is not installed; 'timbre models list' shows what is.")
    return repo_id
