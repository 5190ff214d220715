"""core.sql_prepared: statements prepared on PostgreSQL, Django's cursor elsewhere; either way
logged, counted and raising Django's errors."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from core.sql_prepared import fetch, prepared_cursor
from marketplace.models import AllocationYear

pytestmark = pytest.mark.django_db

SQL = f"SELECT amount, opens_on FROM {AllocationYear._meta.db_table} WHERE year = %s"


def _prepared_texts() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_rows_and_types_are_the_same_prepared_or_not_and_each_run_is_logged():
    AllocationYear.objects.create(year=2041, amount=Decimal("701.25"), opens_on=datetime.date(2041, 1, 2),
                                  closes_on=datetime.date(2041, 12, 31))
    with CaptureQueriesContext(connection) as ctx:
        prepared = [fetch(SQL, [2041], prepare=True, binary=binary) for binary in (False, True, True)]
    plain = fetch(SQL, [2041])
    assert plain == [(Decimal("701.25"), datetime.date(2041, 1, 2))]
    assert all(rows == plain for rows in prepared)
    assert len(ctx.captured_queries) == 3
    # the log names the statement, also when it ran as a prepared one (psycopg leaves it empty then)
    assert all("WHERE year =" in q["sql"] for q in ctx.captured_queries)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="preparing is PostgreSQL's")
def test_on_postgresql_the_statement_is_prepared_once_per_connection():
    for year in (2042, 2043, 2044):
        fetch(SQL, [year], prepare=True)
    texts = [t for t in _prepared_texts() if "WHERE year = $1" in t and AllocationYear._meta.db_table in t]
    assert len(texts) == 1
    fetch(SQL.replace("amount, ", ""), [2042])  # Django's own cursor prepares nothing
    assert len([t for t in _prepared_texts() if AllocationYear._meta.db_table in t]) == 1


def test_a_refused_write_raises_djangos_integrity_error_and_the_transaction_goes_on():
    AllocationYear.objects.create(year=2045, amount=Decimal("700"), opens_on=datetime.date(2045, 1, 1),
                                  closes_on=datetime.date(2045, 12, 31))
    insert = (f"INSERT INTO {AllocationYear._meta.db_table} "
              "(year, amount, opens_on, closes_on, unspent, dividend_rate, max_units_per_order) "
              "VALUES (%s, %s, %s, %s, 'expire', 0.05, 20) RETURNING id")
    with pytest.raises(IntegrityError), transaction.atomic(), prepared_cursor() as cursor:
        cursor.execute(insert, [2045, Decimal("1"), datetime.date(2045, 1, 1), datetime.date(2045, 2, 1)])
    with prepared_cursor() as cursor:
        cursor.execute(insert, [2046, Decimal("2.50"), datetime.date(2046, 1, 1), datetime.date(2046, 2, 1)])
        assert cursor.fetchone()[0]
    assert AllocationYear.objects.get(year=2046).amount == Decimal("2.50")
    assert AllocationYear.objects.get(year=2045).amount == Decimal("700")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="preparing is PostgreSQL's")
def test_a_long_statement_is_converted_once_and_runs_alike_every_time():
    """psycopg converts (%s to $n) only short statements once; the checkout's write is long and
    wide. Ours keeps every prepared text's conversion: the second run of a 6 KB, 80-parameter
    statement finds it, and the rows are those of the parameters of each run."""
    from core.sql_prepared import _cursor_classes

    kept = _cursor_classes()[False]._query_cls
    values = " UNION ALL ".join(f"SELECT %s::int AS n, '{'x' * 60}' AS pad" for _ in range(80))
    sql = f"SELECT SUM(n) FROM ({values}) AS t"
    assert len(sql) > 4096
    before = kept.cache_info()
    first = fetch(sql, list(range(80)), prepare=True)
    second = fetch(sql, list(range(1, 81)), prepare=True)
    after = kept.cache_info()
    assert (first, second) == ([(sum(range(80)),)], [(sum(range(1, 81)),)])
    assert after.hits - before.hits >= 1
    assert after.misses - before.misses <= 1
