"""One job lifecycle for every generating command and the studio.

request → job row (queued → running) → engine (built through the registry, or the
caller's already-loaded one) → generate under the watermark decision → every take resampled
to the project's rate and channels → stored (audio, then rows, in one transaction each) →
optionally placed on a new track → job row done / cancelled / failed with the reason.

Why one function: the copies this replaced behaved differently (one made no job row, one
did not resample, one placed nothing), and a fix made in one never reached the others.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from engines.cancel import CancelToken, ProgressCallback, no_progress
from engines.errors import Cancelled
from engines.provenance import GeneratedTake

Placement = Literal["none", "new-track"]


@dataclass(frozen=True)
class JobSpec:
    """What to run: an engine by registry name, its request, and how the takes are named."""

    engine: str
    kind: str  # music | sfx | speech
    request: Any
    label: str
    options: dict[str, Any] = field(default_factory=dict)  # engine constructor options
    watermark: bool | None = None  # None: the project's setting (or the user's)


@dataclass
class JobOutcome:
    takes: list[GeneratedTake]
    stored: list[Any] = field(default_factory=list)  # desktop.project.models.Take rows
    job_id: int | None = None
    track_id: int | None = None


def create_engine(name: str, options: dict[str, Any] | None = None,
                  device: str | None = None) -> Any:
    """The one way an engine instance is made (the registry decides what can run)."""
    from engines.registry import create

    return create(name, **{**(options or {}), **({"device": device} if device else {})})


def request_record(request: Any) -> dict[str, Any]:
    """A JSON-friendly copy of a request for the job row (audio and arrays left out)."""
    if hasattr(request, "to_record"):
        return dict(request.to_record())
    if not dataclasses.is_dataclass(request):
        return {}
    out: dict[str, Any] = {}
    for f in dataclasses.fields(request):
        value = getattr(request, f.name)
        if isinstance(value, str | int | float | bool) or value is None:
            out[f.name] = value
        elif isinstance(value, list | tuple) and all(isinstance(v, str | int | float) for v in value):
            out[f.name] = list(value)
        else:
            out[f.name] = type(value).__name__
    return out


def run_job(
    spec: JobSpec,
    project: Any | None = None,
    *,
    engine: Any | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    place: Placement = "none",
    track_name: str | None = None,
    job_id: int | None = None,
    takes: list[GeneratedTake] | None = None,
) -> JobOutcome:
    """Run one job to stored takes; the project's job row always ends done/cancelled/failed.

    ``engine`` lets a caller that keeps engines loaded (the studio's engine threads) pass
    its instance; otherwise one is made through the registry. ``job_id`` is a job row the
    caller already created (the studio shows it queued before the job starts). ``takes``
    are takes already made elsewhere by :func:`make_takes` (a batch worker process or a
    Ray node): they are recorded and stored exactly as if generated here.
    """
    watermark = job_watermark(spec, project)
    if project is not None and job_id is None:
        job_id = project.create_job(
            spec.kind, spec.engine, {**request_record(spec.request), **spec.options}
        )
    try:
        if project is not None:
            project.update_job(job_id, state="running")
        if takes is None:
            takes = make_takes(spec, engine, watermark, progress, cancel)
        if cancel is not None:
            cancel.check()
        outcome = JobOutcome(takes, job_id=job_id)
        if project is not None:
            outcome.stored, outcome.track_id = store_takes(
                project, takes, spec.kind, spec.label, job_id, place, track_name
            )
            project.update_job(job_id, state="done", progress=1.0)
        return outcome
    except BaseException as exc:
        if project is not None and job_id is not None:
            state = "cancelled" if isinstance(exc, Cancelled | KeyboardInterrupt) else "failed"
            end_job(project, job_id, state, str(exc) or type(exc).__name__)
        raise


def job_watermark(spec: JobSpec, project: Any | None = None) -> bool | None:
    """Whether a job's takes are watermarked: the spec's choice, else the project's
    setting; None leaves it to the user's setting (read where the takes are made)."""
    if project is not None and spec.watermark is None:
        from desktop.project.provenance import watermark_enabled

        return watermark_enabled(project)
    return spec.watermark


def make_takes(spec: JobSpec, engine: Any | None, watermark: bool | None,
               progress: ProgressCallback = no_progress,
               cancel: CancelToken | None = None) -> list[GeneratedTake]:
    """The generating half of a job (no project): load, generate under the watermark
    decision. Batch workers call it where the model is; the driver stores what it returns."""
    from engines.openmp import fitted_threads
    from engines.watermark import watermarking

    engine = engine if engine is not None else create_engine(spec.engine, spec.options)
    if not getattr(engine, "loaded", True):
        engine.load(progress, cancel)
    with watermarking(watermark), fitted_threads():  # the cores other programs leave free
        return list(engine.generate(spec.request, progress, cancel))


def end_job(project: Any, job_id: int, state: str, error: str) -> None:
    """Record how a job ended without hiding the error that ended it (a full disk or a
    busy database must not replace the user's real message)."""
    from desktop.project.errors import ProjectError

    try:
        project.update_job(job_id, state=state, error=error)
    except ProjectError:
        pass


def store_takes(
    project: Any,
    takes: list[GeneratedTake],
    kind: str,
    label: str,
    job_id: int | None = None,
    place: Placement = "none",
    track_name: str | None = None,
) -> tuple[list[Any], int | None]:
    """Store generated takes in the project's format; returns the rows and the new track.

    Variations are told apart by " (n)" at the *start* of what is cut, so a long label
    never hides which variation a take is.
    """
    from desktop.project.timeline import Timeline

    stored = []
    track_id = None
    try:
        for i, take in enumerate(takes):
            clip = take.clip.resampled(project.sample_rate).with_channels(project.channels)
            name = label if len(takes) == 1 else f"({i + 1}) {label}"
            if place == "new-track" and track_id is None:
                track_id = Timeline(project).add_track(track_name or label[:40])
            stored.append(
                project.add_take(clip, name, kind, provenance=take.provenance, job_id=job_id,
                                 place_on_track=track_id, at_frame=0)
            )
    except BaseException:
        if track_id is not None and not stored:  # a full disk must not leave an empty track
            _drop_empty_track(project, track_id)
        raise
    return stored, track_id


def _drop_empty_track(project: Any, track_id: int) -> None:
    from desktop.project.errors import ProjectError

    try:
        if not project.clips(track_id):
            project.apply_changes([("tracks", track_id, project.row("tracks", track_id), None)])
    except ProjectError:
        pass
