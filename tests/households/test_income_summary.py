"""The monthly income summary: kept by every ledger writer in the same transaction, equal to a
GROUP BY over the ledger, checked and rebuilt by ``reconcile``."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from core.reconcile import rebuild, run_checks
from households.models import IncomeEntry, IncomeMonth
from households.services import (
    income_entries_append_select,
    income_entries_record_bulk,
    income_entry_record,
    income_entry_reverse,
)
from tests.households.factories import HouseholdFactory

pytestmark = pytest.mark.django_db


def record(household, amount, day, kind="intake", produce="chestnut"):
    return income_entry_record(household=household, kind=kind, amount=Decimal(amount), date=day, produce=produce,
                               source_type="lot", source_code="L1")


def months() -> dict:
    return {(m.household_id, m.month, m.kind, m.produce, m.channel): (m.amount, m.entries) for m in IncomeMonth.objects.all()}


def test_entries_are_summed_per_household_month_kind_and_produce():
    a, b = HouseholdFactory(), HouseholdFactory()
    record(a, "10.00", datetime.date(2026, 9, 1))
    record(a, "5.50", datetime.date(2026, 9, 30))
    record(a, "1.00", datetime.date(2026, 10, 1))
    record(a, "2.00", datetime.date(2026, 9, 2), produce="walnut")
    record(b, "3.00", datetime.date(2026, 9, 2), kind="sales")
    assert months() == {
        (a.pk, datetime.date(2026, 9, 1), "intake", "chestnut", ""): (Decimal("15.50"), 2),
        (a.pk, datetime.date(2026, 10, 1), "intake", "chestnut", ""): (Decimal("1.00"), 1),
        (a.pk, datetime.date(2026, 9, 1), "intake", "walnut", ""): (Decimal("2.00"), 1),
        (b.pk, datetime.date(2026, 9, 1), "sales", "chestnut", ""): (Decimal("3.00"), 1),
    }
    assert run_checks(["income_summary"]) == {"income_summary": []}


def test_a_reversal_takes_its_amount_back_out_of_the_summary():
    a = HouseholdFactory()
    entry = record(a, "10.00", datetime.date(2026, 9, 1))
    income_entry_reverse(entry=entry, reason="称错", date=datetime.date(2026, 9, 3))
    assert months() == {(a.pk, datetime.date(2026, 9, 1), "intake", "chestnut", ""): (Decimal("0.00"), 2)}
    assert run_checks(["income_summary"]) == {"income_summary": []}


def test_bulk_and_set_based_appends_keep_the_summary():
    a, b = HouseholdFactory(), HouseholdFactory()
    income_entries_record_bulk(entries=[
        IncomeEntry(household_id=a.pk, kind="sales", amount=Decimal("1.10"), date=datetime.date(2026, 9, 5), produce="tea",
                    source_type="sale", source_code="S1"),
        IncomeEntry(household_id=a.pk, kind="sales", amount=Decimal("2.20"), date=datetime.date(2026, 9, 6), produce="tea",
                    source_type="sale", source_code="S2"),
    ])
    written = income_entries_append_select(
        select_sql=("SELECT %s AS household_id, 'dividend' AS kind, 0.70 AS amount, %s AS date, 'tea' AS produce, '' AS channel, "
        "'dividend' AS source_type, 'D1' AS source_code, {empty} AS source_detail, '' AS reason, CAST(NULL AS integer) AS author_id, %s AS created_at").format(
            empty="jsonb_build_object()" if connection.vendor == "postgresql" else "json_object()"),
        params=[b.pk, datetime.date(2026, 9, 30), datetime.datetime(2026, 9, 30, 12, tzinfo=datetime.UTC)],
    )
    assert written == 1
    assert months() == {
        (a.pk, datetime.date(2026, 9, 1), "sales", "tea", ""): (Decimal("3.30"), 2),
        (b.pk, datetime.date(2026, 9, 1), "dividend", "tea", ""): (Decimal("0.70"), 1),
    }
    assert run_checks(["income_summary"]) == {"income_summary": []}


def test_a_rolled_back_entry_never_reaches_the_summary():
    a = HouseholdFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        record(a, "10.00", datetime.date(2026, 9, 1))
        raise RuntimeError
    assert months() == {}


def test_reconcile_names_a_summary_that_drifted_and_rebuild_repairs_it():
    a = HouseholdFactory()
    record(a, "10.00", datetime.date(2026, 9, 1))
    record(a, "4.00", datetime.date(2026, 8, 1))
    IncomeMonth.objects.filter(month=datetime.date(2026, 9, 1)).update(amount=Decimal("99.00"))
    IncomeMonth.objects.filter(month=datetime.date(2026, 8, 1)).delete()
    problems = run_checks(["income_summary"])["income_summary"]
    assert len(problems) == 3  # the ledger's two months differ, and the summary's wrong row
    assert any("2026-08" in p for p in problems) and any("2026-09" in p for p in problems)
    assert rebuild("income_summary") == 2
    assert run_checks(["income_summary"]) == {"income_summary": []}


def test_the_reconcile_command_rebuilds_the_summary_before_checking(capsys):
    a = HouseholdFactory()
    record(a, "10.00", datetime.date(2026, 9, 1))
    IncomeMonth.objects.all().delete()
    call_command("reconcile", "--rebuild", "income_summary", "--check", "income_summary")
    out = capsys.readouterr().out
    assert "rebuilt income_summary: 1 rows" in out and "✓ income_summary" in out


@pytest.mark.parametrize(("date_from", "date_to"), [
    (None, None), ("2026-01-01", "2026-12-31"), ("2026-02-10", "2026-04-20"), ("2026-03-05", "2026-03-25"),
    ("2026-03-01", "2026-03-31"), ("2026-03-01", "2026-03-15"), ("2026-03-15", "2026-03-31"), (None, "2026-05-14"),
    ("2026-02-28", None), ("2026-04-30", "2026-05-01"),
])
@pytest.mark.parametrize("produce", ["", "chestnut"])
def test_the_report_sums_from_the_summary_equal_a_group_by_over_the_ledger(date_from, date_to, produce):
    from households.reports.selectors import per_household_ledger_sql, per_household_sql

    a, b = HouseholdFactory(), HouseholdFactory()
    day = datetime.date(2026, 1, 1)
    n = 0
    while day < datetime.date(2026, 8, 1):
        record(a if n % 3 else b, f"{1 + n % 7}.{n % 100:02d}", day, kind=("intake", "sales", "dividend")[n % 3],
               produce=("chestnut", "walnut")[n % 2])
        day += datetime.timedelta(days=4)
        n += 1
    income_entry_reverse(entry=IncomeEntry.objects.filter(household=b).first(), reason="错账", date=datetime.date(2026, 3, 20))

    def parse(v):
        return datetime.date.fromisoformat(v) if v else None

    def sums(sql_params):
        with connection.cursor() as cursor:
            cursor.execute(*sql_params)
            return {(h, k): Decimal(str(v)).quantize(Decimal("0.01")) for h, k, v in cursor.fetchall()}

    expected = sums(per_household_ledger_sql(parse(date_from), parse(date_to), produce))
    assert expected  # the period holds entries
    assert sums(per_household_sql(parse(date_from), parse(date_to), produce)) == expected


def test_the_published_figures_now_read_from_the_summary_equal_the_ledger_at_this_instant():
    from django.utils import timezone

    from households.reports.selectors import income_published, income_published_now

    a, b, c = HouseholdFactory(), HouseholdFactory(), HouseholdFactory()
    record(a, "10.00", datetime.date(2026, 9, 1))
    record(a, "2.25", datetime.date(2026, 10, 1), kind="sales")
    record(b, "7.10", datetime.date(2026, 9, 2), kind="dividend")
    income_entry_reverse(entry=record(c, "4.00", datetime.date(2026, 9, 3)), reason="称错")  # nets to zero: still reached

    now = income_published_now()
    expected = income_published(as_of=timezone.now())
    assert {k: v for k, v in now.items() if k != "as_of"} == {k: v for k, v in expected.items() if k != "as_of"}
    assert now["households"] == 3 and now["paid_to_households"] == Decimal("17.10")


def test_the_report_grouped_in_the_database_equals_the_tables_grouped_from_each_household():
    from households.reports import selectors

    households = [HouseholdFactory() for _ in range(9)]
    for i, h in enumerate(households):
        record(h, f"{10 + i}.{i}0", datetime.date(2026, 1 + i % 3, 5 + i))
        record(h, "3.00" if i % 2 else "5.00", datetime.date(2026, 2, 10), kind="sales", produce="walnut")  # ties in the ranking
    for filters in ({}, {"date_from": "2026-02-01", "date_to": "2026-02-20"}, {"produce": "walnut"},
                    {"labour_class": households[0].labour_class}):
        cleaned = selectors._valid(filters)
        report = selectors._report_in_sql(cleaned, 5)
        selected = selectors._selected(cleaned)
        assert report["totals"] == selectors._row([amounts for _h, amounts in selected])
        for group in selectors.GROUPS:
            assert report[group] == selectors._totals_by(group, selected)
        assert report["ranked"] == selectors._ranked(selected, 5, False)
