"""SRT, WebVTT and plain text from timed words.

Cues follow the usual subtitle limits (two lines of about 42 characters, at most 7 s on
screen) and break first where a sentence ends, a pause is long or Whisper's segment ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engines.errors import BadInput
from engines.transcripts.words import Word

FORMATS = ("srt", "vtt", "txt")
LINE_CHARS = 42
MAX_CUE_S = 7.0
PAUSE_S = 1.0


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def _lines(text: str) -> str:
    """Break a cue's text into two balanced lines when it is longer than one."""
    if len(text) <= LINE_CHARS:
        return text
    words = text.split(" ")
    best, best_gap = text, len(text)
    for i in range(1, len(words)):
        a, b = " ".join(words[:i]), " ".join(words[i:])
        if abs(len(a) - len(b)) < best_gap:
            best, best_gap = f"{a}\n{b}", abs(len(a) - len(b))
    return best


def cues(words: Sequence[Word]) -> list[Cue]:
    out: list[Cue] = []
    group: list[Word] = []

    def flush() -> None:
        if group:
            out.append(Cue(group[0].start, group[-1].end, _lines(" ".join(w.text for w in group))))
            group.clear()

    for w in words:
        if group:
            text = " ".join(g.text for g in group)
            if (len(text) + 1 + len(w.text) > 2 * LINE_CHARS
                    or w.end - group[0].start > MAX_CUE_S
                    or w.start - group[-1].end > PAUSE_S
                    or w.segment != group[-1].segment
                    or text.endswith((".", "?", "!"))):
                flush()
        group.append(w)
    flush()
    return out


def _stamp(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_srt(words: Sequence[Word]) -> str:
    blocks = [f"{i}\n{_stamp(c.start, ',')} --> {_stamp(c.end, ',')}\n{c.text}\n"
              for i, c in enumerate(cues(words), start=1)]
    return "\n".join(blocks)


def to_vtt(words: Sequence[Word]) -> str:
    blocks = [f"{_stamp(c.start, '.')} --> {_stamp(c.end, '.')}\n{c.text}\n" for c in cues(words)]
    return "WEBVTT\n\n" + "\n".join(blocks)


def to_text(words: Sequence[Word]) -> str:
    """One paragraph per Whisper segment, words separated by spaces."""
    paragraphs: list[list[str]] = []
    last = None
    for w in words:
        if w.segment != last or not paragraphs:
            paragraphs.append([])
            last = w.segment
        paragraphs[-1].append(w.text)
    return "\n".join(" ".join(p) for p in paragraphs) + ("\n" if paragraphs else "")


def render(words: Sequence[Word], fmt: str) -> str:
    fmt = fmt.lower().lstrip(".")
    if fmt not in FORMATS:
        raise BadInput(f"'{fmt}' is not a transcript format: use srt, vtt or txt.")
    return {"srt": to_srt, "vtt": to_vtt, "txt": to_text}[fmt](words)


def format_for(path: str, fmt: str | None) -> str:
    """The format asked for, else the output file's extension, else plain text."""
    if fmt:
        fmt = fmt.lower().lstrip(".")
        if fmt not in FORMATS:
            raise BadInput(f"'{fmt}' is not a transcript format: use srt, vtt or txt.")
        return fmt
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    return suffix if suffix in FORMATS else "txt"
