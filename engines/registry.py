"""The registry of engines: what exists, whether it can run here, and why not.

Availability checks are cheap (package metadata and the model store), never importing
torch, so ``timbre engines`` and the window's panels can ask at any time. Engines are built
from an import path only when first used.
"""

from __future__ import annotations

import importlib
from typing import Any

from engines.base import EngineInfo, EngineSpec
from engines.errors import EngineError, ModelMissing

__all__ = ["EngineInfo", "EngineSpec", "create", "engine_class", "engine_infos", "register",
           "request_type", "spec", "specs", "unregister"]


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
    return engine_class(name)(**{**s.options, **kwargs})


def engine_class(name: str) -> type:
    """The engine's class, imported from its spec (cheap for most; no weights loaded)."""
    module_name, _, class_name = spec(name).factory.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def request_type(name: str) -> type:
    """The request dataclass an engine's ``generate`` takes, without building the engine."""
    import typing

    cls = engine_class(name)
    declared = getattr(cls, "request_type", None)
    if declared is None:
        try:
            declared = typing.get_type_hints(cls.generate).get("request")
        except Exception:  # noqa: BLE001 - unresolvable annotations: say so below
            declared = None
    if not isinstance(declared, type):
        raise EngineError(f"The engine '{name}' does not say what settings it takes "
                          "(no request_type).")
    return declared


_catalog_loaded = False


def _load_catalog() -> None:
    """Add the built-in engines on first use (a plug-in registered earlier keeps its name)."""
    global _catalog_loaded
    if not _catalog_loaded:
        _catalog_loaded = True
        from engines.catalog import CATALOG

        for entry in [*CATALOG, *_plugins()]:
            _SPECS.setdefault(entry.name, entry)


PLUGIN_GROUP = "timbre.engines"


def _plugins() -> list[EngineSpec]:
    """Engines other packages offer through the ``timbre.engines`` entry-point group: each
    entry point names an ``EngineSpec`` (or a list of them). A broken plug-in is listed as
    unavailable with the reason, never hides the others."""
    from importlib.metadata import entry_points

    found: list[EngineSpec] = []
    for point in entry_points(group=PLUGIN_GROUP):
        try:
            loaded = point.load()
            found.extend(loaded if isinstance(loaded, list | tuple) else [loaded])
        except Exception as exc:  # noqa: BLE001 - one broken plug-in must not stop the studio
            reason = f"the plug-in could not be loaded ({type(exc).__name__}: {exc})"
            found.append(EngineSpec(point.name, point.value, "plugin", point.value,
                                    check=lambda reason=reason: reason))
    return found
