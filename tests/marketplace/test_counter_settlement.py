"""Counter sales are settled to households like every sale, to the fen, with their channel on
each income entry; the household page, the county report and the public money flow show income
by channel; ``reconcile`` checks net sales = attributed revenue per day and channel."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from core import roles
from core.money import to_fen
from households.models import IncomeEntry
from marketplace.models import Order, OrderLineBatch, RefundLine
from marketplace.services.counter import counter_request_parse, counter_sale_submit
from marketplace.settlement.checks import CHECKS
from marketplace.settlement.money_flow import money_flow_snapshot_refresh, published_snapshot_mismatches, published_totals
from marketplace.settlement.services import settled_days_mismatches, settlement_run
from tests.households.factories import HouseholdFactory, UserFactory
from tests.logistics.factories import SupermarketFactory, staff_at
from tests.marketplace.factories import ProductFactory, stock_batch
from tests.marketplace.settlement_factories import allocation_year, packed_batch, refund, sold_order

# The channels the property below sells through: online orders, counter sales and canteen
# deliveries (each delivery is a completed canteen-channel order without an employee, paid
# offline, as marketplace.canteens writes it; tests/canteens settles one through that service).
SETTLED_CHANNELS: list[str] = [Order.Channel.ONLINE, Order.Channel.COUNTER, Order.Channel.CANTEEN]
# canteen deliveries take no returns (a short delivery is delivered again, not refunded)
WITHOUT_RETURNS = {Order.Channel.CANTEEN}


def _days_ago(n: int):
    return timezone.now() - datetime.timedelta(days=n)


def _sold_counter(lines, *, unit_price, paid_at=None):
    return sold_order(lines, unit_price=unit_price, channel=Order.Channel.COUNTER, status=Order.Status.COMPLETED, paid_at=paid_at)


# Sales are paid two days back, so that the per-day checks (which look at days before the last
# run's cutoff day) have days to look at.
SALE_MAKERS = {
    Order.Channel.ONLINE: lambda lines, *, unit_price: sold_order(lines, unit_price=unit_price, paid_at=_days_ago(2)),
    Order.Channel.COUNTER: lambda lines, *, unit_price: _sold_counter(lines, unit_price=unit_price, paid_at=_days_ago(2)),
    Order.Channel.CANTEEN: lambda lines, *, unit_price: sold_order(
        lines, unit_price=unit_price, channel=Order.Channel.CANTEEN, status=Order.Status.COMPLETED, paid_at=_days_ago(2)
    ),
}

weights = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("80.000"), places=3)
prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("399.99"), places=2)


def _net_by_channel() -> dict[str, int]:
    net: dict[str, int] = {}
    for olb in OrderLineBatch.objects.select_related("line__order"):
        c = olb.line.order.channel
        net[c] = net.get(c, 0) + olb.units * to_fen(olb.line.unit_price)
    for rl in RefundLine.objects.select_related("line__order"):
        c = rl.line.order.channel
        net[c] = net.get(c, 0) - to_fen(rl.amount)
    return {c: v for c, v in net.items() if v}


def _ledger_by_channel() -> dict[str, int]:
    out: dict[str, int] = {}
    for e in IncomeEntry.objects.filter(kind="sales"):
        out[e.channel] = out.get(e.channel, 0) + to_fen(e.amount)
    return {c: v for c, v in out.items() if v}


class ChannelSettlementProperties(TestCase):
    @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        shares=st.lists(st.lists(weights, min_size=1, max_size=5), min_size=1, max_size=3),
        sales=st.lists(
            st.tuples(st.sampled_from(SETTLED_CHANNELS), st.integers(0, 2), st.integers(1, 9), prices, st.integers(0, 9)),
            min_size=1, max_size=8,
        ),
    )
    def test_every_channel_reaches_households_to_the_fen(self, shares, sales):
        allocation_year(rate="0.0300")
        pool = [HouseholdFactory() for _ in range(5)]
        batches = [packed_batch(dict(zip(pool, ws, strict=False)), units=1000) for ws in shares]
        made = []
        for channel, b, units, price, back in sales:
            batch = batches[b % len(batches)]
            back = 0 if channel in WITHOUT_RETURNS else min(back, units)
            made.append((SALE_MAKERS[channel]([(batch, units)], unit_price=price), batch, back))
        for order, batch, back in made[::2]:  # some returns before settlement
            if back:
                refund(order.lines.get(), batch, back)
        settlement_run(chunk_size=3)
        for order, batch, back in made[1::2]:  # and some after
            if back:
                refund(order.lines.get(), batch, back)
        settlement_run(chunk_size=3)

        assert _ledger_by_channel() == _net_by_channel()
        assert settled_days_mismatches() == []
        assert settled_days_mismatches(by_channel=True) == []


@pytest.mark.django_db
def test_a_counter_sale_made_at_the_till_is_settled_to_its_households_with_the_counter_channel():
    allocation_year()
    shop = SupermarketFactory()
    cashier = staff_at(shop, roles.SUPERMARKET_STAFF)
    h1, h2, h3 = HouseholdFactory(), HouseholdFactory(), HouseholdFactory()
    product = ProductFactory(price=Decimal("33.33"))
    batch = stock_batch(product, 10, facility=shop)
    from logistics.models import BatchShare

    BatchShare.objects.bulk_create([
        BatchShare(batch=batch, household=h, weight_kg=Decimal(w)) for h, w in ((h1, "1.000"), (h2, "1.000"), (h3, "1.000"))
    ])
    request = counter_request_parse(client_id="till-1", lines=[{"batch": batch.code, "quantity": 1}], cash="40")
    sale = counter_sale_submit(cashier=cashier, request=request).sale
    settlement_run()
    entries = IncomeEntry.objects.filter(kind="sales", source_code=sale.order.number)
    assert sorted(e.amount for e in entries) == [Decimal("11.11")] * 3
    assert {e.channel for e in entries} == {"counter"}
    assert CHECKS["settlement_attributed_equals_net_sales_per_channel"]() == []


@pytest.mark.django_db
def test_the_per_channel_check_names_a_day_whose_channel_does_not_balance():
    allocation_year()
    counter = _sold_counter([(packed_batch(), 2)], unit_price="10.00", paid_at=_days_ago(2))
    settlement_run()
    assert settled_days_mismatches(by_channel=True) == []
    entry = IncomeEntry.objects.filter(kind="sales", source_code=counter.number).first()
    IncomeEntry.objects.create(  # 5 yuan of the counter's revenue written as online
        household_id=entry.household_id, kind="sales", amount=Decimal("5.00"), date=entry.date, channel="online",
        source_type="sale", source_code=counter.number,
    )
    IncomeEntry.objects.create(
        household_id=entry.household_id, kind="sales", amount=Decimal("-5.00"), date=entry.date, channel="counter",
        source_type="sale", source_code=counter.number, reason="test",
    )
    assert settled_days_mismatches() == []  # the day's total still balances
    problems = settled_days_mismatches(by_channel=True)
    assert len(problems) == 2 and any("online" in p for p in problems) and any("counter" in p for p in problems)


@pytest.mark.django_db
def test_the_household_page_the_county_report_and_the_money_flow_show_income_by_channel(client):
    allocation_year()
    h = HouseholdFactory()
    batch = packed_batch({h: "5.000"})
    sold_order([(batch, 1)], unit_price="20.00")
    _sold_counter([(batch, 3)], unit_price="7.00")
    settlement_run()

    client.force_login(UserFactory(role=roles.COUNTY_OFFICE))
    page = client.get(f"/income/households/{h.number}/").content.decode()
    report = client.get("/income/").content.decode()
    for html in (page, report):
        table = html.split('data-testid="by-channel"')[1].split("</table>")[0]
        assert "¥20.00" in table and "¥21.00" in table and "¥0.00" in table
    assert client.get("/income/?format=xlsx").status_code == 200

    totals = published_totals(as_of=timezone.now())
    assert totals["channels"]["online_net"] == "20.00" and totals["channels"]["counter_net"] == "21.00"
    assert totals["channels"]["counter_attributed"] == "21.00" and totals["channels"]["canteen_net"] == "0.00"
    assert totals["sales"]["in_cash"] == "21.00"
    money_flow_snapshot_refresh()
    assert published_snapshot_mismatches() == []
    flow = client.get("/money-flow/").content.decode()
    assert 'data-testid="by-channel"' in flow and "¥21.00" in flow
