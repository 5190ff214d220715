"""Who may see which part of the registry (the access policy for households/, see core.access).

The county office sees every township, village and household. Anyone else sees the villages a
rule registered for their role gives them — and the households and townships of those villages.
Which villages a collection point serves or a station's township holds is logistics' data, so
logistics registers that rule (``villages_visible_to.extend``); a village staff role would do the
same from wherever its assignment lives. With no rule for a role (the supermarket, an employee),
the registry is empty to it.

Income reports, a household's income page and the watch list are the county office's alone.
"""

from __future__ import annotations

from core import roles
from core.access import Scope, scoped_perms

from .models import Household, IncomeEntry, Township, Village, WatchListEntry

villages_visible_to = Scope(Village, name="villages_visible_to")
"""Villages ``user`` may see. Extend with ``villages_visible_to.extend(rule)``; ``rule(user)``
returns a Village queryset, or None when the rule does not apply to that user."""


def _households_of_visible_villages(user):
    if not villages_visible_to.applies_to(user):
        return None
    return Household.objects.filter(village__in=villages_visible_to(user))


def _townships_of_visible_villages(user):
    if not villages_visible_to.applies_to(user):
        return None
    return Township.objects.filter(pk__in=villages_visible_to(user).values("township_id"))


households_visible_to = Scope(Household, _households_of_visible_villages, name="households_visible_to")
"""Households ``user`` may see: those of the villages they may see."""

townships_visible_to = Scope(Township, _townships_of_visible_villages, name="townships_visible_to")
"""Townships of the villages ``user`` may see."""

income_entries_visible_to = Scope(IncomeEntry, name="income_entries_visible_to")
"""The income ledger: the county office's."""

watch_list_visible_to = Scope(WatchListEntry, name="watch_list_visible_to")
"""The income-decline watch list: the county office's."""


def may_view_income_reports(user) -> bool:
    """The income report, a household's income page and API, the watch list: county office only."""
    return roles.is_county_office(user)


scoped_perms(households_visible_to)
scoped_perms(villages_visible_to)
scoped_perms(townships_visible_to)
scoped_perms(watch_list_visible_to, actions=("view",))
