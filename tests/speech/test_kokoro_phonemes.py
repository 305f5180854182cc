"""English through espeak-ng lands on Kokoro's own symbols (misaki's set), nothing dropped."""

from __future__ import annotations

import pytest

from engines.speech import kokoro_assets
from engines.speech.kokoro_phonemes import phonemize


@pytest.mark.parametrize(
    ("word", "symbol"),
    [("day", "A"), ("time", "I"), ("now", "W"), ("go", "O"), ("boy", "Y"), ("judge", "ʤ"),
     ("church", "ʧ"), ("bird", "ɜɹ"), ("bottle", "ᵊl")],
)
def test_english_sounds_map_to_kokoro_symbols(word, symbol):
    assert symbol in phonemize(word, "en-us")


def test_every_symbol_of_a_sentence_is_in_kokoros_vocabulary():
    vocab = kokoro_assets.vocab()
    text = ("The weather is rather odd: thousands of judges, chefs and bakers wouldn't go "
            "outside, although everything was ready!")
    phonemes = phonemize(text, "en-us")
    assert "ðəɹ ɪz" in phonemes  # no doubled linking r
    assert [c for c in phonemes if c not in vocab] == []
