"""One error hierarchy for the project store; messages are written for users."""

from __future__ import annotations

from engines.errors import TimbreError


class ProjectError(TimbreError):
    """Base of every error the project store raises on purpose."""


class ProjectNotFound(ProjectError):
    pass


class ProjectExists(ProjectError):
    pass


class SchemaTooNew(ProjectError):
    pass


class ProjectCorrupt(ProjectError):
    pass


class ProjectReadOnly(ProjectError):
    pass


class ProjectBusy(ProjectError):
    """Another program kept the project's database locked for longer than we wait."""


class ProjectDamaged(ProjectCorrupt):
    """The database failed its integrity check: opened read-only, nothing is deleted."""
