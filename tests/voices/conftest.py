"""Voice-library fixtures: real speech material and the models, made once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from engines.audio_io import write_audio
from tests.voices import material


@pytest.fixture(scope="session")
def voice_files(tmp_path_factory) -> dict[str, Path]:
    """Reference and consent-style recordings on disk: two of joe, one espeak-ng voice."""
    folder = tmp_path_factory.mktemp("voice-material")
    files = {
        "joe_a": material.joe(" ".join(material.SENTENCES[0:2])),
        "joe_b": material.joe(" ".join(material.SENTENCES[2:4]), length_scale=1.1),
        "espeak_f": material.espeak(" ".join(material.SENTENCES[0:2]), "en-us+f2"),
    }
    out = {}
    for name, clip in files.items():
        out[name] = write_audio(folder / f"{name}.wav", clip)
    return out


@pytest.fixture(scope="session")
def warm_models():
    """Load Silero VAD and Resemblyzer once (the first embedding compiles numba code)."""
    from engines.voices.prepare import prepare_reference

    prepare_reference(material.joe(material.SENTENCES[5]))
