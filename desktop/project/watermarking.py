"""A project's watermark setting, kept in the project's meta.

On by default: a project follows the user-level ``watermark`` setting until it is set
explicitly, so turning it off is a deliberate choice recorded with the project (and each
take still records whether it was marked).
"""

from __future__ import annotations

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
