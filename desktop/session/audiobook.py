"""An audiobook from a book file: chapters narrated in parallel as batch rows, each chapter
checked (and fixed) for ACX, then one M4B or MP3 with chapter marks and the cover.

Everything in between lives in a work folder beside the output (``BOOK.m4b.parts``): the
narrated parts (with the batch state file, so a rerun after a crash narrates only what is
missing), each finished chapter, and the ACX report. Delete it once the book is right.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop.session.batch import BatchCallback, run_batch
from desktop.session.manifest import build_rows
from engines.cancel import CancelToken
from engines.errors import BadInput


@dataclass
class AudiobookResult:
    path: Path
    chapters: list[Any]  # engines.chapters.Chapter, as written
    reports: list[Any]  # engines.audiobook.acx.AcxReport per chapter (after any fix)
    before: list[Any] = field(default_factory=list)  # the reports before the fix-up
    narrated: int = 0  # parts narrated in this run (the others were done before)
    work_dir: Path | None = None


def work_folder(output: Path) -> Path:
    return output.with_name(output.name + ".parts")


def narration_rows(book: Any, voice: str | None, engine: str | None,
                   model: str | None = None) -> list[dict[str, Any]]:
    """One speech row per part of each chapter, named after its place (chNNN-PP.wav)."""
    rows = []
    for c, chapter in enumerate(book.chapters, start=1):
        for p, text in enumerate(chapter.parts(), start=1):
            row: dict[str, Any] = {"kind": "speech", "text": text, "label": chapter.title,
                                   "output": f"ch{c:03d}-{p:02d}.wav"}
            if voice:
                row["voice"] = voice
            if engine:
                row["engine"] = engine
            if model:
                row["model"] = model
            rows.append(row)
    return rows


def make_audiobook(
    book_path: str | Path,
    output: str | Path,
    *,
    voice: str | None = None,
    engine: str | None = None,
    model: str | None = None,
    ray: str | None = None,
    workers: int | None = None,
    fix: bool = True,
    cover: bytes | None = None,
    progress: BatchCallback | None = None,
    cancel: CancelToken | None = None,
    say: Callable[[str], None] = lambda _line: None,
) -> AudiobookResult:
    from engines.audio_io import read_audio, write_audio
    from engines.audiobook import acx
    from engines.audiobook.book import read_book
    from engines.audiobook.export import FORMATS, write_book
    from engines.files import check_output, write_text
    from engines.tags import provenance_document, read_tags

    output = Path(output)
    if output.suffix.lower() not in FORMATS:
        raise BadInput(f"{output.name}: write the audiobook as .m4b (or .m4a) or .mp3.")
    check_output(output)
    book = read_book(book_path)
    work = work_folder(output)
    rows = build_rows(narration_rows(book, voice, engine, model), work, Path(book_path).name)
    say(f"{book.title}: {len(book.chapters)} chapters, {len(rows)} narration rows")
    report = run_batch(rows, output_dir=work, ray=ray, workers=workers, progress=progress,
                       cancel=cancel)
    if report.failed:
        lines = "; ".join(f"row {s.row.number} ({s.row.label}): {s.error}" for s in report.failed)
        raise BadInput(f"{len(report.failed)} part(s) could not be narrated: {lines}. Run the "
                       "same command again to retry them; finished parts are kept.")
    takes: list[dict[str, Any]] = []
    chapter_files, reports, before = [], [], []
    by_chapter: dict[int, list[Path]] = {}
    for s in report.rows:
        by_chapter.setdefault(int(s.row.output[2:5]), []).append(work / s.row.output)
    for number, chapter in enumerate(book.chapters, start=1):
        parts = sorted(by_chapter[number])
        for part in parts:
            document = read_tags(part).provenance or {}
            takes.extend(document.get("takes") or [])
        clips = [read_audio(p) for p in parts]
        clip = _joined(clips).resampled(44100)  # ACX asks for 44.1 kHz
        checked = acx.check(clip, chapter.title)
        before.append(checked)
        if fix and not checked.passed:
            clip = acx.fix(clip, seed=number)
            checked = acx.check(clip, chapter.title)
        reports.append(checked)
        path = work / f"chapter-{number:03d}.wav"
        write_audio(path, clip)
        chapter_files.append(path)
        say(f"chapter {number}: {checked.line()}")
    chapters = write_book(output, chapter_files, [c.title for c in book.chapters],
                          provenance_document(takes, kind="audiobook"), title=book.title,
                          author=book.author, cover=cover or book.cover)
    write_text(work / "acx-report.json", json.dumps(
        {"book": book.title, "fixed": fix, "chapters": [r.to_dict() for r in reports],
         "before_fix": [r.to_dict() for r in before]}, indent=2))
    return AudiobookResult(output, chapters, reports, before, report.count("done"), work)


def _joined(clips: list[Any]) -> Any:
    import numpy as np

    from engines.audio import AudioClip

    rate = clips[0].sample_rate
    gap = np.zeros((1, int(0.4 * rate)), np.float32)  # a breath between parts
    parts: list[Any] = []
    for i, c in enumerate(clips):
        c = c.resampled(rate).mono()
        parts.extend([gap, c.samples] if i else [c.samples])
    return AudioClip(np.concatenate(parts, axis=1), rate)
