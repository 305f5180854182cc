"""The two names audiocraft's torch attention path uses, plus a clear refusal for the rest."""

from __future__ import annotations

from typing import Any


def unbind(x: Any, dim: int) -> tuple[Any, ...]:
    """xformers' ``unbind`` is ``torch.unbind`` with a gradient-friendly backward."""
    import torch

    return torch.unbind(x, dim)


class LowerTriangularMask:
    """Marker for a causal mask; audiocraft's torch backend only tests that one is given."""


def memory_efficient_attention(*args: Any, **kwargs: Any) -> Any:
    """Imported by audiocraft to verify xformers is present; called only by its xformers
    attention backend, which this project never selects."""
    raise RuntimeError(
        "xformers attention is not available in Timbre; audiocraft must use its 'torch' "
        "attention backend (set_efficient_attention_backend('torch'))."
    )
