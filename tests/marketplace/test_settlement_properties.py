"""Property: whatever the sales, shares and refunds, settlement attributes every fen exactly once,
by the largest-remainder rule, and the households' amounts reconcile with net sales."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from core.money import to_fen
from marketplace.models import OrderLineBatch
from marketplace.settlement.models import SettlementLine
from marketplace.settlement.services import settled_days_mismatches, settlement_run
from tests.households.factories import HouseholdFactory
from tests.marketplace.settlement_factories import allocation_year, packed_batch, refund, sold_order
from tests.marketplace.settlement_reference import expected_sales_parts, ledger_sales_parts

weights = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("80.000"), places=3)
prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("399.99"), places=2)
batches = st.lists(st.lists(weights, min_size=1, max_size=6), min_size=1, max_size=3)
sales = st.lists(
    st.tuples(st.integers(0, 2), st.integers(1, 9), prices, st.integers(0, 9), st.booleans()), min_size=1, max_size=6
)


class SettlementProperties(TestCase):
    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(batches=batches, sales=sales, chunk=st.integers(1, 4))
    def test_any_sales_shares_and_refunds_reconcile_to_the_fen(self, batches, sales, chunk):
        allocation_year(rate="0.0333")
        pool = [HouseholdFactory() for _ in range(6)]
        made = [packed_batch(dict(zip(pool, ws, strict=False))) for ws in batches]
        orders = []
        for batch_index, units, price, refund_units, refund_before in sales:
            batch = made[batch_index % len(made)]
            order = sold_order([(batch, units)], unit_price=price)
            orders.append((order, batch, units, min(refund_units, units), refund_before))
        for order, batch, _units, r_units, before in orders:
            if r_units and before:
                refund(order.lines.get(), batch, r_units)

        settlement_run(chunk_size=chunk)
        for order, batch, _units, r_units, before in orders:
            if r_units and not before:
                refund(order.lines.get(), batch, r_units)
        settlement_run(chunk_size=chunk)

        expected = expected_sales_parts()
        assert ledger_sales_parts() == expected
        sold = sum(o.units * to_fen(o.line.unit_price) for o in OrderLineBatch.objects.select_related("line"))
        refunded = sum(to_fen(r.line.unit_price) * r.units for o in orders for r in o[0].refunds.all() for r in r.lines.all())
        assert sum(expected.values()) == sold - refunded
        assert settled_days_mismatches() == []
        lines = SettlementLine.objects.count()
        settlement_run()
        assert SettlementLine.objects.count() == lines
