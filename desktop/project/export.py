"""Exporting a project's mix: one path for the CLI and the studio, so both give the same file.

Mixdown → watermark when generated audio is in it (project setting) → loudness target with
the true peak held at −1 dBTP, or a peak guard so nothing clips → tagged file (provenance).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engines.cancel import CancelToken, ProgressCallback, no_progress


@dataclass(frozen=True)
class ExportResult:
    path: Path
    fmt: str
    duration: float
    lufs: float
    true_peak_db: float

    def summary(self) -> str:
        return (f"exported {self.path} ({self.fmt}, {self.duration:.2f} s, {self.lufs:.1f} LUFS, "
                f"true peak {self.true_peak_db:.1f} dBTP)")


def export_project(
    project: Any,
    out: str | Path,
    fmt: str | None = None,
    lufs: float | None = None,
    channels: int | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> ExportResult:
    from desktop.project.provenance import prepare_export
    from engines.audio_io import format_for
    from engines.errors import BadInput
    from engines.files import check_output
    from engines.loudness import integrated_lufs, normalize_loudness, peak_normalize, true_peak_db
    from engines.tags import write_tagged

    out = Path(out)
    fmt = format_for(out, fmt)
    check_output(out)  # a folder or /dev/null is refused before the mix is rendered
    if not project.clips():
        raise BadInput(
            f"{project.name} has nothing on its timeline to export. Import or generate audio first."
        )
    mix = project.mixdown(progress=progress, cancel=cancel)
    mix, document = prepare_export(project, mix)
    if cancel is not None:
        cancel.check()
    if channels is not None:  # e.g. the mono podcast preset (−19 LUFS is a mono target)
        mix = mix.with_channels(channels)
    if lufs is not None:
        mix = normalize_loudness(mix, lufs, max_true_peak_db=-1.0)
    elif mix.peak > 1.0:
        mix = peak_normalize(mix, -1.0)
    path = write_tagged(out, mix, document, fmt, title=project.name)
    return ExportResult(Path(path), fmt, mix.duration, integrated_lufs(mix), true_peak_db(mix))
