"""Every built-in engine, each with a cheap availability check: one line per engine.

Only names, labels and import paths live here; the engine code itself (and torch) is
imported when the engine is created. ``engines.registry`` reads ``CATALOG`` on first use;
an engine from outside registers itself with ``engines.registry.register``.
"""

from __future__ import annotations

from engines.base import EngineSpec

CATALOG: list[EngineSpec] = []
_ENTRY = CATALOG.append

# --- speech (issue 5): checks import only the small engines.speech modules, never onnxruntime.


def _speech_check(module: str):
    def check() -> str | None:
        import importlib

        return importlib.import_module(f"engines.speech.{module}").unavailable_reason()

    return check


_ENTRY(EngineSpec("piper", "Piper (joe, imported voices)", "speech",
                    "engines.speech.piper_engine:PiperEngine", check=_speech_check("piper_engine")))
_ENTRY(EngineSpec("kokoro", "Kokoro-82M (style voices, clones)", "speech",
                    "engines.speech.kokoro_engine:KokoroEngine", check=_speech_check("kokoro_assets")))
_ENTRY(EngineSpec("espeak", "espeak-ng (many languages)", "speech",
                    "engines.speech.espeak_engine:EspeakEngine", check=_speech_check("espeak_engine")))

# --- music and sound effects (issue 3): checks read the model store only, never torch.


def _music_check(family: str):
    def check() -> str | None:
        from engines.music.checkpoints import unavailable_reason

        return unavailable_reason(family)

    return check


_ENTRY(EngineSpec("musicgen", "MusicGen (audiocraft)", "music",
                    "engines.music.engine:MusicGenEngine", check=_music_check("musicgen")))
_ENTRY(EngineSpec("audiogen", "AudioGen (audiocraft)", "sfx",
                    "engines.music.engine:AudioGenEngine", check=_music_check("audiogen")))
_ENTRY(EngineSpec("chatterbox", "Chatterbox (zero-shot cloning, weights via model manager)",
                    "speech", "engines.speech.chatterbox_engine:ChatterboxEngine",
                    check=_speech_check("chatterbox_engine")))
_ENTRY(EngineSpec("chatterbox-multilingual",
                    "Chatterbox Multilingual (23 languages, weights via model manager)", "speech",
                    "engines.speech.chatterbox_multilingual:ChatterboxMultilingualEngine",
                    check=_speech_check("chatterbox_multilingual")))
_ENTRY(EngineSpec("chatterbox-turbo", "Chatterbox Turbo (fast English, weights via model manager)",
                    "speech", "engines.speech.chatterbox_turbo:ChatterboxTurboEngine",
                    check=_speech_check("chatterbox_turbo")))

# --- voice library (issue 4): reference clean-up, speaker embeddings, consent. Checks look
# for the packages only; creating it opens the user's library (models load on first use).


def _voice_library_check() -> str | None:
    import importlib.util

    for module, package in (("resemblyzer", "Resemblyzer"), ("silero_vad", "silero-vad"),
                            ("noisereduce", "noisereduce"), ("pyloudnorm", "pyloudnorm")):
        if importlib.util.find_spec(module) is None:
            return f"{package} is not installed (run make setup)"
    return None


_ENTRY(EngineSpec("voice-library", "Voice library (clean-up, Resemblyzer, consent)", "analysis",
                    "engines.voices.library:open_library", check=_voice_library_check))

# --- stems (issue 16): demucs' htdemucs through the model store; the check reads the store
# and package metadata only.


def _stems_check() -> str | None:
    from engines.stems.separate import unavailable_reason

    return unavailable_reason()


_ENTRY(EngineSpec("demucs", "Demucs stem separation (htdemucs)", "stems",
                    "engines.stems.engine:StemEngine", check=_stems_check))
