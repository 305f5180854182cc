"""Base checkpoints a banked voice is fine-tuned from.

A base is a Lightning ``.ckpt`` in the layout the published Piper checkpoints use
(``state_dict`` with ``model_g.*``/``model_d.*``, ``hyper_parameters``, ``epoch``,
``global_step``, ``pytorch-lightning_version``). It is always read with
``torch.load(weights_only=True)`` (plain paths allowed, nothing that runs code), never
through piper's ``warmstart_ckpt``/``load_from_checkpoint``, which unpickle freely.

- ``debug``: a tiny random-weight model built from ``piper.train``'s own ``VitsModel`` and
  saved in that layout, made on first use (its speech is noise: it tests the plumbing);
- published checkpoints (:data:`BASES`): downloaded into the model store through
  :mod:`engines.download` (progress, resume, checksum) — one ``.ckpt`` from the voice's
  folder of ``rhasspy/piper-checkpoints``;
- ``auto``: the installed base for the bank's language, preferring the first in
  :data:`BASES` order.
"""

from __future__ import annotations

import inspect
import pathlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engines import modelstore
from engines.cancel import CancelToken, Progress, ProgressCallback, no_progress
from engines.errors import BadInput, EngineError, ModelMissing

DEBUG = "debug"
AUTO = "auto"
CHECKPOINTS_REPO = "rhasspy/piper-checkpoints"
DEBUG_REPO = "timbre/piper-train-debug"
DEBUG_FILE = "debug.ckpt"
DEBUG_BUILD = "2"  # bump when the tiny model changes

# Small enough that a training step takes about a second on one CPU core, with every
# module of the real model (stochastic duration predictor, flow, HiFi-GAN decoder).
DEBUG_HPARAMS: dict[str, Any] = {
    "num_symbols": 256,
    "num_speakers": 1,
    "sample_rate": 22050,
    "resblock": "2",
    "resblock_kernel_sizes": (3,),
    "resblock_dilation_sizes": ((1, 2),),
    "upsample_rates": (8, 8, 4),
    "upsample_initial_channel": 32,
    "upsample_kernel_sizes": (16, 16, 8),
    "inter_channels": 16,
    "hidden_channels": 16,
    "filter_channels": 32,
    "n_heads": 2,
    "n_layers": 1,
    "use_sdp": True,
    "segment_size": 2048,
}

# Hyperparameters never taken from a checkpoint: paths to other checkpoints (piper would
# unpickle them), the training set of the base, the MOS predictor (it downloads).
_NOT_FROM_BASE = {"dataset", "warmstart_ckpt", "vocoder_warmstart_ckpt", "mos_metric"}


@dataclass(frozen=True)
class BaseVoice:
    name: str  # e.g. en_US-lessac-medium
    folder: str  # its folder in rhasspy/piper-checkpoints
    espeak_voice: str  # the language piper phonemizes with

    @property
    def language(self) -> str:
        return self.espeak_voice.split("-")[0]


BASES: tuple[BaseVoice, ...] = (
    BaseVoice("en_US-lessac-medium", "en/en_US/lessac/medium", "en-us"),
    BaseVoice("en_US-ryan-medium", "en/en_US/ryan/medium", "en-us"),
    BaseVoice("en_US-amy-medium", "en/en_US/amy/medium", "en-us"),
    BaseVoice("en_GB-alan-medium", "en/en_GB/alan/medium", "en-gb"),
    BaseVoice("de_DE-thorsten-medium", "de/de_DE/thorsten/medium", "de"),
    BaseVoice("fr_FR-siwis-medium", "fr/fr_FR/siwis/medium", "fr"),
    BaseVoice("es_ES-davefx-medium", "es/es_ES/davefx/medium", "es"),
    BaseVoice("nl_NL-mls-medium", "nl/nl_NL/mls/medium", "nl"),
)


def repo_for(base: BaseVoice) -> str:
    """Each base is stored as its own model in the store (one checkpoint, not the repo)."""
    return f"{CHECKPOINTS_REPO}-{base.name}"


def by_name(name: str) -> BaseVoice:
    for base in BASES:
        if base.name == name:
            return base
    known = ", ".join(b.name for b in BASES)
    raise BadInput(f"'{name}' is not a base voice; use auto, debug or one of: {known}.")


def installed_checkpoint(base: BaseVoice) -> Path | None:
    snap = modelstore.snapshot_path(repo_for(base))
    if snap is None:
        return None
    found = sorted(snap.glob("*.ckpt"))
    return found[0] if found else None


def _tiny_model():
    from engines.banking.training.align import install

    install()
    import torch
    from piper.train.vits.lightning import VitsModel

    torch.manual_seed(1234)
    return VitsModel(**DEBUG_HPARAMS, mos_metric=None)


def released_layout(model, epoch: int = 0, global_step: int = 0) -> dict[str, Any]:
    """A checkpoint dict as the published ``.ckpt`` files hold it (weights and plain
    hyperparameters only, so ``weights_only`` loading reads it)."""
    import lightning

    hparams = {k: v for k, v in dict(model.hparams).items() if k not in _NOT_FROM_BASE}
    return {
        "epoch": epoch,
        "global_step": global_step,
        "pytorch-lightning_version": lightning.__version__,
        "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "hyper_parameters": hparams,
        "optimizer_states": [],
        "lr_schedulers": [],
    }


def debug_checkpoint() -> Path:
    """The tiny random-weight base, built once into the model store."""
    snap = modelstore.snapshot_path(DEBUG_REPO)
    if snap is not None and snap.name == f"build-{DEBUG_BUILD}" and (snap / DEBUG_FILE).is_file():
        return snap / DEBUG_FILE
    import tempfile

    import torch

    with tempfile.TemporaryDirectory(prefix="timbre-piper-debug-") as tmp:
        torch.save(released_layout(_tiny_model()), Path(tmp) / DEBUG_FILE)
        installed = modelstore.import_folder(Path(tmp), DEBUG_REPO, revision=f"build-{DEBUG_BUILD}")
    return installed.path / DEBUG_FILE


def load_checkpoint(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(hyper_parameters, state_dict)`` of a Lightning checkpoint, read weights-only."""
    import torch

    safe = [pathlib.PosixPath, pathlib.PurePosixPath, pathlib.WindowsPath, pathlib.PureWindowsPath]
    try:
        with torch.serialization.safe_globals(safe):
            data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - pickle refusals, truncated files, not-a-zip
        raise BadInput(
            f"{path.name} cannot be read as a weights-only Piper checkpoint ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:160]}). Use a published Piper .ckpt or --base debug."
        ) from exc
    if not isinstance(data, dict) or "state_dict" not in data:
        raise BadInput(f"{path.name} is not a Lightning checkpoint (no state_dict).")
    if not any(k.startswith("model_g.") for k in data["state_dict"]):
        raise BadInput(f"{path.name} is not a Piper VITS checkpoint (no model_g weights).")
    return dict(data.get("hyper_parameters") or {}), data["state_dict"]


def model_from_checkpoint(path: Path, **overrides: Any):
    """piper's ``VitsModel`` with the base's architecture and weights (weights-only)."""
    from engines.banking.training.align import install

    install()
    from piper.train.vits.lightning import VitsModel

    hparams, state = load_checkpoint(path)
    accepted = set(inspect.signature(VitsModel.__init__).parameters)
    kwargs = {k: v for k, v in hparams.items() if k in accepted and k not in _NOT_FROM_BASE}
    kwargs.update(overrides)
    kwargs["mos_metric"] = None  # UTMOS comes from torch.hub: never downloaded here
    model = VitsModel(**kwargs)
    missing, _unexpected = model.load_state_dict(state, strict=False)
    lost = [k for k in missing if k.startswith("model_g.")]
    if lost:
        raise BadInput(
            f"{path.name} does not fit piper's VITS model ({len(lost)} generator weights "
            f"missing, e.g. {lost[0]}); it is not a Piper checkpoint this trainer can fine-tune."
        )
    return model


def resolve(
    name: str,
    espeak_voice: str,
    download: bool = True,
    say: Callable[[str], None] = print,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> tuple[str, Path]:
    """``(base name, checkpoint path)`` for ``--base NAME|auto|debug``."""
    if name == DEBUG:
        return DEBUG, debug_checkpoint()
    if Path(name).suffix == ".ckpt" and Path(name).is_file():
        return Path(name).stem, Path(name)
    if name == AUTO:
        lang = espeak_voice.split("-")[0]
        same = [b for b in BASES if b.espeak_voice == espeak_voice] + [
            b for b in BASES if b.language == lang and b.espeak_voice != espeak_voice
        ]
        if not same:
            raise BadInput(
                f"There is no published base voice for '{espeak_voice}' yet; choose one with "
                f"--base ({', '.join(b.name for b in BASES)}) or a .ckpt file."
            )
        for base in same:
            path = installed_checkpoint(base)
            if path is not None:
                return base.name, path
        base = same[0]
    else:
        base = by_name(name)
    path = installed_checkpoint(base)
    if path is not None:
        return base.name, path
    if not download:
        raise ModelMissing(
            f"Base voice {base.name} is not installed; run timbre bank train with --base "
            f"{base.name} while online (it downloads once, resumably), or use --base debug."
        )
    return base.name, download_base(base, say, progress, cancel)


def download_base(
    base: BaseVoice,
    say: Callable[[str], None] = print,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> Path:
    """Fetch the base's ``.ckpt`` (resumable, checksum-verified) into the model store."""
    import huggingface_hub

    from engines.download import endpoint, fetch_repo, hub_error, hub_files

    modelstore.configure_hub_env(allow_download=True)
    try:
        try:
            api = huggingface_hub.HfApi(endpoint=endpoint())
            info = api.model_info(CHECKPOINTS_REPO, files_metadata=True, timeout=10.0)
        except Exception as exc:  # noqa: BLE001 - no network, DNS, hub errors
            raise hub_error(exc, f"base voice {base.name} ({CHECKPOINTS_REPO})", "use --base debug") from exc
        ckpts = hub_files(
            info.siblings, lambda name: name.startswith(base.folder + "/") and name.endswith(".ckpt")
        )
        if not ckpts:
            raise EngineError(f"{CHECKPOINTS_REPO} has no checkpoint for {base.name} any more.")
        file = ckpts[-1]  # sorted by name: the newest epoch
        say(f"downloading base voice {base.name} ({file.size / 1e6:.0f} MB)")

        def on_bytes(n: int) -> None:
            if cancel is not None:
                cancel.check()
            progress(Progress(n, file.size, f"downloading {base.name}"))

        # fetch_repo resumes and verifies into the (huge) repo's folder; the one checkpoint
        # is then kept as its own model, so several bases can be installed side by side.
        snap = fetch_repo(CHECKPOINTS_REPO, str(info.sha), [file], on_bytes)
        source = snap / file.name
        installed = modelstore.import_folder(source.parent, repo_for(base), revision=str(info.sha))
        modelstore.remove(CHECKPOINTS_REPO)
        return installed.path / Path(file.name).name
    finally:
        modelstore.configure_hub_env(allow_download=False)
