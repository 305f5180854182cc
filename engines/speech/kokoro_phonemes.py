"""Text to Kokoro's phoneme symbols through espeak-ng (phonemizer).

Kokoro was trained on misaki's phoneme set: IPA, except that English diphthongs and
affricates are single letters (eɪ→A, aɪ→I, aʊ→W, oʊ→O, ɔɪ→Y, dʒ→ʤ, tʃ→ʧ) and American
r-coloured vowels are spelled out (ɚ→əɹ, ɜː→ɜɹ). espeak-ng writes the same sounds in
plain IPA with ties (``tie="^"`` marks which letters form one sound), so English is mapped
symbol by symbol; other languages pass espeak's IPA through, as Kokoro's own non-English
voices do. Symbols outside Kokoro's vocabulary are dropped.
"""

from __future__ import annotations

import re
import threading

_BACKENDS: dict[str, object] = {}
_LOCK = threading.Lock()

# Longest first: tied sequences before single letters.
_ENGLISH = [
    ("ʔˌn̩", "tᵊn"), ("ʔn̩", "tᵊn"), ("ʔn", "tᵊn"), ("ʔ", "t"),
    ("a^ɪ", "I"), ("a^ʊ", "W"), ("e^ɪ", "A"), ("o^ʊ", "O"), ("ə^ʊ", "O"), ("ɔ^ɪ", "Y"),
    ("d^ʒ", "ʤ"), ("t^ʃ", "ʧ"), ("ə^l", "ᵊl"),
    ("ɜːɹ", "ɜɹ"), ("ɜː", "ɜɹ"), ("ɚ", "əɹ"), ("ɪə", "iə"),
    ("r", "ɹ"), ("ɐ", "ə"), ("x", "k"), ("ç", "k"), ("ɬ", "l"), ("e", "A"),
    ("ː", ""), ("ʲ", ""),
]


def _backend(language: str):
    from phonemizer.backend import EspeakBackend

    with _LOCK:
        if language not in _BACKENDS:
            _BACKENDS[language] = EspeakBackend(
                language,
                preserve_punctuation=True,
                with_stress=True,
                tie="^",
                language_switch="remove-flags",
                words_mismatch="ignore",
            )
        return _BACKENDS[language]


def espeak_language(language: str) -> str:
    """phonemizer's name for a language tag ("en" → "en-us", "pt-br" stays)."""
    tag = language.lower().replace("_", "-")
    return {"en": "en-us", "pt": "pt-br" if tag == "pt" else tag}.get(tag, tag)


def to_kokoro(ipa: str, language: str) -> str:
    """Map espeak IPA (with ``^`` ties) onto Kokoro's symbols."""
    if language.startswith("en"):
        for old, new in _ENGLISH:
            ipa = ipa.replace(old, new)
        ipa = re.sub(r"(\S)\u0329", r"ᵊ\1", ipa).replace("\u0329", "")
        ipa = ipa.replace("ɹɹ", "ɹ")  # espeak's linking r after an r-coloured vowel
    return ipa.replace("^", "")


def phonemize(text: str, language: str = "en-us") -> str:
    from engines.errors import BadInput

    lang = espeak_language(language)
    try:
        backend = _backend(lang)
    except RuntimeError as exc:
        raise BadInput(
            f"espeak-ng has no language '{language}' for Kokoro; use a code like en-us, en-gb, "
            "fr-fr, es, de, it, pt-br, hi or ja."
        ) from exc
    with _LOCK:
        # espeak may merge or split words ("don't", numbers); the count check only warns.
        ipa = backend.phonemize([text], strip=True, njobs=1)[0]
    return to_kokoro(ipa, lang)
