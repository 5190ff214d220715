"""The only writers of the registry and the household income ledger."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal

from django.db import connection, transaction

from core.errors import DomainError
from core.money import yuan

from .models import Household, IncomeEntry, IncomeKind
from .signals import income_entry_reversed


class LedgerError(DomainError):
    pass


@transaction.atomic
def household_save(*, household: Household, author=None) -> Household:
    """Validate and save a household (create or edit); the admin and the import call this."""
    household.full_clean()
    household.save()
    return household


def income_entry_record(
    *,
    household: Household | int,
    kind: str,
    amount: Decimal,
    date: datetime.date,
    source_type: str,
    source_code: str,
    produce: str = "",
    source_detail: dict | None = None,
    author=None,
) -> IncomeEntry:
    """Append one income entry. Amounts are rounded to the fen here and nowhere else."""
    if kind not in IncomeKind.values:
        raise LedgerError(f"unknown income kind {kind!r}")
    household_id = household if isinstance(household, int) else household.pk
    return IncomeEntry.objects.create(
        household_id=household_id,
        kind=kind,
        amount=yuan(amount),
        date=date,
        produce=produce,
        source_type=source_type,
        source_code=source_code,
        source_detail=source_detail or {},
        author=author,
    )


def income_entries_record_bulk(*, entries: list[IncomeEntry], batch_size: int = 5000) -> int:
    """Append many prepared (unsaved) entries in one statement per batch; settlement uses this."""
    for e in entries:
        if e.pk is not None:
            raise LedgerError("bulk entries must be new")
        e.amount = yuan(e.amount)
    IncomeEntry.objects.bulk_create(entries, batch_size=batch_size)
    return len(entries)


@transaction.atomic
def income_entry_reverse(*, entry: IncomeEntry, reason: str, author=None, date: datetime.date | None = None) -> IncomeEntry:
    """Write the reversing entry of ``entry`` (once: a second reversal is refused)."""
    if not reason.strip():
        raise LedgerError("a reversal needs a reason")
    entry = IncomeEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.reverses_id is not None:
        raise LedgerError("a reversal cannot itself be reversed")
    if IncomeEntry.objects.filter(reverses=entry).exists():
        raise LedgerError("this entry has already been reversed")
    reversal = IncomeEntry.objects.create(
        household_id=entry.household_id,
        kind=entry.kind,
        amount=-entry.amount,
        date=date or datetime.date.today(),
        produce=entry.produce,
        channel=entry.channel,
        source_type=entry.source_type,
        source_code=entry.source_code,
        source_detail=entry.source_detail,
        reverses=entry,
        reason=reason,
        author=author,
    )
    income_entry_reversed.send(sender=IncomeEntry, entry=reversal)
    return reversal


LEDGER_COLUMNS = (
    "household_id", "kind", "amount", "date", "produce", "channel", "source_type", "source_code", "source_detail",
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
