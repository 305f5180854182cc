"""A bank take is one phrase: a recording hours long is refused from its header, at once."""

from __future__ import annotations

import time

import numpy as np
import pytest

from desktop.cli.main import main
from engines.audio import AudioClip
from engines.banking.bank import MAX_TAKE_S, VoiceBank
from engines.errors import BadInput
from tests.long_audio import long_flac


@pytest.fixture
def bank(tmp_path) -> VoiceBank:
    return VoiceBank.create(tmp_path / "ada", speaker="Ada")


@pytest.mark.parametrize("command", ["add-take", "message", "consent"])
def test_a_ten_hour_take_is_refused_from_its_header(bank, tmp_path, capsys, command):
    long = long_flac(tmp_path / "ten-hours.flac", 10)
    prompt = bank.prompts()[0].id
    args = {
        "add-take": ["add-take", bank.path, prompt, long],
        "message": ["message", bank.path, long, "--text", "I love you"],
        "consent": ["consent", bank.path, long, "--name", "Ada"],
    }[command]
    started = time.perf_counter()
    code = main(["bank", *map(str, args)])
    seconds = time.perf_counter() - started
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert f"ten-hours.flac is 10.0 h long; a bank take may be at most {MAX_TAKE_S:.0f} s" in err
    assert seconds < 2.0  # decoding and checking 10 h took minutes and 4.8 GB
    assert bank.takes() == [] and bank.messages() == []


def test_a_long_decoded_take_is_refused_before_it_is_checked_or_stored(bank):
    rate = 8000
    minute_and_more = AudioClip(np.zeros(int((MAX_TAKE_S + 1) * rate), np.float32), rate)
    with pytest.raises(BadInput, match=r"is 61 s long; a bank take may be at most 60 s"):
        bank.add_take(bank.prompts()[0].id, minute_and_more)
    with pytest.raises(BadInput, match="at most 60 s"):
        bank.add_message("hello", minute_and_more)
    assert bank.takes() == [] and bank.messages() == []
