"""Chatterbox's weights through the model manager: download and import.

Resemble AI publishes three of the studio's Chatterbox engines in one hub repo
(``ResembleAI/chatterbox``: English and voice conversion as safetensors, Multilingual as
its own T3 plus ``.pt`` state dicts) and Turbo in another (``ResembleAI/chatterbox-turbo``).
The English repo also carries pickled ``.pt`` copies of the English networks, which the
studio never needs: each model below names the files it fetches, so a user downloading
English Chatterbox gets its 3 GB, not the repo's 9. Files are fetched resumably and
checked against the hub's SHA-256 (:mod:`engines.download`); before the store marks a
download installed the networks are opened as safetensors (never unpickled).

Two models sharing a repo share its installed snapshot: the second download asks the hub
for the revision already installed, so English and Multilingual end up side by side.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engines import modelstore
from engines.cancel import CancelToken, Progress, ProgressCallback, no_progress
from engines.download import hub_error, hub_files
from engines.errors import BadInput, EngineError
from engines.speech import chatterbox_engine as english
from engines.speech import chatterbox_multilingual as multilingual
from engines.speech import chatterbox_turbo as turbo

# GPT-2's tokenizer as Turbo's repo publishes it (read by transformers' AutoTokenizer)
TURBO_TOKENIZER = ("vocab.json", "merges.txt", "tokenizer_config.json",
                   "special_tokens_map.json", "added_tokens.json")
BUILT_IN_VOICE = "conds.pt"  # each model's default voice (opened weights-only by the package)


@dataclass(frozen=True)
class ChatterboxModel:
    """One downloadable Chatterbox model: what users type, its repo and its files."""

    name: str  # "chatterbox", "chatterbox-multilingual", "chatterbox-turbo"
    repo_id: str
    label: str
    download_gb: float  # approximate, for the list; the download says the exact size
    required: tuple[str, ...]  # without these the engine cannot load
    networks: dict[str, str]  # safetensors files and a key prefix each must hold
    optional: tuple[str, ...] = (BUILT_IN_VOICE,)  # fetched when the repo has them

    @property
    def files(self) -> tuple[str, ...]:
        return self.required + self.optional

    def installed(self) -> bool:
        return modelstore.is_installed(self.repo_id, self.required)


MODELS: tuple[ChatterboxModel, ...] = (
    ChatterboxModel("chatterbox", english.REPO_ID,
                    "Chatterbox (English zero-shot cloning, voice conversion)", 3.2,
                    english.REQUIRED, english.NETWORKS),
    ChatterboxModel("chatterbox-multilingual", english.REPO_ID,
                    "Chatterbox Multilingual (23 languages, zero-shot cloning)", 3.2,
                    multilingual.REQUIRED, multilingual.NETWORKS,
                    (BUILT_IN_VOICE, multilingual.CANGJIE_FILE)),
    ChatterboxModel("chatterbox-turbo", turbo.REPO_ID,
                    "Chatterbox Turbo (fast English, zero-shot cloning)", 2.5,
                    turbo.REQUIRED, turbo.NETWORKS, (BUILT_IN_VOICE, *TURBO_TOKENIZER)),
)


def by_name(name: str) -> ChatterboxModel | None:
    """A model by the name users type; the English repo id means English Chatterbox."""
    for model in MODELS:
        if name == model.name:
            return model
    return MODELS[0] if name == english.REPO_ID else MODELS[2] if name == turbo.REPO_ID else None


def status(model: ChatterboxModel) -> str:
    return "installed" if model.installed() else "not installed"


def _installed_revision(repo_id: str) -> str | None:
    snap = modelstore.snapshot_path(repo_id)
    return snap.name if snap is not None else None


def download(
    name: str,
    say: Callable[[str], None] = print,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> list[str]:
    """Fetch one model's files (resumable, checked) and install them; returns the repo id."""
    import huggingface_hub

    from engines.download import TIMEOUT_S, endpoint, fetch_repo

    model = by_name(name)
    if model is None:
        raise BadInput(f"'{name}' is not a Chatterbox model; see 'timbre models list'.")
    if model.installed():
        say(f"{model.name} is already installed")
        return [model.repo_id]
    # Files of the repo's other models that are installed stay in the snapshot.
    wanted = set(model.files).union(*(m.files for m in MODELS if m.repo_id == model.repo_id
                                      and m is not model and m.installed()))
    pinned = _installed_revision(model.repo_id)
    modelstore.configure_hub_env(allow_download=True)
    try:
        api = huggingface_hub.HfApi(endpoint=endpoint())
        try:
            info = api.model_info(model.repo_id, revision=pinned, files_metadata=True, timeout=TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - the pinned revision may be gone: take the newest
            if pinned is None or not isinstance(hub_error(exc, model.repo_id), BadInput):
                raise
            info = api.model_info(model.repo_id, files_metadata=True, timeout=TIMEOUT_S)
        files = hub_files(info.siblings, lambda name: name in wanted)
        lacking = sorted(set(model.required) - {f.name for f in files})
        if lacking:
            raise EngineError(
                f"{model.repo_id} on the hub no longer has {', '.join(lacking)}, which "
                f"{model.label} needs; the studio cannot install it from there."
            )
        total = sum(f.size for f in files)
        say(f"downloading {model.repo_id} for {model.name} ({total / 1e9:.2f} GB)")

        def on_bytes(n: int) -> None:
            if cancel is not None:
                cancel.check()  # the partial file stays: the next download resumes it
            progress(Progress(n, total, model.repo_id))

        snap = fetch_repo(model.repo_id, str(info.sha), files, on_bytes)
    except Exception as exc:  # noqa: BLE001 - httpx, OSError, hub errors: see hub_error
        raise hub_error(exc, model.repo_id, "import its folder with 'timbre models import PATH'") from exc
    finally:
        modelstore.configure_hub_env(allow_download=False)
    english.verify_checkpoint(snap, model.required, model.networks)
    return [model.repo_id]


def models_in(folder: Path) -> list[ChatterboxModel]:
    """The Chatterbox models whose required files are all in ``folder``."""
    return [m for m in MODELS if all((folder / f).is_file() for f in m.required)]


def import_folder(folder: Path) -> modelstore.InstalledModel:
    """Import a downloaded Chatterbox folder (English, Multilingual or Turbo) into the store
    under its hub id, after checking every network it holds opens as safetensors."""
    found = models_in(folder)
    if not found:
        raise BadInput(f"{folder} is not a Chatterbox model folder: it lacks its weights "
                       f"({', '.join(MODELS[0].required)}, or Turbo's or Multilingual's).")
    repos = {m.repo_id for m in found}
    if len(repos) > 1:
        raise BadInput(f"{folder} mixes Chatterbox Turbo's files with the other models'; "
                       "import each model's folder on its own.")
    for model in found:
        english.verify_checkpoint(folder, model.required, model.networks)
    return modelstore.import_folder(folder, repos.pop())
