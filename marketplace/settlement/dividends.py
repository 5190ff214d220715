"""Dividends (二次返利) of a settlement run, and the payouts they leave owed.

A run's dividend for an allocation year is the year's rate × the revenue the run attributed in
that year, rounded once, half up (core.money.yuan). That amount is split over the households by
the largest-remainder rule (core.money.split_largest_remainder), weighted by what the run
attributed to each, so the dividend lines add up to it exactly — rounding each household's
dividend on its own had paid ¥3.61 against 5 % × ¥72 = ¥3.60.

A run that reverses earlier sales (refunds) may attribute a negative amount to some households:
the positive and the negative ones are split separately — the positive ones their own rounded
rate × revenue, the negative ones the rest — so every household's part stays within a fen of
its exact share and the total is still exact.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from core.money import from_fen, split_largest_remainder, to_fen, yuan
from households.services import income_entries_append_select
from marketplace.models import AllocationYear

from .models import DividendLine, Payout, SettlementLine, SettlementRun
from .sql import _fen, _json_object, _t, _ts, _yuan_from_fen

NO_RATE = Decimal("0")


def dividend_total_fen(*, rate: Decimal, attributed_fen: int) -> int:
    """rate × attributed revenue, in fen, rounded half up (away from zero for a clawback)."""
    return to_fen(yuan(from_fen(attributed_fen) * rate))


def dividend_split(*, rate: Decimal, attributed: dict[int, int]) -> dict[int, int]:
    """{household id: dividend fen} adding up to ``dividend_total_fen`` of the households' sum.
    Ties go to the lower household id."""
    total = dividend_total_fen(rate=rate, attributed_fen=sum(attributed.values()))
    positive = sorted((h, f) for h, f in attributed.items() if f > 0)
    negative = sorted((h, f) for h, f in attributed.items() if f < 0)
    if positive and negative:
        positive_total = dividend_total_fen(rate=rate, attributed_fen=sum(f for _h, f in positive))
        groups = ((positive, positive_total), (negative, total - positive_total))
    else:
        groups = ((positive or negative, total),)
    parts = {h: 0 for h in attributed}
    for group, group_total in groups:
        if group and group_total:
            for (household, _f), part in zip(group, split_largest_remainder(group_total, [abs(f) for _h, f in group]), strict=True):
                parts[household] = part
    return parts


def _attributed_by_year(run: SettlementRun) -> dict[int, dict[int, int]]:
    by_year: dict[int, dict[int, int]] = defaultdict(dict)
    for row in (
        SettlementLine.objects.filter(run=run).values("year", "household_id").annotate(fen=Sum("amount_fen")).order_by()
    ):
        by_year[row["year"]][row["household_id"]] = int(row["fen"] or 0)
    return by_year


def _rates(years) -> dict[int, Decimal]:
    return dict(AllocationYear.objects.filter(year__in=list(years)).values_list("year", "dividend_rate"))


def _dividend_lines_insert(run: SettlementRun, rows: list[tuple[int, int, int, Decimal, int]]) -> None:
    """Insert the run's dividend lines: on PostgreSQL one INSERT … SELECT FROM unnest() of five
    arrays (a line per household: 25,000 model instances cost seconds of Python), elsewhere
    bulk_create."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        DividendLine.objects.bulk_create(
            [
                DividendLine(run=run, household_id=h, year=y, produce="", attributed_fen=a, rate=r, amount_fen=f, amount=from_fen(f))
                for h, y, a, r, f in rows
            ],
            batch_size=5000,
        )
        return
    households, years, attributed, rates, fens = (list(col) for col in zip(*rows, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {_t(DividendLine)} (run_id, household_id, year, produce, attributed_fen, rate, amount_fen, amount)
            SELECT %s, t.h, t.y, '', t.a, t.r, t.f, {_yuan_from_fen("t.f")}
            FROM unnest(%s::bigint[], %s::integer[], %s::bigint[], %s::numeric[], %s::bigint[]) AS t(h, y, a, r, f)
            """,
            [run.pk, households, years, attributed, rates, fens],
        )


def dividends_and_payouts_write(run: SettlementRun) -> None:
    """Dividend lines of ``run`` (per household and year), their income entries, and a payout per
    household of what its dividends leave owed. Called inside the run's last transaction."""
    by_year = _attributed_by_year(run)
    rates = _rates(by_year)
    rows = []  # (household, year, attributed fen, rate, dividend fen)
    for year, attributed in sorted(by_year.items()):
        rate = rates.get(year, NO_RATE)
        for household_id, fen in dividend_split(rate=rate, attributed=attributed).items():
            if fen:
                rows.append((household_id, year, attributed[household_id], rate, fen))
    _dividend_lines_insert(run, rows)
    dl, payout = _t(DividendLine), _t(Payout)
    now = _ts(timezone.now())
    select = f"""
    SELECT d.household_id AS household_id, 'dividend' AS kind, d.amount AS amount, %s AS date, d.produce AS produce,
           '' AS channel, 'dividend' AS source_type, r.code AS source_code,
           {_json_object(("run", "r.code"), ("year", "d.year"), ("rate", "CAST(d.rate AS TEXT)"))} AS source_detail,
           '' AS reason, CAST(NULL AS INTEGER) AS author_id, %s AS created_at
    FROM {dl} d JOIN {_t(SettlementRun)} r ON r.id = d.run_id
    WHERE d.run_id = %s
    """
    income_entries_append_select(select_sql=select, params=[timezone.localdate(run.cutoff), now, run.pk])
    with connection.cursor() as cursor:
        # Owed = every dividend of the household so far − every payout already made out to it;
        # a clawback (negative dividend) is carried into the next payout rather than paid back.
        cursor.execute(
            f"""
            INSERT INTO {payout} (run_id, household_id, amount, status, method, reference, paid_by_id, paid_at, created_at)
            SELECT {int(run.pk)}, o.household_id, {_yuan_from_fen("o.owed")}, 'unpaid', '', '', NULL, NULL, %s
            FROM (
                SELECT d.household_id, d.fen - COALESCE(p.fen, 0) AS owed
                FROM (
                    SELECT household_id, CAST(SUM(amount_fen) AS BIGINT) AS fen FROM {dl}
                    WHERE household_id IN (SELECT household_id FROM {dl} WHERE run_id = %s)
                    GROUP BY household_id
                ) d
                LEFT JOIN (
                    SELECT household_id, CAST(SUM({_fen("amount")}) AS BIGINT) AS fen FROM {payout} GROUP BY household_id
                ) p ON p.household_id = d.household_id
            ) o
            WHERE o.owed > 0
            """,
            [now, run.pk],
        )


def dividend_mismatches() -> list[str]:
    """``reconcile``: for every completed run and allocation year, the dividend lines add up to
    rate × the revenue the run attributed (the rate the lines carry; the year's rate if none)."""
    attributed: dict[tuple[int, int], int] = {
        (r["run_id"], r["year"]): int(r["fen"] or 0)
        for r in SettlementLine.objects.filter(run__status=SettlementRun.Status.COMPLETED)
        .values("run_id", "year").annotate(fen=Sum("amount_fen")).order_by()
    }
    paid: dict[tuple[int, int], tuple[int, Decimal]] = {}
    for r in (
        DividendLine.objects.filter(run__status=SettlementRun.Status.COMPLETED)
        .values("run_id", "year", "rate").annotate(fen=Sum("amount_fen")).order_by()
    ):
        fen, _rate = paid.get((r["run_id"], r["year"]), (0, r["rate"]))
        paid[(r["run_id"], r["year"])] = (fen + int(r["fen"] or 0), r["rate"])
    rates = _rates({year for _run, year in attributed})
    codes = dict(SettlementRun.objects.values_list("pk", "code"))
    problems = []
    for key in sorted(set(attributed) | set(paid)):
        run_id, year = key
        fen, rate = paid.get(key, (0, rates.get(year, NO_RATE)))
        expected = dividend_total_fen(rate=rate, attributed_fen=attributed.get(key, 0))
        if fen != expected:
            problems.append(
                f"{codes.get(run_id, run_id)} {year}: dividends {from_fen(fen)} != {rate} × attributed "
                f"{from_fen(attributed.get(key, 0))} = {from_fen(expected)}"
            )
    return problems
