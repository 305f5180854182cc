"""The one error tree of Timbre Studio.

Every message is written for the person using the studio: what happened, which file, and
what to do next. The GUI shows ``str(error)`` as a one-line notification and the CLI prints
it; catching :class:`TimbreError` catches every error raised on purpose::

    TimbreError
    ├── EngineError                 engines/ (this module)
    │   ├── ModelMissing
    │   ├── DeviceUnavailable
    │   ├── OutOfMemory             .device: the one that ran out
    │   ├── BadInput
    │   └── Cancelled
    └── ProjectError                desktop/project/errors.py
        ├── ProjectNotFound, ProjectExists, SchemaTooNew, ProjectReadOnly, ProjectBusy
        └── ProjectCorrupt
            └── ProjectDamaged      failed its integrity check: opened read-only

The root lives here because the engine layer must not import the desktop app.
"""

from __future__ import annotations


class TimbreError(Exception):
    """Root of every error Timbre Studio raises on purpose (message written for users)."""


class EngineError(TimbreError):
    """Base of every error the engine layer raises on purpose."""


class ModelMissing(EngineError):
    """The weights an engine needs are not installed."""


class DeviceUnavailable(EngineError):
    """The compute device asked for (setting or ``TIMBRE_DEVICE``) cannot be used."""


class OutOfMemory(EngineError):
    """The device ran out of memory, even after any fallback that was allowed.

    ``device`` is the one that ran out: engines that already fall back to the CPU raise
    this with ``"cpu"``, and then offering "Retry on CPU" would only load a second copy.
    """

    def __init__(self, message: str, device: str = "cpu") -> None:
        super().__init__(message)
        self.device = device


class BadInput(EngineError):
    """The user's input (file, text, parameter) cannot be used as it is."""


class Cancelled(EngineError):
    """The user cancelled the job; nothing partial was kept."""

    def __init__(self, message: str = "Cancelled.") -> None:
        super().__init__(message)
