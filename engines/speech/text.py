"""The text front-end: pauses, SSML breaks, numbers, and chunks a voice can say in one go.

A script becomes a flat list of segments, :class:`Say` (one sentence, or a piece of a long
one) and :class:`Pause` (an exact silence), so long texts can be synthesised chunk by
chunk with progress and cancel, and the first chunk is ready after one sentence.

Pauses the writer asks for are exact (``[pause 500ms]``, ``[pause 1.5s]``, SSML
``<break time="500ms"/>`` or ``<break strength="strong"/>``); the gaps between sentences
and paragraphs are the voice's breathing and scale with the speaking rate.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from engines.errors import BadInput
from engines.speech.numbers import spell_out_numbers

MAX_CHUNK_CHARS = 280  # Kokoro takes at most 510 phonemes; ~1.3 phonemes per character
MAX_PAUSE_S = 30.0
SENTENCE_GAP_S = 0.30
CLAUSE_GAP_S = 0.12
PARAGRAPH_GAP_S = 0.75
_BREAK_STRENGTH = {"none": 0.0, "x-weak": 0.1, "weak": 0.2, "medium": 0.4, "strong": 0.75,
                   "x-strong": 1.2}
_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e",
                  "no", "fig", "approx", "dept", "inc", "ltd", "co", "mt"}


@dataclass(frozen=True)
class Say:
    text: str
    gap_after: float = SENTENCE_GAP_S  # natural gap, scaled by 1/rate


@dataclass(frozen=True)
class Pause:
    seconds: float  # asked for by the writer: exact


Segment = Say | Pause

_CLAUSE_BREAK = re.compile(r"(?<=[,;:—–])\s+")  # the space after a clause mark
_PAUSE_RE = re.compile(
    r"\[\s*pause(?:\s+(\d+(?:\.\d+)?)\s*(ms|s|sec|seconds?)?)?\s*\]"
    r"|<break\b([^>]*)/?>",
    re.IGNORECASE,
)


def _duration(value: str, unit: str | None) -> float:
    seconds = float(value) / 1000.0 if (unit or "ms").lower() == "ms" else float(value)
    if seconds > MAX_PAUSE_S:
        raise BadInput(f"A pause of {seconds:g} s is too long; use at most {MAX_PAUSE_S:g} s.")
    return seconds


def _pause_of(match: re.Match[str]) -> float:
    if match.group(3) is None:  # [pause ...]
        return _duration(match.group(1), match.group(2)) if match.group(1) else 0.5
    attrs = match.group(3)
    time = re.search(r"time\s*=\s*[\"']\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*[\"']", attrs, re.IGNORECASE)
    if time:
        return _duration(time.group(1), time.group(2))
    strength = re.search(r"strength\s*=\s*[\"']([\w-]+)[\"']", attrs, re.IGNORECASE)
    if strength:
        key = strength.group(1).lower()
        if key not in _BREAK_STRENGTH:
            raise BadInput(f"<break strength=\"{key}\"> is not SSML; use one of {', '.join(_BREAK_STRENGTH)}.")
        return _BREAK_STRENGTH[key]
    return _BREAK_STRENGTH["medium"]


def _strip_markup(text: str) -> str:
    """Drop SSML/XML tags other than breaks (their words are kept) and decode entities."""
    text = re.sub(r"<\s*/?\s*p\s*>", "\n\n", text, flags=re.IGNORECASE)  # SSML paragraphs
    text = re.sub(r"<[^>]+>", " ", text)
    return html.unescape(text)


def split_sentences(paragraph: str) -> list[str]:
    """Sentences of one paragraph; abbreviations like "Dr." do not end a sentence."""
    pieces = re.split(r"(?:(?<=[.!?…。！？][\"'”’)\]])|(?<=[.!?…。！？]))\s+", paragraph.strip())
    out: list[str] = []
    for piece in pieces:
        if out and re.search(r"(?:^|\s)([\w.]+)\.$", out[-1]):
            last = re.search(r"(?:^|\s)([\w.]+)\.$", out[-1])
            if last and last.group(1).lower() in _ABBREVIATIONS:
                out[-1] = f"{out[-1]} {piece}"
                continue
        if piece.strip():
            out.append(piece.strip())
    return out


def split_long(sentence: str, limit: int = MAX_CHUNK_CHARS) -> list[str]:
    """Break an over-long sentence at clause marks, then between words."""
    if len(sentence) <= limit:
        return [sentence]
    out: list[str] = []
    current = ""
    for clause in _CLAUSE_BREAK.split(sentence):
        while len(clause) > limit:  # one huge clause: cut between words
            cut = clause.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            if current:
                out.append(current)
                current = ""
            out.append(clause[:cut].strip())
            clause = clause[cut:].strip()
        if current and len(current) + 1 + len(clause) > limit:
            out.append(current)
            current = clause
        else:
            current = f"{current} {clause}".strip()
    if current:
        out.append(current)
    return out


def split_first(sentence: str, limit: int) -> list[str]:
    """The opening clauses of ``sentence`` up to ``limit`` characters, then the rest.

    Only at clause marks (a cut between words would be heard as a break in the middle of a
    phrase); a sentence whose first clause is already longer stays whole.
    """
    clauses = _CLAUSE_BREAK.split(sentence)
    head = clauses[0]
    taken = 1
    while taken < len(clauses) and len(head) + 1 + len(clauses[taken]) <= limit:
        head = f"{head} {clauses[taken]}"
        taken += 1
    if len(sentence) <= limit or taken == len(clauses) or len(head) > limit:
        return [sentence]
    return [head, " ".join(clauses[taken:])]


def segments(
    text: str, language: str = "en", limit: int = MAX_CHUNK_CHARS, first_limit: int | None = None
) -> list[Segment]:
    """The whole front-end: markup, numbers, paragraphs, sentences, chunks and pauses.

    ``first_limit`` cuts the very first chunk shorter (at a clause mark) for engines whose
    time to first audio grows with the chunk: the listener hears the start sooner while
    the engine makes the rest.
    """
    out: list[Segment] = []
    pos = 0
    parts: list[str | float] = []
    for match in _PAUSE_RE.finditer(text):
        parts.append(text[pos : match.start()])
        parts.append(_pause_of(match))
        pos = match.end()
    parts.append(text[pos:])
    for part in parts:
        if isinstance(part, float):
            if out and isinstance(out[-1], Say):
                out[-1] = Say(out[-1].text, 0.0)  # the writer's pause replaces the gap
            out.append(Pause(part))
            continue
        plain = spell_out_numbers(_strip_markup(part), language)
        for paragraph in re.split(r"\n\s*\n", plain):
            paragraph = " ".join(paragraph.split())
            if not paragraph:
                continue
            for sentence in split_sentences(paragraph):
                chunks = split_long(sentence, limit)
                if first_limit is not None and not any(isinstance(s, Say) for s in out):
                    chunks = split_first(chunks[0], first_limit) + chunks[1:]
                for i, chunk in enumerate(chunks):
                    if re.search(r"\w", chunk):
                        gap = CLAUSE_GAP_S if i < len(chunks) - 1 else SENTENCE_GAP_S
                        out.append(Say(chunk, gap))
            if out and isinstance(out[-1], Say):
                out[-1] = Say(out[-1].text, PARAGRAPH_GAP_S)
    if out and isinstance(out[-1], Say):
        out[-1] = Say(out[-1].text, 0.0)
    if not any(isinstance(s, Say) for s in out):
        raise BadInput("There is nothing to say: the text has no words. Type or load some text.")
    return out
