"""One error hierarchy for the project store; messages are written for users."""

from __future__ import annotations


class ProjectError(Exception):
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
