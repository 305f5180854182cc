"""How many autoregressive steps a generation takes, window by window.

Beyond ``max_duration`` audiocraft generates in overlapping windows, and the counts its
progress callback reports restart (and can go backwards) in each window. To show one
honest overall progress, the same window schedule audiocraft follows
(``MusicGen._generate_tokens``: windows start every ``extend_stride`` seconds, each one
re-using the previous window's tail as its prompt) is computed here up front, and each
window's step count is read from the LM's own codebook pattern, so callbacks can simply be
counted against the total.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Window:
    prompt_tokens: int  # tokens given to this window as prompt
    gen_tokens: int  # total tokens this window ends with (prompt included)
    steps: int  # autoregressive steps (progress callbacks) it takes


def plan_windows(
    lm: Any,
    frame_rate: float,
    duration: float,
    max_duration: float,
    extend_stride: float,
    prompt_tokens: int = 0,
) -> list[Window]:
    """The windows ``generate`` will run for ``duration`` seconds (prompt included)."""
    total = int(duration * frame_rate)
    spans: list[tuple[int, int]] = []
    if duration <= max_duration:
        spans.append((prompt_tokens, total))
    else:
        stride = int(frame_rate * extend_stride)
        offset, prompt = 0, prompt_tokens
        while offset + prompt < total:
            chunk = min(duration - offset / frame_rate, max_duration)
            gen = int(chunk * frame_rate)
            spans.append((prompt, gen))
            prompt = max(0, gen - stride)  # audiocraft keeps gen_tokens[..., stride:]
            offset += stride
    windows = []
    for prompt, gen in spans:
        pattern = lm.pattern_provider.get_pattern(gen)
        first = pattern.get_first_step_with_timesteps(prompt)
        windows.append(Window(prompt, gen, len(pattern.layout) - first))
    return windows


def total_steps(windows: list[Window]) -> int:
    return sum(w.steps for w in windows)
