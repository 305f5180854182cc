"""Filler words: the hesitation sounds a tidy edit removes, per language.

Only sounds that never carry meaning are listed ("um", "uh", "er"), not words that are
sometimes filler ("like", "you know", "so"): removing those needs a listener's judgement.
"""

from __future__ import annotations

import re

FILLERS: dict[str, frozenset[str]] = {
    "en": frozenset({"um", "umm", "ummm", "uh", "uhh", "uhm", "er", "erm", "err", "ah", "ahh",
                     "hmm", "hm", "mm", "mmm", "eh"}),
    "de": frozenset({"äh", "ähm", "öh", "öhm", "hm", "hmm", "mh", "ähh"}),
    "fr": frozenset({"euh", "heu", "euhh", "hum", "bah", "mmh"}),
    "es": frozenset({"eh", "em", "emm", "ehm", "mmm", "mm", "hmm"}),
    "it": frozenset({"ehm", "eh", "uhm", "mmm", "ehh"}),
    "nl": frozenset({"uh", "eh", "ehm", "uhm", "hm", "hmm"}),
    "pt": frozenset({"hã", "ahn", "hum", "éé", "eh", "hmm"}),
}
_EDGE = re.compile(r"^[\W_]+|[\W_]+$", re.UNICODE)


def normalized(text: str) -> str:
    """A word without the punctuation around it, lower case ("Um," -> "um")."""
    return _EDGE.sub("", text.strip()).lower()


def fillers_for(language: str) -> frozenset[str]:
    """The language's fillers ("en" for an unknown or empty language code)."""
    return FILLERS.get((language or "en").split("-")[0].lower(), FILLERS["en"])


def is_filler(text: str, language: str = "en") -> bool:
    return normalized(text) in fillers_for(language)
