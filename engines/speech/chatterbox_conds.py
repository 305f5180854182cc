"""A voice's zero-shot Chatterbox clone as stored bytes: the package's ``Conditionals``
(speaker embedding, prompt speech tokens, S3Gen's prompt features) as safetensors, tensors
only, so reading one back runs no code.

Apart from :mod:`engines.speech.chatterbox_clone` (which makes them) because the engine reads
them when it speaks, and the clone itself uses the engine.
"""

from __future__ import annotations

from typing import Any

from engines.errors import BadInput

CLONE_KIND = "chatterbox"  # the voice library's clone kind for these bytes
_SKIP = ("cond_prompt_speech_emb",)  # T3 derives it from the tokens on first use


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
