"""Writers of the income-report side of households: the set-based ledger append settlement uses,
and the watch-list flag on a household.

``income_entries_append_select`` belongs with the other ledger writers in households/services.py;
it lives here until that module takes it over (households/services.py is another engineer's).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection, transaction
from django.utils import timezone

from ..models import Household, IncomeEntry, IncomeKind

LEDGER_COLUMNS = (
    "household_id", "kind", "amount", "date", "produce", "source_type", "source_code", "source_detail",
    "reason", "author_id", "created_at",
)


def income_entries_append_select(*, select_sql: str, params: Sequence = ()) -> int:
    """Append the income entries a SELECT produces, in one statement (set-based, no rows in Python).

    ``select_sql`` returns the columns of LEDGER_COLUMNS in that order; amounts must already be
    in fen-exact yuan (the caller split them in fen). Unknown kinds are refused by the statement
    itself (they are not inserted). Returns the number of entries written.
    """
    table = IncomeEntry._meta.db_table
    kinds = ", ".join(f"'{k}'" for k in IncomeKind.values)
    cols = ", ".join(LEDGER_COLUMNS)
    sql = f"INSERT INTO {table} ({cols}) SELECT {cols} FROM ({select_sql}) AS new_entries WHERE kind IN ({kinds})"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


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
