"""A whole engine plug-in in one file, as a third party would ship it (used by tests)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engines.audio import AudioClip
from engines.base import EngineSpec
from engines.cancel import Progress
from engines.provenance import GeneratedTake, Provenance


@dataclass
class ToneRequest:
    text: str = "tone"
    pitch_hz: float = field(default=440.0, metadata={"min": 50.0, "max": 2000.0,
                                                       "help": "Pitch of the tone in Hz."})
    seconds: float = 0.5
    shape: str = field(default="sine", metadata={"choices": ["sine", "square"]})


class ToneEngine:
    name = "tone-plugin"
    request_type = ToneRequest

    def __init__(self, device: str | None = None) -> None:
        self.loaded = False

    def load(self, progress, cancel=None) -> None:
        self.loaded = True

    def unload(self) -> None:
        self.loaded = False

    def generate(self, request: ToneRequest, progress, cancel=None):
        t = np.arange(int(request.seconds * 16_000)) / 16_000
        wave = np.sin(2 * np.pi * request.pitch_hz * t)
        if request.shape == "square":
            wave = np.sign(wave)
        progress(Progress(1, 1, "toning"))
        clip = AudioClip((0.2 * wave)[None].astype(np.float32), 16_000)
        return [GeneratedTake(clip, Provenance(self.name, prompt=request.text,
                                               params={"pitch_hz": request.pitch_hz}))]


SPEC = EngineSpec("tone-plugin", "Tone (plug-in)", "sfx", "timbre_tone_plugin:ToneEngine")
