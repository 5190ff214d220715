"""The monthly income summary (``IncomeMonth``): how the ledger's writers keep it, how
``reconcile`` checks it against a GROUP BY over the ledger, and how it is rebuilt.

Only households/services.py calls the ``*_sql``/``summary_add`` helpers, inside the transaction
that appends the entries, so a committed entry is always in the summary and a rolled-back one
never is. The key is household × month × kind × produce × channel.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db import connection, transaction

from core.money import yuan

from .models import IncomeEntry, IncomeMonth

KEY = ("household_id", "month", "kind", "produce", "channel")


def _entries() -> str:
    return IncomeEntry._meta.db_table


def _months() -> str:
    return IncomeMonth._meta.db_table


def entry_has_channel() -> bool:
    return any(f.attname == "channel" for f in IncomeEntry._meta.concrete_fields)


def month_sql(column: str) -> str:
    """The first day of the month of a date column, in this database's dialect."""
    if connection.vendor == "postgresql":
        return f"date_trunc('month', {column})::date"
    return f"date({column}, 'start of month')"


def channel_sql(alias: str = "") -> str:
    return f"{alias}channel" if entry_has_channel() else "''"


def returning_columns() -> str:
    """What an INSERT into the ledger returns for ``upsert_from_sql`` to sum."""
    return "household_id, date, kind, produce, amount" + (", channel" if entry_has_channel() else "")


def upsert_from_sql(source: str) -> str:
    """An INSERT … ON CONFLICT adding the entries ``source`` yields (rows with household_id, date,
    kind, produce, amount[, channel]) to the summary, one row per key."""
    m = _months()
    return (
        f"INSERT INTO {m} (household_id, month, kind, produce, channel, amount, entries) "
        f"SELECT e.household_id, {month_sql('e.date')}, e.kind, e.produce, {channel_sql('e.')}, SUM(e.amount), COUNT(*) "
        f"FROM {source} AS e WHERE true GROUP BY 1, 2, 3, 4, 5 "
        f"ON CONFLICT (household_id, month, kind, produce, channel) DO UPDATE "
        f"SET amount = {m}.amount + excluded.amount, entries = {m}.entries + excluded.entries"
    )


def first_of_month(day) -> datetime.date:
    """The month's first day of a date (or of an ISO date string, as a caller may pass)."""
    return IncomeEntry._meta.get_field("date").to_python(day).replace(day=1)


def summary_add(rows: Iterable[tuple[int, datetime.date, str, str, str, Decimal]], *, chunk: int = 2000) -> None:
    """Add entries given in Python (household_id, date, kind, produce, channel, amount): summed
    here per key, then one upsert statement per ``chunk`` keys."""
    sums: dict[tuple, list] = defaultdict(lambda: [Decimal("0"), 0])
    for household_id, day, kind, produce, channel, amount in rows:
        s = sums[(household_id, first_of_month(day), kind, produce or "", channel or "")]
        s[0] += amount
        s[1] += 1
    if not sums:
        return
    m = _months()
    items = list(sums.items())
    with connection.cursor() as cursor:
        for k in range(0, len(items), chunk):
            part = items[k:k + chunk]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(part))
            params: list = []
            for (household_id, month, kind, produce, channel), (amount, n) in part:
                params += [household_id, month, kind, produce, channel, yuan(amount), n]
            cursor.execute(
                f"INSERT INTO {m} (household_id, month, kind, produce, channel, amount, entries) VALUES {values} "
                f"ON CONFLICT (household_id, month, kind, produce, channel) DO UPDATE "
                f"SET amount = {m}.amount + excluded.amount, entries = {m}.entries + excluded.entries",
                params,
            )


def summary_add_since(last_id: int) -> None:
    """Add the entries with an id above ``last_id`` (SQLite only, where the writer holds the
    database's one write lock, so nobody else appended meanwhile)."""
    cols = returning_columns()
    with connection.cursor() as cursor:
        cursor.execute(upsert_from_sql(f"(SELECT {cols} FROM {_entries()} WHERE id > %s)"), [last_id])


# --- reconcile --------------------------------------------------------------------------------


def _ledger_grouped_sql() -> str:
    return (
        f"SELECT household_id, {month_sql('date')} AS month, kind, produce, {channel_sql()} AS channel, "
        f"SUM(amount) AS amount, COUNT(*) AS entries FROM {_entries()} GROUP BY 1, 2, 3, 4, 5"
    )


def check_income_summary(limit: int = 20) -> list[str]:
    """Every key where the summary differs from a GROUP BY over the ledger (missing on either side,
    or a different total or count)."""
    cols = ", ".join(KEY)
    g, m = _ledger_grouped_sql(), _months()
    # Rounded to the fen on both sides: SQLite keeps decimals as floats.
    picked = f"{cols}, ROUND(amount, 2), entries"
    half1 = f"SELECT {picked} FROM ({g}) AS g EXCEPT SELECT {picked} FROM {m}"
    half2 = f"SELECT {picked} FROM {m} EXCEPT SELECT {picked} FROM ({g}) AS g"
    problems: list[str] = []
    with connection.cursor() as cursor:
        for side, query in (("ledger", half1), ("summary", half2)):
            cursor.execute(f"SELECT * FROM ({query}) AS d LIMIT {int(limit)}")
            for household_id, month, kind, produce, channel, amount, entries in cursor.fetchall():
                where = "the ledger has" if side == "ledger" else "the summary has"
                problems.append(
                    f"household {household_id} {str(month)[:7]} {kind} {produce or '-'} {channel or '-'}: "
                    f"{where} {yuan(Decimal(str(amount)))} in {entries} entries, the other side differs"
                )
    return problems


@transaction.atomic
def income_summary_rebuild() -> int:
    """Replace the summary with a GROUP BY over the ledger; returns the number of rows written.
    The ledger is locked against appends meanwhile (PostgreSQL) so nothing slips between."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {_entries()} IN SHARE MODE")
    m = _months()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {m}")
        cursor.execute(
            f"INSERT INTO {m} (household_id, month, kind, produce, channel, amount, entries) "
            f"SELECT household_id, month, kind, produce, channel, amount, entries FROM ({_ledger_grouped_sql()}) AS g"
        )
        return cursor.rowcount
