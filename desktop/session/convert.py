"""Convert voice…: a clip of the timeline re-spoken in a library voice (Chatterbox VC).

The two halves of the studio's action, as for stems (:mod:`desktop.session.stems`): the
conversion runs as a job through :func:`desktop.session.run_job` on a worker — consent
checked, watermarked once, provenance with the consent recording, the take stored — and
placing it is one undoable timeline edit on the GUI thread: a new track under the clip's,
starting where the clip starts, so original and converted line up for comparison.
``timbre convert`` runs the same job on a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from desktop.session.stems import StemSource
from engines.cancel import CancelToken, ProgressCallback, no_progress


@dataclass
class ConvertedTake:
    """Converted and stored; not on the timeline yet (see :func:`place_converted`)."""

    source: StemSource
    voice: str
    take: Any  # desktop.project.models.Take


def consented_voices() -> list[str]:
    """The library voices a recording can be converted to (those with consent)."""
    from engines.voices.library import open_library

    return [v.name for v in open_library().voices() if v.has_consent]


def convert_to_take(
    project: Any,
    clip_id: int,
    voice: str,
    model: str | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    engine: Any | None = None,
) -> ConvertedTake:
    """Re-speak the clip ``clip_id`` in ``voice`` and store the take (the job row ends like
    every job's). Safe on a worker thread; refused without the voice's consent, and a clip
    longer than conversion takes is refused from its length before it is rendered (a
    10-hour clip would otherwise be mixed into memory first)."""
    from desktop.session.jobs import JobSpec, run_job
    from desktop.session.stems import clip_source
    from engines.errors import BadInput
    from engines.speech.chatterbox_vc import (
        ENGINE_NAME,
        MAX_SOURCE_S,
        ChatterboxConverter,
        clip_request,
    )

    seconds = project.clip(clip_id).length_frames / project.sample_rate
    if seconds > MAX_SOURCE_S:
        raise BadInput(f"That clip is {seconds / 60:.0f} minutes long; convert at most "
                       f"{MAX_SOURCE_S / 60:.0f} minutes at a time (split it first).")
    source = clip_source(project, clip_id)
    request = clip_request(source.clip, source.name, voice)
    spec = JobSpec(ENGINE_NAME, "speech", request, f"{source.name} as {voice}")
    engine = engine if engine is not None else ChatterboxConverter(model)
    outcome = run_job(spec, project, engine=engine, progress=progress, cancel=cancel)
    return ConvertedTake(source, voice, outcome.stored[0])


def place_converted(timeline: Any, result: ConvertedTake) -> list[int]:
    """The converted take on a new track under the source's, where the source starts."""
    src = result.source
    item = (f"{src.name} as {result.voice}", result.take.id, src.start)
    return timeline.add_tracks_with_takes([item], f"Convert {src.name} to {result.voice}",
                                          after_track=src.after_track)
