"""A settlement run is set-based: its query count does not grow with the number of units sold."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from marketplace.settlement.services import settlement_run
from tests.households.factories import HouseholdFactory
from tests.marketplace.settlement_factories import allocation_year, employee, packed_batch, refund, sold_order

pytestmark = pytest.mark.django_db

# Both sizes fit in one chunk: the count is per chunk, never per unit, line or household.
CHUNK = 10_000
MAX_QUERIES = 60  # about 8 per chunk (+1 on PostgreSQL), 5 chunks and phases, and the start


def sell(orders: int, units_per_line: int) -> None:
    allocation_year()
    households = [HouseholdFactory() for _ in range(4)]
    batches = [packed_batch({households[i]: "2", households[(i + 1) % 4]: "3"}) for i in range(4)]
    buyer = employee()
    for i in range(orders):
        order = sold_order([(batches[i % 4], units_per_line), (batches[(i + 1) % 4], units_per_line)], buyer=buyer)
        if i % 3 == 0:
            line = order.lines.first()
            refund(line, line.allocations.get().batch, 1)


def settle_counting() -> int:
    with CaptureQueriesContext(connection) as ctx:
        settlement_run(chunk_size=CHUNK)
    return len(ctx.captured_queries)


def test_settling_eight_times_the_units_takes_no_more_queries(django_assert_max_num_queries):
    sell(orders=3, units_per_line=1)
    with django_assert_max_num_queries(MAX_QUERIES):
        small = settle_counting()

    sell(orders=24, units_per_line=8)  # 64x the units of the first sale, 8x the lines
    with django_assert_max_num_queries(MAX_QUERIES):
        large = settle_counting()

    assert large == small
