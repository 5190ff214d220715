"""SQL pieces of settlement that differ between SQLite and PostgreSQL (shared by the split, the
dividends and the checks)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import connection
from django.utils import timezone


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _local_date(column: str) -> tuple[str, list]:
    """SQL for the county-time date of a timestamp column, and its parameters."""
    if connection.vendor == "postgresql":
        return f"CAST(({column} AT TIME ZONE %s) AS date)", [settings.TIME_ZONE]
    # SQLite keeps naive UTC text; the county's zone has no DST (Asia/Shanghai), so an offset will do.
    offset = timezone.localtime(timezone.now()).utcoffset() or datetime.timedelta()
    minutes = int(offset.total_seconds() // 60)
    return f"date({column}, %s)", [f"{minutes:+d} minutes"]


def _yuan_from_fen(expr: str) -> str:
    if connection.vendor == "postgresql":
        return f"(CAST({expr} AS numeric(14, 2)) / 100)"
    return f"(({expr}) / 100.0)"


def _fen(expr: str) -> str:
    return f"CAST(ROUND(({expr}) * 100) AS BIGINT)"


def _json_object(*pairs: tuple[str, str]) -> str:
    fn = "jsonb_build_object" if connection.vendor == "postgresql" else "json_object"
    args = ", ".join(f"'{k}', {v}" for k, v in pairs)
    return f"{fn}({args})"


def _ts(value: datetime.datetime):
    return connection.ops.adapt_datetimefield_value(value)


def _int_div(a: str, b: str) -> str:
    # Both engines divide integers by truncation; the operands here are never negative.
    return f"(({a}) / ({b}))"
