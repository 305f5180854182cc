"""Stem separation as an engine (registry name ``demucs``): one take per stem, so the
studio and ``timbre stems`` run it through the one job path (``desktop.session.run_job``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engines.audio import AudioClip
from engines.cancel import CancelToken, ProgressCallback, no_progress
from engines.provenance import GeneratedTake, Provenance
from engines.stems.separate import SOURCES, Separator, load_separator, separate


@dataclass
class StemRequest:
    audio: AudioClip | None = field(default=None, metadata={
        "label": "Audio", "help": "The audio to separate (a file, or the selected clip)."})
    two_stems: str | None = field(default=None, metadata={
        "label": "Two stems", "choices": list(SOURCES),
        "help": "Keep one stem and everything else (vocals: dialogue isolation), or all four."})
    source: str = field(default="", metadata={"hidden": True})  # what was separated, for names

    def validate(self) -> None:
        from engines.errors import BadInput

        if self.audio is None or self.audio.frames == 0:
            raise BadInput("Choose audio to separate.")


class StemEngine:
    """htdemucs (or the tiny ``debug`` model) loaded once, separating on request."""

    name = "demucs"
    request_type = StemRequest

    def __init__(self, model: str | None = None, device: str | None = None, **_: Any) -> None:
        self.model = model
        self.device_wish = device  # resolved on load: the user's Device setting, as MusicGen
        self.separator: Separator | None = None

    @property
    def loaded(self) -> bool:
        return self.separator is not None

    def load(self, progress: ProgressCallback = no_progress, cancel: CancelToken | None = None) -> None:
        if self.separator is None:
            from engines.devices import choose_device

            self.separator = load_separator(self.model, choose_device(self.device_wish))

    def unload(self) -> None:
        self.separator = None

    def generate(self, request: StemRequest, progress: ProgressCallback = no_progress,
                 cancel: CancelToken | None = None) -> list[GeneratedTake]:
        from engines.licences import licence_for

        request.validate()
        self.load(progress, cancel)
        assert self.separator is not None and request.audio is not None
        sep = self.separator
        stems = separate(request.audio, sep, request.two_stems, progress, cancel)
        return [
            GeneratedTake(clip, Provenance(
                engine=self.name, model_id=sep.model_id, model_version=sep.sha256[:16],
                prompt=request.source, device=sep.device,
                params={"stem": name, "two_stems": request.two_stems},
                licence=licence_for(self.name, "demucs/htdemucs" if sep.model_id == "htdemucs"
                                    else sep.model_id)))
            for name, clip in stems.items()
        ]

