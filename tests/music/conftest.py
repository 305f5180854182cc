"""Session fixtures: the tiny random MusicGen/AudioGen are built and loaded once per run.

No MusicGen/AudioGen weights can be had offline, so these are random-weight models built
with audiocraft's builders and saved in the released checkpoints' on-disk format (see
``engines.music.tiny``); they load through the same ``get_pretrained`` path as real ones.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def debug_hub():
    from engines.music.tiny import build_debug_models

    return build_debug_models()


@pytest.fixture(scope="session")
def tiny_musicgen(debug_hub):
    from engines.music.engine import MusicGenEngine

    engine = MusicGenEngine(model="debug", device="cpu")
    engine.load()
    return engine


@pytest.fixture(scope="session")
def tiny_audiogen(debug_hub):
    from engines.music.engine import AudioGenEngine

    engine = AudioGenEngine(model="debug", device="cpu")
    engine.load()
    return engine
