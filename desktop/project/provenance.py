"""A project's provenance side: its watermark setting (kept in the project's meta) and the
provenance document written into exported mixdowns.

The watermark setting is on by default: a project follows the user-level ``watermark``
setting until it is set explicitly, so turning it off is a deliberate choice recorded with
the project (and each take still records whether it was marked).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

KEY = "watermark"


def project_watermark(project: Any) -> bool | None:
    """True/False when the project says so, None when it follows the user setting."""
    value = project.get_state(KEY)
    return None if value is None else bool(value)


def watermark_enabled(project: Any) -> bool:
    """Whether new takes in this project are watermarked."""
    from engines.watermark import watermark_wanted

    value = project_watermark(project)
    return watermark_wanted() if value is None else value


def set_project_watermark(project: Any, on: bool | None) -> None:
    """Turn watermarking on or off for the project; None goes back to the user setting."""
    project.set_state(KEY, on)


def export_document(project: Any) -> dict[str, Any]:
    """The provenance written into an exported mixdown: every take on the timeline, the
    generated ones with their full record (engine, model, prompt, seed, consent...)."""
    from engines.tags import provenance_document

    used = {c.take_id for c in project.clips()}
    takes = []
    for take in project.takes():
        if take.id not in used:
            continue
        if take.engine:
            takes.append(take.provenance)
        else:
            takes.append({"engine": "", "kind": take.kind, "name": take.name})
    return provenance_document(takes, kind="mixdown", project=project.name)


def prepare_export(project: Any, mix: Any) -> tuple[Any, dict[str, Any]]:
    """The mixdown to write and its provenance document.

    A mix that contains generated audio is watermarked as a whole (when the project's
    setting is on), so the mark survives even where a generated take sits under louder
    imported material; a mix the decoder already reads as marked is left as it is, and a
    mix of imported audio only is never marked.
    """
    from engines.watermark import THRESHOLD, embed, raw_score

    document = export_document(project)
    generated = any(t.get("engine") for t in document["takes"])
    marked = generated and watermark_enabled(project)
    if marked:
        score = raw_score(mix)
        if score < THRESHOLD:  # marking an already marked mix again only costs quality
            mix = embed(mix)
            score = raw_score(mix)
        document["watermark_score"] = round(score, 4)
    document["watermarked"] = marked
    return mix, document


def watermark_setting_at(path: Any) -> bool | None:
    """The setting of the project at ``path`` without keeping it open (None: no project
    given, or the project follows the user setting), for commands that generate first and
    store afterwards."""
    if not path:
        return None
    from desktop.project.store import Project

    with Project.open(path) as project:
        return project_watermark(project)


IN_MEMORY_SECONDS = 600.0  # mixes up to this long are watermarked in memory, as always


def prepare_export_stream(
    project: Any, stream: Any, progress: Any = None, cancel: Any = None
) -> tuple[Any, dict[str, Any], Path | None]:
    """:func:`prepare_export` for a mix of any length, as an ``AudioStream``.

    Short mixes go through :func:`prepare_export` itself (the same file as before); longer
    ones are judged and marked window by window (``engines.watermark.embed_stream``) and
    the marked mix is spooled to a temporary float WAV, returned third for the caller to
    delete, so the model runs once per window whatever the length.
    """
    from engines.cancel import no_progress
    from engines.stream import AudioStream, spool, watched
    from engines.watermark import THRESHOLD, embed_stream, raw_score_stream

    progress = progress or no_progress
    document = export_document(project)
    generated = any(t.get("engine") for t in document["takes"])
    if not (generated and watermark_enabled(project)):
        document["watermarked"] = False
        return stream, document, None
    if stream.duration <= IN_MEMORY_SECONDS:
        mix, document = prepare_export(project, watched(stream, "mixing", progress, cancel).clip())
        return AudioStream.from_clip(mix), document, None
    score = raw_score_stream(watched(stream, "checking the watermark", progress, cancel))
    spooled = None
    if score < THRESHOLD:  # marking an already marked mix again only costs quality
        spooled = spool(embed_stream(stream), stage="watermarking", progress=progress, cancel=cancel)
        stream = AudioStream.from_file(spooled)
        try:
            score = raw_score_stream(watched(stream, "checking the watermark", progress, cancel))
        except BaseException:
            spooled.unlink(missing_ok=True)
            raise
    document["watermark_score"] = round(score, 4)
    document["watermarked"] = True
    return stream, document, spooled
