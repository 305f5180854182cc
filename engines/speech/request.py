"""What a user asks a speech engine for."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_STABILITY = 0.5


@dataclass
class SpeechRequest:
    """One text to speak, with its voice and delivery.

    ``voice`` is the engine's own voice id (Piper: "joe" or an imported ``.onnx`` path;
    Kokoro: a shipped style name; espeak: an espeak-ng voice like "en-us+f3"); library
    voices are resolved to these by :mod:`engines.speech.voices`. ``style`` carries a
    Kokoro style table (510×256) for cloned voices, ``reference`` a reference recording
    for engines that clone from audio (Chatterbox).
    """

    text: str
    voice: str | None = None
    language: str = "en-us"
    emotion: str = "neutral"
    stability: float = DEFAULT_STABILITY  # 0 lively and varied … 1 steady and flat
    rate: float = 1.0  # 0.5–2.0, 2.0 = half the duration
    pitch: float = 0.0  # semitones, −12…+12
    voice_pitch: float = 0.0  # semitones the voice itself adds (a clone's fitted pitch)
    seed: int | None = None
    style: Any = None  # numpy (510, 256) Kokoro style table
    reference: Any = None  # engines.audio.AudioClip of the voice to clone from
    convert_toward: Any = None  # engines.speech.world_convert.VoiceStats: WORLD post-process
    conditionals: bytes | None = None  # a zero-shot Chatterbox clone's stored conditionals
    voice_label: str | None = None  # the library voice's name, for provenance
    consent: dict[str, Any] | None = None  # the library voice's consent record, for provenance
    extra: dict[str, Any] = field(default_factory=dict)

    def params(self) -> dict[str, Any]:
        """The request as provenance parameters (enough to make the take again)."""
        return {
            "voice": self.voice,
            "language": self.language,
            "emotion": self.emotion,
            "stability": self.stability,
            "rate": self.rate,
            "pitch": self.pitch,
            "seed": self.seed,
            **({"library_voice": self.voice_label} if self.voice_label else {}),
            **self.extra,
        }
