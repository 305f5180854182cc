"""The registry of engines: what exists, whether it can run here, and why not.

Availability checks are cheap (package metadata and the model store), never importing
torch, so ``timbre engines`` and the window's panels can ask at any time. Engines are built
from an import path only when first used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engines.errors import EngineError, ModelMissing


@dataclass(frozen=True)
class EngineInfo:
    name: str
    label: str
    kind: str  # "music" | "sfx" | "speech" | "clone" | "analysis" | "watermark"
    available: bool
    reason: str = ""


@dataclass(frozen=True)
class EngineSpec:
    """How to find and build one engine. ``factory`` is "module:Class"."""

    name: str
    label: str
    kind: str
    factory: str
    check: Callable[[], str | None] = field(default=lambda: None)  # reason when unavailable
    options: dict[str, Any] = field(default_factory=dict)

    def info(self) -> EngineInfo:
        try:
            reason = self.check()
        except Exception as exc:  # noqa: BLE001 - a broken check must not hide the others
            reason = f"could not check: {exc}"
        return EngineInfo(self.name, self.label, self.kind, reason is None, reason or "")


_SPECS: dict[str, EngineSpec] = {}


def register(spec: EngineSpec) -> EngineSpec:
    _SPECS[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Remove an engine (a plug-in being unloaded, or a test's own engine)."""
    _SPECS.pop(name, None)


def specs() -> list[EngineSpec]:
    _load_catalog()
    return list(_SPECS.values())


def spec(name: str) -> EngineSpec:
    _load_catalog()
    try:
        return _SPECS[name]
    except KeyError:
        known = ", ".join(sorted(_SPECS)) or "none"
        raise EngineError(f"There is no engine called '{name}'. Known engines: {known}.") from None


def engine_infos(kind: str | None = None) -> list[EngineInfo]:
    return [s.info() for s in specs() if kind is None or s.kind == kind]


def create(name: str, **kwargs: Any) -> Any:
    """Build an engine instance (not loaded yet) or raise why it cannot run.

    The one way engines are made. With an explicit ``model`` the family check ("is any
    model of this family installed?") does not apply: the engine itself says on loading
    whether the chosen model (e.g. the always-present debug one) is there.
    """
    s = spec(name)
    info = s.info()
    if not info.available and kwargs.get("model") is None:
        raise ModelMissing(f"{s.label}: {info.reason}")
    module_name, _, class_name = s.factory.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls(**{**s.options, **kwargs})


_catalog_loaded = False


def _load_catalog() -> None:
    global _catalog_loaded
    if not _catalog_loaded:
        _catalog_loaded = True
        importlib.import_module("engines.catalog")
