"""Figures other apps show beside a household's income (love points: the card's balance).

Households never imports those apps: each registers ``fn(household) -> dict | None`` from its
``AppConfig.ready()``; the dict has ``label``, ``value`` and optionally ``url`` (a page about it).
"""

from __future__ import annotations

from collections.abc import Callable

_FIGURES: list[Callable] = []


def register_household_figure(fn: Callable) -> Callable:
    if fn not in _FIGURES:
        _FIGURES.append(fn)
    return fn


def household_figures(household) -> list[dict]:
    return [figure for figure in (fn(household) for fn in _FIGURES) if figure]
