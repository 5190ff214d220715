"""Reads of the registry: listing, search and export share ``household_list``."""

from __future__ import annotations

from django.db.models import QuerySet

from .access import households_visible_to
from .filters import HouseholdFilterSet, household_search
from .models import Household


def household_list(*, user, filters: dict | None = None, search: str = "", full_id: bool = True) -> QuerySet[Household]:
    """Households ``user`` may see (households/access.py) matching the listing filters
    (``HouseholdFilterSet`` fields) and the search (``full_id``: whether the searcher may match
    more than the last four ID digits)."""
    queryset = households_visible_to(user).select_related("village__township").order_by("number")
    filterset = HouseholdFilterSet(data=filters or {}, queryset=queryset, user=user)
    if not filterset.is_valid():
        # A filter that cannot be read must not widen the result (an export would leak everything).
        return queryset.none()
    return household_search(filterset.qs, search, full_id=full_id)


def household_numbers_by_id_number(id_numbers) -> dict[str, list[tuple[int, str]]]:
    """The households (pk, registry number) holding each of ``id_numbers``, in chunks of a few
    thousand (well under the databases' parameter limits)."""
    wanted = sorted(set(id_numbers))
    holders: dict[str, list[tuple[int, str]]] = {}
    for start in range(0, len(wanted), 2000):
        rows = Household.objects.filter(id_number__in=wanted[start : start + 2000]).values_list("id_number", "pk", "number")
        for id_number, pk, number in rows.order_by("number"):
            holders.setdefault(id_number, []).append((pk, number))
    return holders
