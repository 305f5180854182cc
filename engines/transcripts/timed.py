"""A transcript as plain data: words with their times (seconds)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Word:
    """One word as said: ``text`` as Whisper wrote it (punctuation kept), times in seconds."""

    text: str
    start: float
    end: float
    probability: float = 1.0
    segment: int = 0  # which of Whisper's segments (a sentence or so) it belongs to


@dataclass
class Transcript:
    words: list[Word] = field(default_factory=list)
    language: str = ""
    duration: float = 0.0
    model: str = "base"

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)
