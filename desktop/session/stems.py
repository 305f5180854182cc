"""Stems and denoise on a project: what is separated or cleaned, the job, and where the
results go. One implementation for ``timbre stems`` and the studio's "Separate stems…" and
"Denoise…" (which run the slow half on a worker, the edit on the GUI thread).

Separation: the source is what the user hears — a clip (its gain and fades), a track alone
(every clip on it, mute/solo ignored) or the whole mix — rendered to one clip; demucs makes
one take per stem (a job row records it), and each stem becomes a new track under the
source's, all in ONE undoable edit (:meth:`Timeline.add_tracks_with_takes`), so one Undo
takes the stems away again. Denoise replaces each clip's audio in place with a cleaned copy
of what the clip played (:meth:`Timeline.replace_clip_audio`), again one undoable edit.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from engines.audio import AudioClip
from engines.cancel import CancelToken, ProgressCallback, no_progress


@dataclass(frozen=True)
class StemSource:
    clip: AudioClip
    start: int  # where it starts on the timeline, in project frames
    name: str  # the track or clip it came from, for the stems' names
    after_track: int | None = None  # stems go below this track (None: at the end)
    take_ids: tuple[int, ...] = ()  # the takes heard in it (whose provenance carries over)


def derived_provenance(project: Any, take_ids: tuple[int, ...], model_id: str,
                       params: dict[str, Any]) -> Any:
    """The provenance of audio processed from ``take_ids`` (stems, a denoised copy).

    Separating or cleaning the user's own recording does not make it generated audio, so
    such a take has no engine in its record (exports neither call it generated nor
    watermark it); the tool that made it stays in ``model_id``/``params``. Audio made from
    a generated take keeps that take's record (engine, model, prompt, consent), so a
    generated voice stays marked as generated whatever is done to it afterwards."""
    from engines.provenance import Provenance

    for take_id in take_ids:
        take = project.take(take_id)
        if take.engine:
            base = Provenance.from_dict(take.provenance)
            return dataclasses.replace(base, params={**base.params, "processed": {
                "tool": model_id, **params}})
    return Provenance(engine="", model_id=model_id, params=params)


@dataclass
class StemTakes:
    """Separated and stored; not on the timeline yet (see :func:`place_stems`)."""

    source: StemSource
    takes: list[Any] = field(default_factory=list)  # Take rows, one per stem
    stems: list[str] = field(default_factory=list)
    job_id: int | None = None


def _render(project: Any, tracks: list[Any]) -> AudioClip:
    from engines.mixing import mixdown

    return mixdown(tracks, project.sample_rate, project.channels)


def track_source(project: Any, track_id: int) -> StemSource:
    """The track alone, from its first clip to its last (gains and fades as heard)."""
    from desktop.project.errors import ProjectError

    tracks = project.tracks()
    index = next((i for i, t in enumerate(tracks) if t.id == track_id), None)
    if index is None:
        raise ProjectError(f"There is no track {track_id} in {project.name}.")
    clips = project.clips(track_id)
    if not clips:
        raise ProjectError(f"Track '{tracks[index].name}' has no clips to separate.")
    first = min(c.start_frame for c in clips)
    mixed = project.mix_tracks()[index]
    shifted = [dataclasses.replace(c, start=c.start - first) for c in mixed.clips]
    alone = dataclasses.replace(mixed, clips=shifted, mute=False, solo=False, gain_db=0.0, pan=0.0)
    return StemSource(_render(project, [alone]), first, tracks[index].name, track_id,
                      tuple(c.take_id for c in clips))


def clip_source(project: Any, clip_id: int) -> StemSource:
    """One clip as it plays (its part of its take, gain and fades)."""
    clip = project.clip(clip_id)
    tracks = project.tracks()
    index = next(i for i, t in enumerate(tracks) if t.id == clip.track_id)
    mixed = project.mix_tracks()[index]
    ours = [c for c, row in zip(mixed.clips, project.clips(clip.track_id), strict=True)
            if row.id == clip_id]
    alone = dataclasses.replace(mixed, clips=[dataclasses.replace(ours[0], start=0)],
                                mute=False, solo=False, gain_db=0.0, pan=0.0)
    name = project.take(clip.take_id).name
    return StemSource(_render(project, [alone]), clip.start_frame, name, clip.track_id,
                      (clip.take_id,))


def mix_source(project: Any) -> StemSource:
    """The whole mix as it plays (mute and solo honoured)."""
    from engines.errors import BadInput

    if not project.clips():
        raise BadInput(f"{project.name} has nothing on its timeline to separate.")
    return StemSource(project.mixdown(), 0, project.name,
                      take_ids=tuple(sorted({c.take_id for c in project.clips()})))


def separate_to_takes(
    project: Any,
    source: StemSource,
    model: str | None = None,
    two_stems: str | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    engine: Any | None = None,
) -> StemTakes:
    """Run demucs on ``source`` and store one take per stem ("vocals · Song"); the job row
    ends done, cancelled or failed like every job's. Safe on a worker thread."""
    from desktop.session.jobs import (
        JobSpec,
        create_engine,
        end_job,
        request_record,
        run_job,
        store_takes,
    )
    from engines.errors import Cancelled
    from engines.stems.engine import StemRequest

    request = StemRequest(source.clip, two_stems, source.name)
    options = {"model": model}
    job_id = project.create_job("stems", "demucs", {**request_record(request), **options})
    result = StemTakes(source, job_id=job_id)
    try:
        engine = engine if engine is not None else create_engine("demucs", options)
        spec = JobSpec("demucs", "stems", request, source.name, options, watermark=False)
        outcome = run_job(spec, None, engine=engine, progress=progress, cancel=cancel)
        for take in outcome.takes:
            stem = take.provenance.params["stem"]
            prov = take.provenance
            take.provenance = derived_provenance(project, source.take_ids, prov.model_id, {
                **prov.params, "model_version": prov.model_version, "licence": prov.licence})
            stored, _ = store_takes(project, [take], "stems", f"{stem} · {source.name}", job_id)
            result.takes += stored
            result.stems.append(stem)
        project.update_job(job_id, state="done", progress=1.0)
    except BaseException as exc:
        state = "cancelled" if isinstance(exc, Cancelled | KeyboardInterrupt) else "failed"
        end_job(project, job_id, state, str(exc) or type(exc).__name__)
        raise
    return result


def place_stems(timeline: Any, result: StemTakes) -> list[int]:
    """Each stem on a new track under the source's, where the source starts: one edit."""
    src = result.source
    items = [(f"{src.name} · {stem}", take.id, src.start)
             for stem, take in zip(result.stems, result.takes, strict=True)]
    label = f"Separate stems of {src.name}"
    return timeline.add_tracks_with_takes(items, label, after_track=src.after_track)


# ---- denoise ---------------------------------------------------------------------------
def denoise_to_takes(
    project: Any,
    clip_ids: list[int],
    method: str = "rnnoise",
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> dict[int, int]:
    """Each clip's audio as it plays (its part of its take, before gain and fades, which the
    clip keeps) cleaned by ``method`` and stored as a take: clip id → new take id. Safe on
    a worker thread; :meth:`Timeline.replace_clip_audio` puts them in place."""
    from engines.cancel import Progress
    from engines.podcast.denoise import denoise_clip

    out: dict[int, int] = {}
    for i, clip_id in enumerate(clip_ids):
        clip = project.clip(clip_id)
        take = project.take(clip.take_id)
        audio = project.load_audio(take.audio_sha256).resampled(project.sample_rate)
        part = AudioClip(audio.samples[:, clip.offset_frame : clip.offset_frame + clip.length_frames],
                         project.sample_rate)

        def sub(p: Progress, i: int = i) -> None:
            progress(Progress(i + p.fraction, len(clip_ids), p.stage))

        cleaned = denoise_clip(part, method, progress=sub, cancel=cancel)
        prov = derived_provenance(project, (take.id,), method,
                                  {"denoise": method, "from_take": take.id})
        stored = project.add_take(cleaned, f"{take.name} (denoised)", take.kind, provenance=prov)
        out[clip_id] = stored.id
    return out


def clips_of(project: Any, track_id: int | None = None, clip_id: int | None = None) -> list[int]:
    """The clips an action on a clip or a track covers."""
    if clip_id is not None:
        return [clip_id]
    return [c.id for c in project.clips(track_id)]
