"""A bank of a dozen ARCTIC prompts read by Piper joe (with room noise), and its consent
recording, built once per test session and copied for each test that changes it."""

from __future__ import annotations

import shutil
from pathlib import Path

from engines.banking.bank import VoiceBank

TAKES = 12
VOICE = "Ada Own"


def build_bank(path: Path) -> VoiceBank:
    from engines.banking.prompts import load_script
    from tests.banking.recordings import recording

    bank = VoiceBank.create(path, speaker="Ada")
    for i, line in enumerate(load_script("arctic")[:TAKES]):
        bank.add_take(line.id, recording(line.text, seed=i))
    return bank


def record_consent(bank: VoiceBank, name: str = VOICE) -> None:
    """The person reads the library's statement for ``name`` (it names a random phrase, so
    it is made in the library of the test that records it)."""
    from engines.banking.voice_import import statement_for
    from tests.banking.recordings import recording

    text = statement_for(bank, name)
    bank.add_take(bank.prompts("consent")[0].id, recording(text), accept=True)


def copy_bank(src: VoiceBank, dest: Path) -> VoiceBank:
    shutil.copytree(src.path, dest)
    return VoiceBank.open(dest)
