"""Every engine the studio knows, registered with a cheap availability check.

Each engine module registers its specs here by name and import path; the engine code itself
(and torch) is imported only when the engine is created.
"""

from __future__ import annotations

from engines.registry import EngineSpec, register  # noqa: F401 - used by the entries below

# Engine issues add their entries below, one block per engine family.
