"""Exporting a project's mix: one path for the CLI and the studio, so both give the same file.

Mixdown → watermark when generated audio is in it (project setting) → loudness target with
the true peak held at −1 dBTP, or a peak guard so nothing clips → tagged file (provenance)
with the timeline's markers as chapters (see :func:`project_chapters`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engines.cancel import CancelToken, ProgressCallback, no_progress
from engines.chapters import Chapter


@dataclass(frozen=True)
class ExportResult:
    path: Path
    fmt: str
    duration: float
    lufs: float
    true_peak_db: float
    quality: str = ""  # e.g. "192 kbps VBR" for a lossy format

    def summary(self) -> str:
        fmt = f"{self.fmt} {self.quality}".strip()
        return (f"exported {self.path} ({fmt}, {self.duration:.2f} s, {self.lufs:.1f} LUFS, "
                f"true peak {self.true_peak_db:.1f} dBTP)")


def project_chapters(project: Any) -> list[Chapter]:
    """The chapters an export of ``project`` carries, in time order: its chapter-kind
    markers, or, when it has none, all its plain markers.

    Descript and podcast tools treat only chapter markers as chapters, so a project that
    has any keeps its plain markers (edit notes, "fix breath here") out of listeners'
    chapter lists. Audacity has no marker kinds: its users mark sections with plain labels
    and expect them in the file, so those are the fallback. A marker's label is the title
    ("Chapter n" when it has none)."""
    markers = project.markers()
    chosen = [m for m in markers if m.kind == "chapter"] or markers
    rate = project.sample_rate
    return [Chapter(m.frame / rate, m.label.strip() or f"Chapter {i}")
            for i, m in enumerate(sorted(chosen, key=lambda m: m.frame), start=1)]


def export_project(
    project: Any,
    out: str | Path,
    fmt: str | None = None,
    lufs: float | None = None,
    channels: int | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    encoding: Any = None,
) -> ExportResult:
    """Render, level and write the mix in blocks (``engines.stream``), so memory stays
    bounded whatever the length: one pass mixes and measures, a limiting pass is added
    only when gain alone would break the true-peak ceiling, and the last pass renders the
    mix again straight into the encoder. Only the watermark of a long mix is spooled to a
    temporary file (the model is too slow to run on every pass). The markers become
    chapters in every format (:func:`project_chapters`, ``engines.chapters``). ``encoding``
    (an ``engines.audio_io.Encoding``) is the bit rate and VBR/CBR of MP3, Opus and M4A."""
    from desktop.project.provenance import prepare_export_stream
    from engines.audio_io import Encoding, format_for
    from engines.errors import BadInput
    from engines.files import check_output
    from engines.mixing import mix_stream
    from engines.render import measure, normalized, peak_guarded
    from engines.stream import watched
    from engines.tags import write_tagged

    out = Path(out)
    fmt = format_for(out, fmt)
    encoding = encoding or Encoding()
    encoding.check(fmt)  # before minutes of mixing
    check_output(out)  # a folder or /dev/null is refused before the mix is rendered
    if not project.clips():
        raise BadInput(
            f"{project.name} has nothing on its timeline to export. Import or generate audio first."
        )
    mix = mix_stream(project.mix_tracks(), project.sample_rate, project.channels)
    mix, document, spooled = prepare_export_stream(project, mix, progress, cancel)
    try:
        if channels is not None:  # e.g. the mono podcast preset (−19 LUFS is a mono target)
            mix = mix.with_channels(channels)
        levels = measure(mix, "mixing", progress, cancel)
        if lufs is not None:
            mix, levels = normalized(mix, lufs, -1.0, levels, progress, cancel)
        else:
            mix, levels = peak_guarded(mix, levels)
        path = write_tagged(out, watched(mix, "writing", progress, cancel), document, fmt,
                            title=project.name, chapters=project_chapters(project),
                            encoding=encoding)
    finally:
        if spooled is not None:
            spooled.unlink(missing_ok=True)
    return ExportResult(Path(path), fmt, mix.duration, levels.lufs, levels.true_peak_db,
                        encoding.describe(fmt))
