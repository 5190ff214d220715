"""The registry of reconciliation checks that ``python manage.py reconcile`` runs.

A check is a function ``fn() -> list[str]`` (the problems found, each naming what is out of
balance) registered under a name with ``@register_check("name")``. Each app registers its own
from its ``AppConfig.ready()`` or its reconcile module; the registry lives in core so that an app
outside the produce chain (love points) can register without importing logistics.

A derived table (a summary kept beside a ledger) may also register a rebuild ``fn() -> int``
with ``@register_rebuild("name")``: ``reconcile --rebuild name`` recomputes it from its ledger.
"""

from __future__ import annotations

from collections.abc import Callable

Check = Callable[[], list[str]]
_CHECKS: dict[str, Check] = {}
Rebuild = Callable[[], int]
_REBUILDS: dict[str, Rebuild] = {}


def register_check(name: str) -> Callable[[Check], Check]:
    """Register ``fn() -> list[str]`` under ``name`` (a later registration of the name replaces it)."""

    def decorator(fn: Check) -> Check:
        _CHECKS[name] = fn
        return fn

    return decorator


def registered_checks() -> dict[str, Check]:
    return dict(_CHECKS)


def run_checks(names: list[str] | None = None) -> dict[str, list[str]]:
    """{check name: problems} for the named checks (all by default)."""
    chosen = names or list(_CHECKS)
    unknown = [n for n in chosen if n not in _CHECKS]
    if unknown:
        raise KeyError(f"unknown checks: {', '.join(unknown)}")
    return {name: list(_CHECKS[name]()) for name in chosen}


def register_rebuild(name: str) -> Callable[[Rebuild], Rebuild]:
    """Register ``fn() -> int`` (rows written) that recomputes a derived table from its ledger."""

    def decorator(fn: Rebuild) -> Rebuild:
        _REBUILDS[name] = fn
        return fn

    return decorator


def registered_rebuilds() -> dict[str, Rebuild]:
    return dict(_REBUILDS)


def rebuild(name: str) -> int:
    if name not in _REBUILDS:
        raise KeyError(f"unknown rebuild: {name}")
    return _REBUILDS[name]()
