"""Session fixtures: the real perth model (loaded once) and real speech from Piper joe."""

from __future__ import annotations

import pytest

from engines.audio import AudioClip
from engines.provenance import GeneratedTake, Provenance
from tests.provenance import corpus


@pytest.fixture(scope="session")
def perth():
    from engines.watermark import watermarker

    return watermarker()


@pytest.fixture(scope="session")
def speech() -> AudioClip:
    return corpus.speech(1)[0]


@pytest.fixture(scope="session")
def marked_speech(perth, speech) -> GeneratedTake:
    from engines.watermark import finalize_take

    prov = Provenance(engine="piper", model_id="en_US-joe-medium", prompt=corpus.TEXTS[0], seed=7)
    return finalize_take(speech, prov, watermark=True)
