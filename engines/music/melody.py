"""The melody checkpoints' need for demucs' ``htdemucs`` (weights: :mod:`engines.htdemucs`).

audiocraft's ``ChromaStemConditioner`` (the ``self_wav`` conditioner of musicgen-melody,
-melody-large and their stereo versions) strips drums and bass from the melody with demucs
before taking its chroma, and it builds that separator in its constructor with
``demucs.pretrained.get_model('htdemucs')`` — so *loading* a melody checkpoint needs
demucs' weights, whether or not a melody is given. Nothing is ever downloaded here: a load
without the file stops before demucs is asked, and while it loads, ``torch.hub``'s own
``weights_only=False`` is overridden (:func:`demucs_loading`) so the same weights-only
allow-list as :func:`engines.htdemucs.load_htdemucs` applies.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from engines.errors import ModelMissing
from engines.htdemucs import find_hub_dir, import_hint, missing_packages, safe_globals

MELODY_STEMS = ("vocals", "other")  # what ChromaStemConditioner keeps


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


@contextlib.contextmanager
def demucs_loading(hub_dir: Path) -> Iterator[None]:
    """While a melody model loads: demucs reads htdemucs from ``hub_dir``, weights-only.

    ``torch.hub.load_state_dict_from_url`` passes ``weights_only=False``;
    ``TORCH_FORCE_WEIGHTS_ONLY_LOAD`` is the switch torch gives to override that from
    outside, and it is restored afterwards. Callers hold the hub lock of
    :mod:`engines.music.loading` (the hub folder and that switch are process-wide).
    """
    from engines.safe_load import allowing, prepare_imports

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


def raised_by_demucs(exc: BaseException) -> bool:
    """Whether ``exc`` came out of demucs' own code (its model loading)."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    return any(f"{os.sep}demucs{os.sep}" in frame.filename for frame in frames)
