"""Writers of the income-report side of households: the watch-list flag on a household."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from ..models import Household


@transaction.atomic
def households_flag_income_decline(*, household_ids: Iterable[int]) -> int:
    """Set 收入下降户 on these households (the watch list's evidence is in WatchListEntry).

    The flag is only ever set here; lifting it is a person's decision in the registry.
    """
    ids = list(household_ids)
    if not ids:
        return 0
    updated = 0
    for start in range(0, len(ids), 900):
        updated += Household.objects.filter(pk__in=ids[start:start + 900], flag_income_decline=False).update(
            flag_income_decline=True, updated_at=timezone.now()
        )
    return updated
