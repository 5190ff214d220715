"""The only writers of the registry and the household income ledger."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal

from django.db import connection, transaction

from core.errors import DomainError
from core.money import yuan
from core.sql_insert import insert_cte, mark_saved

from . import summary
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


def income_entry_prepare(
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
    """One new (unsaved) entry, checked and rounded to the fen: what ``income_entry_record``
    appends, for a writer that appends it in its own statement (``income_entry_ctes``)."""
    if kind not in IncomeKind.values:
        raise LedgerError(f"unknown income kind {kind!r}")
    household_id = household if isinstance(household, int) else household.pk
    return IncomeEntry(
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


def income_entry_record(**fields) -> IncomeEntry:
    """Append one income entry (``fields`` as ``income_entry_prepare`` takes them). Amounts are
    rounded to the fen there and nowhere else."""
    return _append_one(income_entry_prepare(**fields))


def income_entry_ctes(entry: IncomeEntry, name: str = "e") -> tuple[list[str], list]:
    """PostgreSQL only: the parts of a ``WITH`` that append ``entry`` (``name`` returns its id)
    and add it to the monthly summary in the same statement, and their parameters. A writer that
    joins them to its own inserts calls ``mark_saved(entry, id)`` afterwards."""
    if entry.pk is not None:
        raise LedgerError("the entry must be new")
    entry.amount = yuan(entry.amount)
    insert, params = insert_cte(name, entry, returning=f"id, {summary.returning_columns()}")
    return [insert, f"{name}_summary AS ({summary.upsert_from_sql(name)})"], params


def income_entry_append(entry: IncomeEntry) -> IncomeEntry:
    """Append an entry made by ``income_entry_prepare`` (and its share of the monthly summary)."""
    return _append_one(entry)


def _append_one(entry: IncomeEntry) -> IncomeEntry:
    """Insert one new entry and add it to the monthly summary, in one statement on PostgreSQL
    (an INSERT … RETURNING feeding the summary's upsert), in two inside one transaction elsewhere."""
    entry.amount = yuan(entry.amount)
    if connection.vendor != "postgresql":
        with transaction.atomic(savepoint=False):
            entry.save(force_insert=True)
            summary.summary_add([(entry.household_id, entry.date, entry.kind, entry.produce, getattr(entry, "channel", ""),
                                  entry.amount)])
        return entry
    ctes, params = income_entry_ctes(entry, "e")
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(ctes)} SELECT id FROM e", params)
        mark_saved(entry, cursor.fetchone()[0])
    return entry


def income_entries_record_bulk(*, entries: list[IncomeEntry], batch_size: int = 5000) -> int:
    """Append many prepared (unsaved) entries in one statement per batch; settlement uses this."""
    for e in entries:
        if e.pk is not None:
            raise LedgerError("bulk entries must be new")
        e.amount = yuan(e.amount)
    with transaction.atomic(savepoint=False):
        IncomeEntry.objects.bulk_create(entries, batch_size=batch_size)
        summary.summary_add((e.household_id, e.date, e.kind, e.produce, getattr(e, "channel", ""), e.amount) for e in entries)
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
    reversal = _append_one(
        IncomeEntry(
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
    )
    income_entry_reversed.send(sender=IncomeEntry, entry=reversal)
    return reversal


LEDGER_COLUMNS = (
    "household_id", "kind", "amount", "date", "produce", "channel", "source_type", "source_code", "source_detail",
    "reason", "author_id", "created_at",
)


def income_entries_append_select(*, select_sql: str, params: Sequence = (), ctes: str = "", cte_params: Sequence = ()) -> int:
    """Append the income entries a SELECT produces, in one statement (set-based, no rows in Python).

    ``select_sql`` returns the columns of LEDGER_COLUMNS in that order; amounts must already be
    in fen-exact yuan (the caller split them in fen). Unknown kinds are refused by the statement
    itself (they are not inserted). Returns the number of entries written.

    ``ctes`` (PostgreSQL only): common table expressions (``name AS (…), …``, with their
    ``cte_params``) put before the statement, which ``select_sql`` may read — settlement computes
    a chunk's split once and inserts its own lines from it in the same statement.
    """
    table = IncomeEntry._meta.db_table
    kinds = ", ".join(f"'{k}'" for k in IncomeKind.values)
    cols = ", ".join(LEDGER_COLUMNS)
    insert = f"INSERT INTO {table} ({cols}) SELECT {cols} FROM ({select_sql}) AS new_entries WHERE kind IN ({kinds})"
    if ctes and connection.vendor != "postgresql":
        raise LedgerError("appending with common table expressions needs PostgreSQL")
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The summary is added from the rows the INSERT returns, in the same statement.
            cursor.execute(
                f"WITH {ctes + ', ' if ctes else ''}e AS ({insert} RETURNING {summary.returning_columns()}), "
                f"s AS ({summary.upsert_from_sql('e')}) SELECT COUNT(*) FROM e",
                [*cte_params, *params],
            )
            return cursor.fetchone()[0]
        last = IncomeEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        cursor.execute(insert, params)
        written = cursor.rowcount
        summary.summary_add_since(last)
        return written
