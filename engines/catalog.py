"""Every engine the studio knows, registered with a cheap availability check.

Each engine module registers its specs here by name and import path; the engine code itself
(and torch) is imported only when the engine is created.
"""

from __future__ import annotations

from engines.registry import EngineSpec, register  # noqa: F401 - used by the entries below

# Engine issues add their entries below, one block per engine family.

# --- speech (issue 5): checks import only the small engines.speech modules, never onnxruntime.


def _speech_check(module: str):
    def check() -> str | None:
        import importlib

        return importlib.import_module(f"engines.speech.{module}").unavailable_reason()

    return check


register(EngineSpec("piper", "Piper (joe, imported voices)", "speech",
                    "engines.speech.piper_engine:PiperEngine", check=_speech_check("piper_engine")))
register(EngineSpec("kokoro", "Kokoro-82M (style voices, clones)", "speech",
                    "engines.speech.kokoro_engine:KokoroEngine", check=_speech_check("kokoro_assets")))
register(EngineSpec("espeak", "espeak-ng (many languages)", "speech",
                    "engines.speech.espeak_engine:EspeakEngine", check=_speech_check("espeak_engine")))
