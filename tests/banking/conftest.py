"""Session-wide bank material: the first few ARCTIC prompts read by Piper joe."""

from __future__ import annotations

import pytest

from engines.audio import AudioClip


@pytest.fixture(scope="session")
def script_lines():
    from engines.banking.prompts import load_script

    return load_script("arctic")


@pytest.fixture(scope="session")
def clean_takes(script_lines) -> dict[str, AudioClip]:
    """Clean readings of the first four prompts, keyed by prompt id."""
    from tests.banking.recordings import recording

    return {line.id: recording(line.text, seed=i) for i, line in enumerate(script_lines[:4])}
