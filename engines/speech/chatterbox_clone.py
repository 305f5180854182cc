"""``timbre voice clone`` with zero-shot Chatterbox, or the Kokoro style search without it.

Chatterbox clones from a reference in one pass (seconds): the library voice's reference is
run through the package's ``prepare_conditionals`` and its conditionals (speaker
embedding, prompt speech tokens, S3Gen's prompt features) are stored as the voice's
``chatterbox`` clone, so speaking with the voice later skips that pass. They are stored as
safetensors bytes (tensors only: read back without running any code). When Chatterbox's
weights are not installed the Kokoro style search (:mod:`engines.speech.clone`) runs as
before; :func:`choose_method` says which, and why, in one line.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from engines.cancel import CancelToken, Progress, ProgressCallback, no_progress
from engines.errors import BadInput

CLONE_KIND = "chatterbox"
_SKIP = ("cond_prompt_speech_emb",)  # T3 derives it from the tokens on first use


@dataclass
class ZeroShotClone:
    model_id: str
    reference_s: float
    seconds: float


def choose_method() -> tuple[str, str]:
    """``("chatterbox" | "kokoro", why)``: zero-shot Chatterbox when it can run here."""
    from engines.speech.chatterbox_engine import REPO_ID, unavailable_reason

    reason = unavailable_reason()
    if reason is None:
        return "chatterbox", f"zero-shot Chatterbox ({REPO_ID} is installed)"
    return "kokoro", f"Kokoro style search (Chatterbox cannot run: {reason})"


def conditionals_to_bytes(conds: Any, model_id: str = "") -> bytes:
    """A package ``Conditionals`` as safetensors bytes (``t3.*`` and ``gen.*`` tensors),
    with the id of the model that made them in the header's metadata."""
    import torch
    from safetensors.torch import save

    tensors = {f"t3.{k}": v for k, v in vars(conds.t3).items()
               if torch.is_tensor(v) and k not in _SKIP}
    tensors.update({f"gen.{k}": v for k, v in conds.gen.items() if torch.is_tensor(v)})
    return save({k: v.detach().cpu().contiguous() for k, v in tensors.items()},
                metadata={"model_id": model_id})


def conditionals_model(data: bytes) -> str:
    """The model id stored conditionals were made with ("" if unknown or unreadable): a
    safetensors header is 8 bytes of length, then JSON."""
    import json
    import struct

    try:
        (length,) = struct.unpack("<Q", bytes(data[:8]))
        header = json.loads(bytes(data[8 : 8 + min(length, 1 << 20)]))
        return str(header.get("__metadata__", {}).get("model_id", ""))
    except (struct.error, ValueError, AttributeError):
        return ""


def conditionals_from_bytes(data: bytes, device: Any = "cpu") -> Any:
    """The package's ``Conditionals`` from :func:`conditionals_to_bytes` (or BadInput)."""
    from chatterbox.models.t3.modules.cond_enc import T3Cond
    from chatterbox.tts import Conditionals
    from safetensors import SafetensorError
    from safetensors.torch import load

    try:
        tensors = load(bytes(data))
        t3 = {k[3:]: v for k, v in tensors.items() if k.startswith("t3.")}
        gen = {"prompt_feat_len": None,  # S3Gen's embed_ref leaves it None
               **{k[4:]: v for k, v in tensors.items() if k.startswith("gen.")}}
        conds = Conditionals(T3Cond(**t3), gen)
    except (SafetensorError, TypeError, ValueError) as exc:
        raise BadInput(
            f"A stored Chatterbox clone is damaged ({exc}); make it again with timbre voice clone."
        ) from exc
    return conds.to(device)


def clone_zero_shot(
    name: str,
    model: str | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> ZeroShotClone:
    """Condition Chatterbox on the library voice's reference and store the conditionals
    as its ``chatterbox`` clone (needs the voice's consent)."""
    from engines.speech.service import engine
    from engines.voices.library import open_library

    library = open_library()
    voice = library.require_consent(name)
    reference = library.reference_audio(voice.name)
    chatterbox = engine("chatterbox", model)
    progress(Progress(0, 1, "loading Chatterbox"))
    chatterbox.load(progress, cancel)
    if cancel is not None:
        cancel.check()
    started = time.perf_counter()
    conds = chatterbox.conditionals_for(reference)
    seconds = time.perf_counter() - started
    meta = {"method": "zero-shot Chatterbox conditionals (prepare_conditionals)",
            "model_id": chatterbox.model_id, "reference_s": round(reference.duration, 2),
            "seconds": round(seconds, 2)}
    library.set_clone(voice.name, CLONE_KIND, conditionals_to_bytes(conds, chatterbox.model_id), meta)
    progress(Progress(1, 1, "cloned"))
    return ZeroShotClone(chatterbox.model_id, reference.duration, seconds)
