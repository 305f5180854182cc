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

from engines.cancel import CancelToken, Progress, ProgressCallback, no_progress
from engines.speech.chatterbox_conds import CLONE_KIND, conditionals_to_bytes


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
    return "kokoro", (f"the nearest Piper or espeak-ng voice, or a Kokoro style search "
                      f"(Chatterbox cannot run: {reason})")


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
