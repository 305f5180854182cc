"""Word error rate: (substitutions + deletions + insertions) / words said."""

from __future__ import annotations

import re

_WORD = re.compile(r"[\w']+", re.UNICODE)


def tokens(text: str) -> list[str]:
    return [t.strip("'") for t in _WORD.findall(text.lower()) if t.strip("'")]


def word_error_rate(reference: str, heard: str) -> float:
    """Levenshtein distance over words, divided by the reference's word count."""
    ref, hyp = tokens(reference), tokens(heard)
    if not ref:
        return float(bool(hyp))
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, start=1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / len(ref)
