"""One call from a voice name and settings to a finished take, shared by CLI and GUI.

Engines are built once per process and kept: loading Kokoro costs a second, and a studio
session speaks many lines.
"""

from __future__ import annotations

import threading
from typing import Any

from engines.cancel import CancelToken, ProgressCallback, no_progress
from engines.provenance import GeneratedTake
from engines.speech.request import DEFAULT_STABILITY, SpeechRequest
from engines.speech.voices import ResolvedVoice

_ENGINES: dict[str, Any] = {}
_LOCK = threading.Lock()


def engine(name: str, model: str | None = None):
    """The process-wide instance of a speech engine (built on first use); ``model`` picks
    one of the engine's models where it has several (Chatterbox: ``debug`` or a folder)."""
    from engines.registry import create

    key = name if model is None else f"{name}:{model}"
    with _LOCK:
        if key not in _ENGINES:
            _ENGINES[key] = create(name) if model is None else create(name, model=model)
        return _ENGINES[key]


def world_target(voice_name: str):
    """WORLD statistics of a library voice's reference (conversion toward it needs consent)."""
    from engines.speech.world_convert import voice_stats
    from engines.voices.library import open_library

    library = open_library()
    library.require_consent(voice_name)
    ref = library.reference_audio(voice_name).mono()
    return voice_stats(ref.samples[0], ref.sample_rate)


def speak(
    text: str,
    voice: ResolvedVoice,
    *,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    **settings: Any,
) -> GeneratedTake:
    """One take of ``text`` in ``voice``; ``settings`` are :func:`speech_request`'s. Like
    every job, on the cores other programs leave free (the speech server speaks while the
    user works in other apps)."""
    from engines.openmp import fitted_threads

    request = speech_request(text, voice, **settings)
    with fitted_threads():
        return engine(voice.engine).generate(request, progress, cancel)[0]


def speech_request(
    text: str,
    voice: ResolvedVoice,
    *,
    language: str | None = None,
    emotion: str = "neutral",
    stability: float = DEFAULT_STABILITY,
    rate: float = 1.0,
    pitch: float = 0.0,
    seed: int | None = None,
    world_toward: str | None = None,
) -> SpeechRequest:
    """The request a resolved voice and the user's settings make (consent checked for a
    conversion toward a library voice)."""
    request = SpeechRequest(text, emotion=emotion, stability=stability, rate=rate, pitch=pitch,
                            seed=seed)
    for key, value in voice.fields.items():
        setattr(request, key, value)
    if language:
        request.language = language
    if world_toward:
        request.convert_toward = world_target(world_toward)
        request.extra["world_toward"] = world_toward
    return request
