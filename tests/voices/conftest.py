"""Voice-library fixtures: real speech material and the models, made once per session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engines.audio_io import write_audio
from engines.voices.exchange import export_voice
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


@pytest.fixture(scope="session")
def exported(tmp_path_factory, voice_files, warm_models):
    """A voice with two clips, a genuine consent and two clone artefacts, in one file.

    The consent is Piper joe reading the statement, checked as a user's would be (with the
    phrase when Whisper-base is installed), so an import checks it again and keeps it.
    """
    from engines.voices.library import open_library
    from tests.voices.voicefile import fixed_statement

    root = tmp_path_factory.mktemp("export")
    lib = open_library(root / "voices")
    lib.add(
        "Joe",
        [voice_files["joe_a"], voice_files["joe_b"]],
        language="en",
        notes="calm",
        tags=["a", "b"],
    )
    statement = fixed_statement(lib, "Joe")
    consent_wav = write_audio(root / "consent.wav", material.joe(statement.text, 1.1))
    lib.record_consent("Joe", consent_wav)
    style = np.random.default_rng(1).standard_normal((510, 1, 256)).astype(np.float32)
    lib.set_clone("Joe", "kokoro-style", style, {"similarity": 0.81, "sentences": 2})
    lib.set_clone("Joe", "notes.bin", b"\x00\x01raw", {})
    return lib, export_voice(lib, "Joe", root / "joe"), style
