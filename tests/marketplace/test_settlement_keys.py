"""A settlement line's run, refund line, (order line, batch) and (batch, household) are checked by
the database once per statement (core/statement_keys.py), on PostgreSQL and SQLite alike: the
batch must be one its order line sold from, the household one with a share of that batch — and
what a line points at can be neither deleted (PostgreSQL) nor given another key."""

from __future__ import annotations

import pytest

from logistics.models import BatchShare
from marketplace.models import OrderLineBatch, RefundLine
from marketplace.settlement.models import SettlementLine, SettlementRun
from marketplace.settlement.services import settlement_run
from tests.households.factories import HouseholdFactory
from tests.marketplace.settlement_factories import allocation_year, packed_batch, refund, sold_order
from tests.refusals import refused

pytestmark = pytest.mark.django_db


@pytest.fixture
def settled_line() -> SettlementLine:
    allocation_year()
    batch = packed_batch({HouseholdFactory(): "2", HouseholdFactory(): "3"})
    order = sold_order([(batch, 5)])
    refund(order.lines.get(), batch, 1)
    settlement_run()
    return SettlementLine.objects.filter(kind="sale").order_by("id").first()


def copy_of(line: SettlementLine, **changes) -> SettlementLine:
    fields = {
        f.attname: getattr(line, f.attname) for f in SettlementLine._meta.concrete_fields if not f.primary_key
    }
    return SettlementLine(**{**fields, "kind": SettlementLine.Kind.SALE, "order_line_id": line.order_line_id, **changes})


def test_settlement_lines_name_what_they_were_settled_from(settled_line):
    # The run itself wrote sale and refund lines through every key.
    assert SettlementLine.objects.filter(kind="sale").count() == 2
    assert SettlementLine.objects.filter(kind="refund").count() == 2


def test_a_settlement_line_may_not_pay_a_household_without_a_share_of_its_batch(settled_line):
    stranger = HouseholdFactory()
    before = SettlementLine.objects.count()
    assert refused(lambda: copy_of(settled_line, household_id=stranger.pk).save())
    assert SettlementLine.objects.count() == before


def test_a_settlement_line_may_not_name_a_batch_its_order_line_did_not_sell_from(settled_line):
    other = packed_batch({settled_line.household: "1"})
    assert refused(lambda: copy_of(settled_line, batch_id=other.pk).save())


def test_a_settlement_line_needs_its_run_and_its_refund_line(settled_line):
    missing_run = (SettlementRun.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1000
    missing_refund = (RefundLine.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1000
    assert refused(lambda: copy_of(settled_line, run_id=missing_run, chunk=99).save())
    assert refused(lambda: copy_of(settled_line, kind="refund", refund_line_id=missing_refund).save())


def test_one_bad_line_in_a_many_row_insert_writes_none_of_them(settled_line):
    stranger = HouseholdFactory()
    before = SettlementLine.objects.count()
    good = copy_of(settled_line, chunk=7, kind="refund", refund_line_id=RefundLine.objects.get().pk)
    # The good row would break no key; the second would: the statement writes neither.
    assert refused(lambda: SettlementLine.objects.bulk_create([good, copy_of(settled_line, household_id=stranger.pk)]))
    assert SettlementLine.objects.count() == before


def test_a_settlement_line_may_not_be_moved_to_another_household(settled_line):
    stranger = HouseholdFactory()
    assert refused(lambda: SettlementLine.objects.filter(pk=settled_line.pk).update(household_id=stranger.pk))


def test_what_a_settlement_line_points_at_cannot_be_deleted(settled_line, on_postgres):
    # PostgreSQL only: SQLite leaves deletes to the models' PROTECT (core/statement_keys.py).
    share = BatchShare.objects.get(batch_id=settled_line.batch_id, household_id=settled_line.household_id)
    link = OrderLineBatch.objects.get(line_id=settled_line.order_line_id, batch_id=settled_line.batch_id)
    refund_line = RefundLine.objects.get()
    run = SettlementRun.objects.get(pk=settled_line.run_id)
    for row in (share, link, refund_line, run):
        assert refused(lambda row=row: type(row).objects.filter(pk=row.pk)._raw_delete(row._state.db)), row
        assert type(row).objects.filter(pk=row.pk).exists()


def test_what_a_settlement_line_points_at_cannot_change_its_key(settled_line):
    other = packed_batch({HouseholdFactory(): "1"})
    share = BatchShare.objects.get(batch_id=settled_line.batch_id, household_id=settled_line.household_id)
    assert refused(lambda: BatchShare.objects.filter(pk=share.pk).update(batch_id=other.pk))
    # A column outside the key changes freely.
    BatchShare.objects.filter(pk=share.pk).update(weight_kg=share.weight_kg)


def test_rows_no_line_points_at_can_still_be_deleted(settled_line):
    spare = packed_batch({HouseholdFactory(): "1"})
    share = BatchShare.objects.get(batch=spare)
    assert not refused(lambda: BatchShare.objects.filter(pk=share.pk)._raw_delete(share._state.db))
