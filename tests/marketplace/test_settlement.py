"""Settlement splits every sold unit's revenue over its batch's households, exactly, once."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum

from core.money import split_largest_remainder, to_fen
from households.models import IncomeEntry
from marketplace.models import Order
from marketplace.settlement import services
from marketplace.settlement.models import DividendLine, Payout, SettlementLine, SettlementRun
from marketplace.settlement.services import settled_days_mismatches, settlement_run
from tests.households.factories import HouseholdFactory
from tests.marketplace.settlement_factories import allocation_year, aware, packed_batch, refund, sold_order

pytestmark = pytest.mark.django_db


def ledger(**filters) -> dict[int, Decimal]:
    rows = IncomeEntry.objects.filter(**filters).values("household_id").annotate(s=Sum("amount"))
    return {r["household_id"]: r["s"] for r in rows}


def test_a_sale_is_split_over_the_batch_shares_by_largest_remainder_and_adds_up_to_the_fen():
    allocation_year()
    a, b, c = HouseholdFactory(), HouseholdFactory(), HouseholdFactory()
    batch = packed_batch({a: "1.000", b: "1.000", c: "1.000"})
    sold_order([(batch, 1)], unit_price="10.00")

    run = settlement_run()

    assert run.status == SettlementRun.Status.COMPLETED
    sales = ledger(kind="sales")
    # 1000 fen over three equal shares: 333 each, the one fen left to the lowest household id.
    assert sales == {a.pk: Decimal("3.34"), b.pk: Decimal("3.33"), c.pk: Decimal("3.33")}
    assert sum(sales.values()) == Decimal("10.00")
    entry = IncomeEntry.objects.filter(household=a, kind="sales").get()
    assert entry.source_type == "sale"
    assert entry.produce == "chestnut"
    assert entry.source_detail["batch"] == batch.code
    assert entry.source_detail["run"] == run.code
    assert entry.source_code == entry.source_detail["order"]


def test_the_sql_split_agrees_with_core_money_split_largest_remainder():
    allocation_year()
    households = [HouseholdFactory() for _ in range(5)]
    weights = ["1.234", "0.001", "7.500", "2.222", "2.222"]
    batch = packed_batch(dict(zip(households, weights, strict=True)))
    sold_order([(batch, 7)], unit_price="13.37")

    settlement_run()

    expected = split_largest_remainder(7 * 1337, [Decimal(w) for w in weights])
    got = ledger(kind="sales")
    assert [to_fen(got[h.pk]) for h in households] == expected


def test_a_second_run_adds_nothing():
    allocation_year()
    batch = packed_batch({HouseholdFactory(): "3", HouseholdFactory(): "4"})
    sold_order([(batch, 3)], unit_price="19.99")
    first = settlement_run()
    before = (IncomeEntry.objects.count(), SettlementLine.objects.count(), DividendLine.objects.count(), Payout.objects.count())

    second = settlement_run()

    assert second.pk == first.pk  # nothing to settle: no new, empty run either
    assert SettlementRun.objects.count() == 1
    after = (IncomeEntry.objects.count(), SettlementLine.objects.count(), DividendLine.objects.count(), Payout.objects.count())
    assert after == before


def test_unpaid_cancelled_and_wholly_refunded_orders_are_not_settled():
    allocation_year()
    batch = packed_batch()
    sold_order([(batch, 1)], status=Order.Status.PENDING_PAYMENT)
    sold_order([(batch, 1)], status=Order.Status.CANCELLED)
    sold_order([(batch, 1)], status=Order.Status.REFUNDED)

    settlement_run()

    assert not SettlementLine.objects.exists()
    assert not IncomeEntry.objects.exists()


def test_a_refund_after_settlement_is_reversed_in_the_next_run_mirroring_the_sale():
    allocation_year()
    a, b = HouseholdFactory(), HouseholdFactory()
    batch = packed_batch({a: "1", b: "2"})
    order = sold_order([(batch, 2)], unit_price="10.01")
    settlement_run()
    line = order.lines.get()

    refund(line, batch, 2)
    run = settlement_run()

    assert run.refunds_amount == Decimal("20.02")
    assert ledger(kind="sales") == {a.pk: Decimal("0.00"), b.pk: Decimal("0.00")}
    reversal = IncomeEntry.objects.filter(household=a, kind="sales", amount__lt=0).get()
    assert reversal.source_type == "refund" and reversal.reason
    lines = SettlementLine.objects.count()
    settlement_run()
    assert SettlementLine.objects.count() == lines


def test_a_partial_refund_reverses_only_its_amount_split_the_same_way():
    allocation_year()
    households = [HouseholdFactory() for _ in range(3)]
    batch = packed_batch(dict(zip(households, ["1", "1", "1"], strict=True)))
    order = sold_order([(batch, 3)], unit_price="10.00")
    settlement_run()
    refund(order.lines.get(), batch, 1)

    settlement_run()

    total = IncomeEntry.objects.filter(kind="sales").aggregate(s=Sum("amount"))["s"]
    assert total == Decimal("20.00")
    refunds = SettlementLine.objects.filter(kind="refund").order_by("household_id")
    assert [r.amount_fen for r in refunds] == [-p for p in split_largest_remainder(1000, [1, 1, 1])]


def test_a_line_taking_units_of_two_batches_is_split_per_batch():
    allocation_year()
    a, b = HouseholdFactory(), HouseholdFactory()
    first, second = packed_batch({a: "1"}), packed_batch({b: "1"})
    sold_order([[(first, 1), (second, 2)]], unit_price="5.00")

    settlement_run()

    assert ledger(kind="sales") == {a.pk: Decimal("5.00"), b.pk: Decimal("10.00")}


def test_dividend_is_the_years_rate_times_attributed_revenue_and_becomes_a_payout():
    allocation_year(2026, rate="0.1000")
    a, b = HouseholdFactory(), HouseholdFactory()
    batch = packed_batch({a: "1", b: "1"})
    sold_order([(batch, 1)], unit_price="10.05")  # 503 / 502 fen

    run = settlement_run()

    # 10 % × ¥10.05 = ¥1.005 → ¥1.01, split 503 : 502 — the fen left over goes to the larger share
    # (rounding each household on its own would have paid ¥0.50 + ¥0.50 = ¥1.00).
    assert ledger(kind="dividend") == {a.pk: Decimal("0.51"), b.pk: Decimal("0.50")}
    payouts = {p.household_id: p.amount for p in Payout.objects.filter(run=run)}
    assert payouts == {a.pk: Decimal("0.51"), b.pk: Decimal("0.50")}
    assert all(p.status == Payout.Status.UNPAID for p in Payout.objects.all())
    assert run.dividend_amount == Decimal("1.01")


def test_a_refund_claws_the_dividend_back_from_the_next_payout():
    allocation_year(2026, rate="0.1000")
    a = HouseholdFactory()
    batch = packed_batch({a: "1"})
    order = sold_order([(batch, 10)], unit_price="10.00")
    first = settlement_run()
    refund(order.lines.get(), batch, 5)
    sold_order([(batch, 10)], unit_price="10.00")

    second = settlement_run()

    assert ledger(kind="dividend") == {a.pk: Decimal("15.00")}
    assert Payout.objects.get(run=first).amount == Decimal("10.00")
    assert Payout.objects.get(run=second).amount == Decimal("5.00")


def test_a_run_interrupted_mid_way_resumes_to_the_same_ledger_as_an_uninterrupted_one(monkeypatch):
    allocation_year()
    households = [HouseholdFactory() for _ in range(4)]
    batches = [packed_batch(dict(zip(households, [str(i + 1), "1.5", "2", "0.25"], strict=True))) for i in range(3)]
    for i in range(6):
        sold_order([(batches[i % 3], i + 1), (batches[(i + 1) % 3], 1)], unit_price="7.77")

    calls = {"n": 0}
    # The worker dies in the third chunk after its settlement lines and income entries were
    # written, before it commits (the chunk's totals are read last, on both databases' paths).
    real = services._chunk_totals

    def crash_on_third_chunk(run, chunk):
        calls["n"] += 1
        if calls["n"] == 3:
            assert SettlementLine.objects.filter(run=run, chunk=chunk).exists()
            raise RuntimeError("worker died")
        return real(run, chunk)

    monkeypatch.setattr(services, "_chunk_totals", crash_on_third_chunk)
    with pytest.raises(RuntimeError):
        settlement_run(chunk_size=2)
    assert SettlementRun.objects.get().status == SettlementRun.Status.FAILED
    partial = IncomeEntry.objects.count()
    assert 0 < partial

    resumed = settlement_run(chunk_size=2)

    assert resumed.status == SettlementRun.Status.COMPLETED
    assert SettlementRun.objects.count() == 1
    got = sorted(IncomeEntry.objects.values_list("household_id", "kind", "amount", "source_code", "date", "produce"))
    # The same sales settled uninterrupted, in one go, in a fresh ledger:
    fresh = {}
    for e in SettlementLine.objects.all():
        fresh.setdefault(e.household_id, 0)
        fresh[e.household_id] += e.amount_fen
    assert sum(fresh.values()) == sum(to_fen(x[2]) for x in got if x[1] == "sales")
    assert len(got) == SettlementLine.objects.count() + DividendLine.objects.count()
    assert settled_days_mismatches() == []


def test_settle_command_settles_everything_paid(capsys):
    allocation_year()
    batch = packed_batch()
    sold_order([(batch, 2)], unit_price="3.00")

    call_command("settle")

    assert IncomeEntry.objects.filter(kind="sales").aggregate(s=Sum("amount"))["s"] == Decimal("6.00")


def test_reconcile_finds_attributed_revenue_equal_to_net_sales_per_day():
    allocation_year()
    a, b = HouseholdFactory(), HouseholdFactory()
    batch = packed_batch({a: "1", b: "3"})
    yesterday = aware(2026, 3, 1)
    order = sold_order([(batch, 3)], unit_price="9.99", paid_at=yesterday)
    sold_order([(batch, 1)], unit_price="9.99", paid_at=yesterday + datetime.timedelta(days=1))
    settlement_run()
    refund(order.lines.get(), batch, 1, at=yesterday + datetime.timedelta(days=2))
    settlement_run()

    assert settled_days_mismatches() == []


def test_reconcile_reports_a_day_whose_ledger_does_not_match_sales():
    from households.services import income_entry_record

    allocation_year()
    household = HouseholdFactory()
    batch = packed_batch({household: "1"})
    sold_order([(batch, 1)], unit_price="9.99", paid_at=aware(2026, 3, 1))
    settlement_run()
    income_entry_record(
        household=household, kind="sales", amount=Decimal("0.01"), date=datetime.date(2026, 3, 1),
        source_type="sale", source_code="X",
    )

    problems = settled_days_mismatches()

    assert len(problems) == 1 and "2026-03-01" in problems[0]


def test_a_sale_paid_after_midnight_county_time_is_dated_that_county_day():
    allocation_year()
    batch = packed_batch()
    sold_order([(batch, 1)], paid_at=aware(2026, 3, 1, h=1))  # 2026-02-28 17:00 UTC

    settlement_run()

    assert IncomeEntry.objects.get(kind="sales").date == datetime.date(2026, 3, 1)
