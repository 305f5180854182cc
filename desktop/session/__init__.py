"""The application layer: what a user can ask the studio to do, with no Qt in it.

The command line and the studio window both go through here, so a job behaves the same
wherever it is started: one function (:func:`run_job`) takes a request to stored, placed
takes — job row, engine from the registry, progress, cancel, watermark decision,
provenance, resampling to the project's format, job state.
"""

from desktop.session.jobs import (
    JobOutcome,
    JobSpec,
    create_engine,
    end_job,
    run_job,
    store_takes,
)

__all__ = ["JobOutcome", "JobSpec", "create_engine", "end_job", "run_job", "store_takes"]
