"""On PostgreSQL a settlement line's order line, batch and household are checked in pairs: the
batch must be one its order line sold from, the household one with a share of that batch — and
what a line points at can no more be deleted than with the single-column keys the pairs replaced."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from logistics.models import BatchShare
from marketplace.models import OrderLineBatch
from marketplace.settlement.models import SettlementLine
from marketplace.settlement.services import settlement_run
from tests.households.factories import HouseholdFactory
from tests.marketplace.settlement_factories import allocation_year, packed_batch, sold_order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def settled_line(on_postgres) -> SettlementLine:
    allocation_year()
    batch = packed_batch({HouseholdFactory(): "2", HouseholdFactory(): "3"})
    sold_order([(batch, 5)])
    settlement_run()
    return SettlementLine.objects.order_by("id").first()


def refused(write) -> bool:
    """Whether the database refuses ``write`` once its deferred keys are checked."""
    try:
        with transaction.atomic():
            write()
            connection.check_constraints()
    except IntegrityError:
        return True
    return False


def copy_of(line: SettlementLine, **changes) -> SettlementLine:
    fields = {
        f.attname: getattr(line, f.attname) for f in SettlementLine._meta.concrete_fields if not f.primary_key
    }
    return SettlementLine(**{**fields, "kind": SettlementLine.Kind.SALE, "order_line_id": line.order_line_id, **changes})


def test_a_settlement_line_may_not_pay_a_household_without_a_share_of_its_batch(settled_line):
    stranger = HouseholdFactory()
    assert refused(lambda: copy_of(settled_line, household_id=stranger.pk).save())


def test_a_settlement_line_may_not_name_a_batch_its_order_line_did_not_sell_from(settled_line):
    other = packed_batch({settled_line.household: "1"})
    assert refused(lambda: copy_of(settled_line, batch_id=other.pk).save())


def test_what_a_settlement_line_points_at_cannot_be_deleted(settled_line):
    share = BatchShare.objects.get(batch_id=settled_line.batch_id, household_id=settled_line.household_id)
    link = OrderLineBatch.objects.get(line_id=settled_line.order_line_id, batch_id=settled_line.batch_id)
    assert refused(lambda: BatchShare.objects.filter(pk=share.pk)._raw_delete(share._state.db))
    assert refused(lambda: OrderLineBatch.objects.filter(pk=link.pk)._raw_delete(link._state.db))
