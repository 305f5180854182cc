"""A bank of a dozen ARCTIC prompts read by Piper joe (with room noise), and its consent
recording, built once per test session and copied for each test that changes it."""

from __future__ import annotations

import shutil
from pathlib import Path

from engines.banking.bank import VoiceBank

TAKES = 12
VOICE = "Ada Own"


def build_bank(path: Path, consent: bool = True) -> VoiceBank:
    from engines.banking.prompts import load_script
    from engines.banking.voice_import import statement_for
    from tests.banking.recordings import recording

    bank = VoiceBank.create(path, speaker="Ada")
    for i, line in enumerate(load_script("arctic")[:TAKES]):
        bank.add_take(line.id, recording(line.text, seed=i))
    if consent:
        text = statement_for(bank, VOICE)
        bank.add_take(bank.prompts("consent")[0].id, recording(text), accept=True)
    return bank


def copy_bank(src: VoiceBank, dest: Path) -> VoiceBank:
    shutil.copytree(src.path, dest)
    return VoiceBank.open(dest)
