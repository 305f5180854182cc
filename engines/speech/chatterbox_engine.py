"""Chatterbox (Resemble AI, MIT): neural zero-shot cloning from a few seconds of reference.

Neither its weights nor a torch-compatible build of its package ship with the studio:
the user installs the weights through the model manager (``ResembleAI/chatterbox`` in the
model store) and the ``chatterbox-tts`` package. Until both are there the engine is listed
as unavailable with the reason. Before anything is handed to torch the checkpoint folder
is checked: the three networks must be safetensors files (read without executing code),
and the one pickle file, the built-in voice ``conds.pt``, is only ever opened with
``torch.load(weights_only=True)`` by the package.

Emotion maps onto Chatterbox's own *exaggeration* control, stability onto its sampling
temperature; rate and pitch go through the shared post-process like every engine.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from engines.errors import BadInput, ModelMissing
from engines.speech.pipeline import SpeechEngine
from engines.speech.request import SpeechRequest

REPO_ID = "ResembleAI/chatterbox"
NETWORKS = {  # file: a key prefix every real checkpoint of that network has
    "ve.safetensors": "lstm.",
    "t3_cfg.safetensors": "tfmr.",
    "s3gen.safetensors": "flow.",
}
REQUIRED = (*NETWORKS, "tokenizer.json")
SAMPLE_RATE = 24_000
EXAGGERATION = {"neutral": 0.5, "calm": 0.3, "sad": 0.35, "happy": 0.7, "excited": 0.9}


def unavailable_reason() -> str | None:
    """Why Chatterbox cannot run here (cheap: package metadata and the model store)."""
    from engines import modelstore

    if not modelstore.is_installed(REPO_ID, REQUIRED):
        return (
            f"weights not installed — download {REPO_ID} in the model manager "
            f"(timbre models download {REPO_ID}) or import its folder"
        )
    if importlib.util.find_spec("chatterbox") is None:
        return "the chatterbox-tts package is not installed (pip install chatterbox-tts --no-deps)"
    return None


def verify_checkpoint(folder: Path) -> None:
    """Refuse a folder that is not a Chatterbox checkpoint, before torch sees any of it."""
    from safetensors import SafetensorError, safe_open

    missing = [name for name in REQUIRED if not (folder / name).is_file()]
    if missing:
        raise ModelMissing(
            f"The Chatterbox weights in {folder} lack {', '.join(missing)}; "
            f"download {REPO_ID} again in the model manager."
        )
    for name, prefix in NETWORKS.items():
        try:
            with safe_open(str(folder / name), framework="numpy") as handle:
                keys = list(handle.keys())
        except (SafetensorError, OSError, ValueError) as exc:
            raise BadInput(
                f"{name} in {folder} is not a safetensors file ({exc}); Chatterbox weights are "
                f"loaded only from safetensors. Download {REPO_ID} again."
            ) from exc
        if not any(k.startswith(prefix) for k in keys):
            raise BadInput(
                f"{name} in {folder} does not hold Chatterbox's network (no '{prefix}*' "
                f"weights); download {REPO_ID} again."
            )


class ChatterboxEngine(SpeechEngine):
    name = "chatterbox"
    label = "Chatterbox (zero-shot cloning)"
    model_id = REPO_ID
    sample_rate = SAMPLE_RATE
    default_voice = "builtin"

    def __init__(self) -> None:
        super().__init__()
        self._model = None
        self._folder: Path | None = None
        self._conditioned_on: int | None = None

    def _load(self) -> None:
        from engines import modelstore

        modelstore.configure_hub_env()
        folder = modelstore.require(REPO_ID, "Chatterbox", REQUIRED)
        verify_checkpoint(folder)
        if importlib.util.find_spec("chatterbox") is None:
            raise ModelMissing(unavailable_reason() or "chatterbox-tts is not installed.")
        from chatterbox.tts import ChatterboxTTS

        from engines.devices import choose_device

        self._model = ChatterboxTTS.from_local(folder, choose_device())
        self._folder = folder
        self.sample_rate = int(self._model.sr)

    def unload(self) -> None:
        self._model = None
        self._conditioned_on = None
        super().unload()

    def voices(self) -> list[str]:
        return ["builtin"]

    def model_version(self) -> str:
        return self._folder.name if self._folder else ""

    def _condition(self, request: SpeechRequest) -> None:
        """Condition the model on the reference voice (once per reference)."""
        if request.reference is None:
            if self._model.conds is None:
                raise BadInput("Chatterbox needs a reference voice: speak with --voice NAME.")
            return
        if self._conditioned_on == id(request.reference):
            return
        import tempfile

        from engines.audio_io import write_audio

        with tempfile.TemporaryDirectory(prefix="timbre-chatterbox-") as tmp:
            path = Path(tmp) / "reference.wav"
            write_audio(path, request.reference.mono())
            self._model.prepare_conditionals(
                str(path), exaggeration=EXAGGERATION.get(request.emotion, 0.5)
            )
        self._conditioned_on = id(request.reference)

    def _synth(self, text: str, request: SpeechRequest) -> np.ndarray:
        import torch

        self._condition(request)
        if request.seed is not None:
            torch.manual_seed(request.seed)
        wav = self._model.generate(
            text,
            exaggeration=EXAGGERATION.get(request.emotion, 0.5),
            temperature=0.5 + 0.6 * (1.0 - request.stability),
        )
        return np.asarray(wav.squeeze(0).cpu().numpy(), np.float32)
