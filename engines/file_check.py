"""What a file says about itself: is the watermark in it, and what provenance do its tags
carry. One function for every front end (``timbre detect``, the studio's drop target)."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class FileCheck:
    file: str
    verdict: str  # "present" | "absent" | "inconclusive"
    score: float
    note: str = ""  # why it could not be judged, or why it is inconclusive
    marked_fraction: float = 0.0
    provenance: dict[str, Any] | None = None  # the tags' provenance document, if any
    tags: dict[str, str] = field(default_factory=dict)  # readable fields (title, comment...)
    tags_error: str = ""  # why a crafted provenance tag was refused; "" when none was

    @property
    def watermark(self) -> bool:
        return self.verdict == "present"

    def to_dict(self) -> dict[str, Any]:
        return {"watermark": self.watermark, **asdict(self)}


def check_file(path: str | os.PathLike[str]) -> FileCheck:
    """Detect the watermark and read the tags; raises ``BadInput`` if the audio is unreadable.

    Damaged tags on readable audio are reported as "no provenance", not as an error: the
    watermark verdict is the part that cannot be forged away by editing tags. A crafted
    provenance tag (too large, too deep, wrong types) is refused: ``tags_error`` says why,
    and the watermark verdict still stands.
    """
    from engines.audio_io import read_audio
    from engines.errors import BadInput
    from engines.tags import BadTags, read_tags
    from engines.watermark import detect

    path = Path(path)
    found = detect(read_audio(path))
    tags_error = ""
    try:
        tags = read_tags(path)
        provenance, fields = tags.provenance, tags.fields
    except BadTags as exc:
        provenance, fields, tags_error = None, {}, str(exc)
    except BadInput:
        provenance, fields = None, {}
    return FileCheck(
        str(path),
        found.verdict,
        round(found.score, 4),
        found.reason,
        round(found.marked_fraction, 3),
        provenance,
        fields,
        tags_error,
    )
