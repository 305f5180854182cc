"""Stand-in for spaCy: audiocraft imports it for a ``whitespace`` text tokenizer that no
released MusicGen or AudioGen checkpoint uses."""

from __future__ import annotations

from typing import Any

__version__ = "0+timbre.standin"


def load(name: str, *args: Any, **kwargs: Any) -> Any:
    raise RuntimeError(
        f"This model needs the spaCy language model '{name}' (audiocraft's 'whitespace' "
        "tokenizer), which Timbre does not ship; use a checkpoint with the T5 or noop tokenizer."
    )
